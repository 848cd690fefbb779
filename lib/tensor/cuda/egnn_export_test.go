package cuda

import "testing"

// EmulatorDevice exposes the host kernel emulator (newEmulator) to the external tests
// (package cuda_test): a Device whose kernels run on the CPU, or a skip saying why it cannot be
// built.
func EmulatorDevice(t *testing.T) *Device { return newEmulator(t) }

// GPUDevice exposes the real test device (every launch synchronised) to the external tests, or
// skips saying why there is none.
func GPUDevice(t *testing.T) *Device { return gpu(t) }

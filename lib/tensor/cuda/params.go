package cuda

import (
	"fmt"
	"math"
	"unsafe"
)

// maxKernelArgs bounds the arguments of one kernel.
const maxKernelArgs = 24

// kernelArgs lays out the void** kernelParams of cuLaunchKernel: every argument value sits in
// its own 8-byte, 8-aligned slot of vals, and ptrs[i] points at slot i. Device pointers fill
// the slot (8 bytes); int32 and float32 values fill its first 4 bytes (little-endian), which
// is what the kernel reads for an int or float parameter. One kernelArgs is allocated per
// device, pinned for the device's life, and reset before each launch (the driver copies the
// values during cuLaunchKernel, so reuse after it returns is safe).
type kernelArgs struct {
	vals  [maxKernelArgs]uint64
	ptrs  [maxKernelArgs]unsafe.Pointer
	sizes [maxKernelArgs]uint8
	n     int
	err   error
}

func newKernelArgs() *kernelArgs {
	a := &kernelArgs{}
	for i := range a.ptrs {
		a.ptrs[i] = unsafe.Pointer(&a.vals[i])
	}
	return a
}

func (a *kernelArgs) reset() {
	a.n = 0
	a.err = nil
}

func (a *kernelArgs) put(v uint64, size uint8) {
	if a.n >= maxKernelArgs {
		if a.err == nil {
			a.err = fmt.Errorf("cuda: more than %d kernel arguments", maxKernelArgs)
		}
		return
	}
	a.vals[a.n] = v
	a.sizes[a.n] = size
	a.n++
}

// ptr appends a device pointer (CUdeviceptr, 8 bytes).
func (a *kernelArgs) ptr(p uint64) { a.put(p, 8) }

// i32 appends a C int.
func (a *kernelArgs) i32(v int32) { a.put(uint64(uint32(v)), 4) }

// int appends a Go int as a C int, recording an error when it does not fit.
func (a *kernelArgs) int(v int) {
	if v < math.MinInt32 || v > math.MaxInt32 {
		if a.err == nil {
			a.err = fmt.Errorf("cuda: kernel argument %d does not fit a 32-bit int", v)
		}
	}
	a.i32(int32(v))
}

// f32 appends a C float.
func (a *kernelArgs) f32(v float32) { a.put(uint64(math.Float32bits(v)), 4) }

// params is the void** to hand to cuLaunchKernel (nil when there are no arguments).
func (a *kernelArgs) params() unsafe.Pointer {
	if a.n == 0 {
		return nil
	}
	return unsafe.Pointer(&a.ptrs[0])
}

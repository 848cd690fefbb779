package nn

import (
	"testing"

	"adjoint/lib/tensor"
	"adjoint/lib/tensor/cuda"
)

// The device EGNN's numbers are checked against this package's EGNN in lib/tensor/cuda
// (TestEGNNEmulatedParity with the host kernel emulator, TestEGNNDeviceParity on a GPU); here
// only the argument checks that need no device.
func TestToDeviceArguments(t *testing.T) {
	m, err := NewEGNN(EGNNConfig{Particles: 3, SpatialDim: 2, Layers: 1, Hidden: 4})
	if err != nil {
		t.Fatal(err)
	}
	m64, err := newEGNN(EGNNConfig{Particles: 3, SpatialDim: 2, Layers: 1, Hidden: 4}, tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		m    *EGNN
		dev  *cuda.Device
	}{
		{"nil network", nil, &cuda.Device{}},
		{"nil device", m, nil},
		{"float64 network", m64, &cuda.Device{}},
	} {
		if d, err := ToDevice(tc.m, tc.dev); err == nil || d != nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if _, err := NewEGNNOn(EGNNConfig{Particles: 1, SpatialDim: 2}, nil); err == nil {
		t.Error("NewEGNNOn with one particle: no error")
	}
}

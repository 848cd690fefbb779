package dsl

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"adjoint/lib/tensor/cuda"
)

// DeviceEnergy evaluates a compiled Energy on a GPU: the kernels of CUDASource, compiled by
// NVRTC for the device. It implements energy.Energy; EnergyGrad copies the batch to the device,
// runs one kernel and copies the energies (and gradients) back. Calls are serialised (the
// device buffers are reused between calls). It is safe for concurrent use.
type DeviceEnergy struct {
	en      *Energy
	dev     *cuda.Device
	prog    *cudaProgram
	kE, kEG *cuda.Kernel

	mu      sync.Mutex
	x, e, g *cuda.Buffer64
	err     error
}

// OnDevice compiles the energy for a GPU. dev nil means the default device (cuda.Default,
// which ADJOINT_DEVICE controls); without one the error says why ("no CUDA device: …").
func (en *Energy) OnDevice(dev *cuda.Device) (*DeviceEnergy, error) {
	return en.OnDeviceWith(dev, CUDAOptions{})
}

// OnDeviceWith is OnDevice with options for the generated source.
func (en *Energy) OnDeviceWith(dev *cuda.Device, opt CUDAOptions) (*DeviceEnergy, error) {
	if en == nil {
		return nil, errors.New("dsl: OnDevice of a nil energy")
	}
	if dev == nil {
		d, err := cuda.Default()
		if err != nil {
			return nil, fmt.Errorf("dsl: no CUDA device: %w", err)
		}
		dev = d
	}
	p, err := en.cudaProgram(opt)
	if err != nil {
		return nil, err
	}
	m, err := dev.CompileModule(p.src, "dsl_energy.cu")
	if err != nil {
		return nil, fmt.Errorf("dsl: energy on %s: %w", dev, err)
	}
	de := &DeviceEnergy{en: en, dev: dev, prog: p}
	if de.kE, err = m.Kernel(p.kernE); err != nil {
		return nil, err
	}
	if de.kEG, err = m.Kernel(p.kernEG); err != nil {
		return nil, err
	}
	return de, nil
}

// Particles is the number of particles.
func (de *DeviceEnergy) Particles() int { return de.en.n }

// SpatialDim is the dimension of each particle.
func (de *DeviceEnergy) SpatialDim() int { return de.en.d }

// Device is the GPU the energy runs on.
func (de *DeviceEnergy) Device() *cuda.Device { return de.dev }

// Source is the CUDA C the kernels were compiled from.
func (de *DeviceEnergy) Source() string { return de.prog.src }

// Err is the error of the last EnergyGrad (nil when it succeeded). EnergyGrad cannot return
// errors (energy.Energy's signature); a failed call sets every energy to NaN.
func (de *DeviceEnergy) Err() error {
	de.mu.Lock()
	defer de.mu.Unlock()
	return de.err
}

// cudaMaxGrid bounds the blocks of one launch (blocks stride over larger batches).
const cudaMaxGrid = 1 << 16

// EnergyGrad evaluates a batch on the GPU: x holds len(e) configurations of n·d numbers; e
// receives the energies; grad, when not nil, receives the gradients. Slices that are too
// short, and device errors (see Err), give NaN energies.
func (de *DeviceEnergy) EnergyGrad(x, e, grad []float64) {
	de.mu.Lock()
	defer de.mu.Unlock()
	de.err = de.energyGrad(x, e, grad)
	if de.err != nil {
		for i := range e {
			e[i] = math.NaN()
		}
	}
}

// EnergyGradErr is EnergyGrad returning the error.
func (de *DeviceEnergy) EnergyGradErr(x, e, grad []float64) error {
	de.EnergyGrad(x, e, grad)
	return de.Err()
}

func (de *DeviceEnergy) energyGrad(x, e, grad []float64) error {
	B := len(e)
	nd := de.en.n * de.en.d
	if len(x) < B*nd || (grad != nil && len(grad) < B*nd) {
		return fmt.Errorf("dsl: EnergyGrad of %d configurations of %d numbers given %d coordinates and %d gradients", B, nd, len(x), len(grad))
	}
	if B == 0 {
		return nil
	}
	d := de.dev
	if err := de.reserve(B); err != nil {
		return err
	}
	if err := d.CopyHtoD64(de.x, x[:B*nd]); err != nil {
		return err
	}
	g := de.g
	if grad == nil {
		g = nil
	}
	if err := de.EnergyGradDevice(de.x, de.e, g, B); err != nil {
		return err
	}
	if err := d.CopyDtoH64(e, de.e); err != nil {
		return err
	}
	if !de.en.nonFiniteSeen.Load() {
		de.en.checkFinite(x, e, 0, B) // explained on the host, as on the CPU
	}
	if grad != nil {
		return d.CopyDtoH64(grad[:B*nd], de.g)
	}
	return nil
}

// EnergyGradDevice evaluates B configurations that are already in device memory: x holds
// B·n·d doubles, e receives B energies and grad, when not nil, B·n·d gradients. Nothing is
// copied; the work is queued on the device's stream (copies back to the host wait for it).
func (de *DeviceEnergy) EnergyGradDevice(x, e, grad *cuda.Buffer64, B int) error {
	nd := de.en.n * de.en.d
	if B < 0 || x.Len() < B*nd || e.Len() < B || (grad != nil && grad.Len() < B*nd) {
		return fmt.Errorf("dsl: EnergyGradDevice of %d configurations of %d numbers given buffers of %d, %d and %d", B, nd, x.Len(), e.Len(), grad.Len())
	}
	if B == 0 {
		return nil
	}
	k := de.kE
	if grad != nil {
		k = de.kEG
	}
	l := de.prog.layout
	return k.Launch([3]int{min((B+l.G-1)/l.G, cudaMaxGrid), 1, 1}, [3]int{l.T, 1, 1}, 0, x, e, grad, B)
}

// reserve makes the device buffers hold at least B configurations.
func (de *DeviceEnergy) reserve(B int) error {
	if de.e.Len() >= B {
		return nil
	}
	B = max(B, 2*de.e.Len())
	de.release()
	nd := de.en.n * de.en.d
	var err error
	if de.x, err = de.dev.Alloc64(B * nd); err != nil {
		return err
	}
	if de.g, err = de.dev.Alloc64(B * nd); err != nil {
		de.release()
		return err
	}
	if de.e, err = de.dev.Alloc64(B); err != nil {
		de.release()
		return err
	}
	return nil
}

func (de *DeviceEnergy) release() {
	for _, b := range []**cuda.Buffer64{&de.x, &de.e, &de.g} {
		if *b != nil {
			_ = de.dev.Free64(*b)
			*b = nil
		}
	}
}

// NonFinite returns the explanation of the first configuration evaluated through EnergyGrad
// whose energy was not finite although its coordinates were (see Energy.NonFinite).
func (de *DeviceEnergy) NonFinite() error { return de.en.NonFinite() }

// Close returns the device buffers to the device's pool.
func (de *DeviceEnergy) Close() error {
	de.mu.Lock()
	defer de.mu.Unlock()
	de.release()
	return nil
}

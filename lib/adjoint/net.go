package adjoint

import (
	"fmt"

	"adjoint/lib/nn"
	"adjoint/lib/tensor/cuda"
)

// NetKind is the controller network the configuration gets: Net.Kind when set, else the EGNN
// for systems with rotation and permutation symmetry and more than one particle, else the MLP.
func (c Config) NetKind() NetKind {
	if c.Net.Kind != NetAuto {
		return c.Net.Kind
	}
	sys := c.System
	if sys != nil && sys.Energy != nil && sys.Symmetry.Rotation && sys.Symmetry.Permutation && sys.Energy.Particles() > 1 {
		return NetEGNN
	}
	return NetMLP
}

// EGNNConfig is the EGNN the configuration builds (particles, width, depth, seed, learning
// rate), for building the same network elsewhere, e.g. on a GPU with nn.NewEGNNOn.
func (c Config) EGNNConfig() nn.EGNNConfig {
	sys := c.System
	return nn.EGNNConfig{
		Particles: sys.Energy.Particles(), SpatialDim: sys.Energy.SpatialDim(),
		Layers: c.Net.Layers, Hidden: c.Net.Hidden, TanhRange: c.Net.TanhRange, Seed: c.Seed, LR: c.LR,
	}
}

// buildModel builds the controller network of a configuration and says which one it built.
// Systems with rotation and permutation symmetry get the EGNN unless Net.Kind asks for the MLP;
// when the EGNN cannot be built the MLP is used and the note says why.
func buildModel(c Config) (nn.Model, string, error) {
	sys := c.System
	kind := c.NetKind()
	fallback := ""
	if kind == NetEGNN {
		m, err := nn.NewEGNN(c.EGNNConfig())
		if err == nil {
			note := fmt.Sprintf("egnn %d×%d", c.Net.Layers, c.Net.Hidden)
			if r := c.Net.TanhRange; r != 0 && r != 15 {
				note += fmt.Sprintf(", tanh range %g", r)
			}
			if c.Device == DeviceCUDA {
				dm, err := egnnOnGPU(m, nil)
				if err != nil {
					return m, note + " on the CPU (" + err.Error() + ")", nil
				}
				return dm, dm.Describe(), nil
			}
			return m, note, nil
		}
		fallback = fmt.Sprintf(" (EGNN unavailable: %v)", err)
	}
	hidden := make([]int, c.Net.Layers)
	for i := range hidden {
		hidden[i] = c.Net.Hidden
	}
	m, err := nn.NewMLP(nn.MLPConfig{Dim: sys.Dim(), Hidden: hidden, Activation: "silu", Seed: c.Seed, LR: c.LR})
	if err != nil {
		return nil, "", err
	}
	if c.Device == DeviceCUDA {
		fallback += " (on the CPU: only the EGNN runs on the GPU)"
	}
	return m, fmt.Sprintf("mlp %d×%d%s", c.Net.Layers, c.Net.Hidden, fallback), nil
}

// egnnOnGPU moves m, with its optimiser state, to dev (nil: the GPU cuda.Default selects), or
// says why it cannot.
func egnnOnGPU(m *nn.EGNN, dev *cuda.Device) (*nn.DeviceEGNN, error) {
	if dev == nil {
		d, err := cuda.Default()
		if err != nil {
			return nil, err
		}
		if d == nil {
			return nil, fmt.Errorf("no usable GPU")
		}
		dev = d
	}
	if err := dev.KernelsErr(); err != nil {
		return nil, err
	}
	if err := dev.BLASErr(); err != nil {
		return nil, err
	}
	return nn.ToDevice(m, dev)
}

// ToDevice moves the sampler's EGNN, with its optimiser state, to dev (nil: the GPU that
// cuda.Default selects), e.g. after Load; training and sampling continue there and checkpoints
// still save it. Other networks stay on the CPU, which is an error here.
func (s *Sampler) ToDevice(dev *cuda.Device) error {
	m, ok := s.model.(*nn.EGNN)
	if !ok {
		if _, on := s.model.(*nn.DeviceEGNN); on {
			return nil
		}
		return fmt.Errorf("adjoint: only the EGNN runs on the GPU, not the %T", s.model)
	}
	dm, err := egnnOnGPU(m, dev)
	if err != nil {
		return fmt.Errorf("adjoint: network to the GPU: %w", err)
	}
	return s.SetModel(dm)
}

package adjoint

import (
	"fmt"

	"adjoint/lib/nn"
)

// NetKind is the controller network the configuration gets: Net.Kind when set, else the EGNN
// for systems with rotation and permutation symmetry and more than one particle, else the MLP.
func (c Config) NetKind() string {
	if c.Net.Kind != "" {
		return c.Net.Kind
	}
	sys := c.System
	if sys != nil && sys.Energy != nil && sys.Symmetry.Rotation && sys.Symmetry.Permutation && sys.Energy.Particles() > 1 {
		return "egnn"
	}
	return "mlp"
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
	if kind == "egnn" {
		m, err := nn.NewEGNN(c.EGNNConfig())
		if err == nil {
			note := fmt.Sprintf("egnn %d×%d", c.Net.Layers, c.Net.Hidden)
			if r := c.Net.TanhRange; r != 0 && r != 15 {
				note += fmt.Sprintf(", tanh range %g", r)
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
	return m, fmt.Sprintf("mlp %d×%d%s", c.Net.Layers, c.Net.Hidden, fallback), nil
}

package nn_test

import (
	"fmt"

	"adjoint/lib/nn"
)

// An MLP controller for a 2-particle, 2-D system, one training step and a forward pass.
func ExampleNewMLP() {
	m, err := nn.NewMLP(nn.MLPConfig{Dim: 4, Hidden: []int{16, 16}, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	x := []float32{1, 0, -1, 0, 0, 1, 0, -1} // two states
	t := []float32{0.2, 0.9}
	target := make([]float32, len(x))
	if _, err := m.TrainStep(x, t, target); err != nil {
		fmt.Println(err)
		return
	}
	out := make([]float32, len(x))
	fmt.Println(m.Forward(x, t, out), m.Dim(), m.NumParams())
	// Output: <nil> 4 500
}

// The EGNN of the synthetic benchmarks (5 layers × 128, attention) for DW-4.
func ExampleNewEGNN() {
	m, err := nn.NewEGNN(nn.EGNNConfig{Particles: 4, SpatialDim: 2, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	c := m.Config()
	fmt.Println(m.Dim(), c.Layers, c.Hidden, *c.Attention, m.NumParams())
	// Output: 8 5 128 true 579461
}

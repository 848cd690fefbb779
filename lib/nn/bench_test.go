package nn

import (
	"math/rand/v2"
	"testing"
)

func benchEGNN(b *testing.B, n, d, batch, layers, hidden int) {
	m, err := NewEGNN(EGNNConfig{Particles: n, SpatialDim: d, Layers: layers, Hidden: hidden, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x, t, y := make([]float32, batch*n*d), make([]float32, batch), make([]float32, batch*n*d)
	for i := range x {
		x[i], y[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	for i := range t {
		t[i] = float32(rng.Float64())
	}
	if _, err := m.TrainStep(x, t, y); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.TrainStep(x, t, y); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEGNNTrainStepDW4 is one training step at the paper's size (5 × 128) on DW-4, batch 128.
func BenchmarkEGNNTrainStepDW4(b *testing.B) { benchEGNN(b, 4, 2, 128, 5, 128) }

// BenchmarkEGNNTrainStepLJ13 is one training step (5 × 128) on LJ-13, batch 32.
func BenchmarkEGNNTrainStepLJ13(b *testing.B) { benchEGNN(b, 13, 3, 32, 5, 128) }

// BenchmarkMLPTrainStep is one training step of a 3 × 128 MLP on a 39-dimensional state,
// batch 512.
func BenchmarkMLPTrainStep(b *testing.B) {
	m, err := NewMLP(MLPConfig{Dim: 39, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	B := 512
	x, t, y := make([]float32, B*39), make([]float32, B), make([]float32, B*39)
	if _, err := m.TrainStep(x, t, y); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.TrainStep(x, t, y); err != nil {
			b.Fatal(err)
		}
	}
}

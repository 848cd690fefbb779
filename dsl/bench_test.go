package dsl

import (
	"math/rand/v2"
	"testing"

	"adjoint/lib/energy"
)

func benchEnergy(b *testing.B, en energy.Energy, batch int, withGrad bool) {
	nd := en.Particles() * en.SpatialDim()
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float64, batch*nd)
	for i := range x {
		x[i] = 1.5 * rng.NormFloat64()
	}
	e := make([]float64, batch)
	var g []float64
	if withGrad {
		g = make([]float64, batch*nd)
	}
	b.ResetTimer()
	for b.Loop() {
		en.EnergyGrad(x, e, g)
	}
}

// BenchmarkLJ13 compares the DSL-compiled LJ-13 with the hand-written energy.NewLJ(13) on a
// batch of 512 configurations (energy and gradient).
func BenchmarkLJ13(b *testing.B) {
	lj, err := energy.NewLJ(13)
	if err != nil {
		b.Fatal(err)
	}
	sys := compileOne(b, lj13Src)
	b.Run("handwritten", func(b *testing.B) { benchEnergy(b, lj, 512, true) })
	b.Run("dsl", func(b *testing.B) { benchEnergy(b, sys.Energy, 512, true) })
}

// BenchmarkDW4 compares the DSL-compiled DW-4 with energy.NewDW4() on a batch of 512.
func BenchmarkDW4(b *testing.B) {
	sys := compileOne(b, dw4Src)
	b.Run("handwritten", func(b *testing.B) { benchEnergy(b, energy.NewDW4(), 512, true) })
	b.Run("dsl", func(b *testing.B) { benchEnergy(b, sys.Energy, 512, true) })
}

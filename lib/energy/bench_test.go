package energy

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkEnergyGrad measures one batched energy-and-gradient call of the paper's batch sizes.
func BenchmarkEnergyGrad(b *testing.B) {
	for _, c := range []struct {
		name  string
		batch int
	}{{"dw4", 512}, {"lj13", 512}, {"lj55", 200}} {
		b.Run(c.name, func(b *testing.B) {
			sys, err := Benchmark(c.name)
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 1))
			x := make([]float64, c.batch*sys.Dim())
			for i := range x {
				x[i] = 2 * rng.NormFloat64()
			}
			e, g := make([]float64, c.batch), make([]float64, len(x))
			b.ResetTimer()
			for range b.N {
				sys.Energy.EnergyGrad(x, e, g)
			}
			b.ReportMetric(float64(c.batch*b.N)/b.Elapsed().Seconds(), "configs/s")
		})
	}
}

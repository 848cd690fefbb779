package metrics

import (
	"adjoint/lib/sde"
	"math/rand/v2"
	"testing"
)

// latticeCluster returns n particles on a jittered cubic lattice of spacing 1, centred:
// liquid-like clusters for timing.
func latticeCluster(rng *rand.Rand, n int) []float64 {
	side := 1
	for side*side*side < n {
		side++
	}
	perm := rng.Perm(side * side * side)
	x := make([]float64, 0, 3*n)
	for p := range n {
		s := perm[p]
		for range 3 {
			x = append(x, float64(s%side)+0.15*rng.NormFloat64())
			s /= side
		}
	}
	sde.RemoveCoM(x, n, 3)
	return x
}

// BenchmarkAlignedPair times one D² evaluation (matching + Kabsch) for LJ-13 and LJ-55 sizes.
func BenchmarkAlignedPair(b *testing.B) {
	for _, n := range []int{13, 55} {
		b.Run(map[int]string{13: "n13", 55: "n55"}[n], func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, uint64(n)))
			const k = 64
			xs := make([][]float64, k)
			for i := range xs {
				xs[i] = latticeCluster(rng, n)
			}
			pa := newPairAligner(n, 3)
			i := 0
			for b.Loop() {
				x, y := xs[i%k], xs[(i*7+1)%k]
				pa.dist2(x, y, dot(x, x), dot(y, y))
				i++
			}
		})
	}
}

// BenchmarkGeometricW2 times the whole metric on 200 vs 200 LJ-55-sized clusters.
func BenchmarkGeometricW2LJ55(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	var x, y []float64
	for range 200 {
		x = append(x, latticeCluster(rng, 55)...)
		y = append(y, latticeCluster(rng, 55)...)
	}
	for b.Loop() {
		if _, err := GeometricW2(x, y, 55, 3); err != nil {
			b.Fatal(err)
		}
	}
}

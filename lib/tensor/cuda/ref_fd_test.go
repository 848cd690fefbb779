package cuda

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestReferenceVJPs checks the finite-difference machinery the device tests rely on against
// closed-form derivatives, on the CPU.
func TestReferenceVJPs(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	rnd := func(n int) []float64 { return to64(randSlice(r, n)) }
	// SqNorm: d/dx Σ dy_r |x_r|² = 2 dy_r x_r.
	x, dy := rnd(12), rnd(4)
	g := vjp(func(in [][]float64) []float64 { return refSqNorm(in[0], 4, 3) }, [][]float64{x}, 0, dy)
	for i := range x {
		if want := 2 * dy[i/3] * x[i]; math.Abs(g[i]-want) > 1e-6 {
			t.Fatalf("SqNorm vjp[%d] = %v, want %v", i, g[i], want)
		}
	}
	// PairDiff: dx_i = Σ_j dy(i,j) − Σ_j dy(j,i).
	B, n, d := 2, 4, 3
	x, dy = rnd(B*n*d), rnd(B*n*(n-1)*d)
	g = vjp(func(in [][]float64) []float64 { return refPairDiff(in[0], B, n, d) }, [][]float64{x}, 0, dy)
	for b := 0; b < B; b++ {
		for i := 0; i < n; i++ {
			for c := 0; c < d; c++ {
				var want float64
				for j := 0; j < n; j++ {
					if j != i {
						want += dy[((b*n+i)*(n-1)+slot(i, j))*d+c] - dy[((b*n+j)*(n-1)+slot(j, i))*d+c]
					}
				}
				if got := g[(b*n+i)*d+c]; math.Abs(got-want) > 1e-6 {
					t.Fatalf("PairDiff vjp (%d,%d,%d) = %v, want %v", b, i, c, got, want)
				}
			}
		}
	}
	// SiLU: d/dz z·σ(z) = σ(z)(1 + z(1 − σ(z))).
	for _, z := range []float64{-3, -0.5, 0, 0.7, 4} {
		num := vjp(func(in [][]float64) []float64 { return []float64{refAct(ActSiLU, in[0][0])} }, [][]float64{{z}}, 0, []float64{1})[0]
		s := sigmoid64(z)
		if want := s * (1 + z*(1-s)); math.Abs(num-want) > 1e-6 {
			t.Errorf("SiLU'(%v) = %v, want %v", z, num, want)
		}
	}
}

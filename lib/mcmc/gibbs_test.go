package mcmc

import (
	"context"
	"math"
	"testing"

	"adjoint/lib/energy"
)

// TestGibbsCrossesBarriers: Gibbs sweeps from a collapsed start reach the right masses where
// MALA and HMC moves cannot. On the 2-D torus with unequal wells every chain starts at one point
// and the region masses must match quadrature; on manywell32 every coordinate starts in the
// minor well (x = −1.7) and the share of positive first coordinates must match the 1-D
// quadrature of exp(−(x⁴ − 6x² − 0.5x)). Bounds: four binomial standard errors plus 0.005.
func TestGibbsCrossesBarriers(t *testing.T) {
	quiet(t)
	t.Run("torus", func(t *testing.T) {
		const tau = 0.8
		sys := &energy.System{Name: "torus", Energy: torusEnergy{}, Temperature: tau, Box: []float64{2 * math.Pi, 2 * math.Pi}}
		want := torusMasses(tau)
		const n = 6000
		x := make([]float64, 2*n)
		for i := range n {
			x[2*i], x[2*i+1] = 0.3, -0.2
		}
		res, err := Refine(context.Background(), sys, x, 4, RefineOptions{Method: Gibbs, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		var got [4]float64
		for i := range n {
			a, b := res.Samples[2*i], res.Samples[2*i+1]
			if !(a > -math.Pi && a <= math.Pi && b > -math.Pi && b <= math.Pi) {
				t.Fatalf("sample (%g, %g) outside the box", a, b)
			}
			got[torusRegion(a, b)]++
		}
		for r := range want {
			p, q := want[r], got[r]/n
			se := math.Sqrt(p * (1 - p) / n)
			t.Logf("region %d: %.4f, quadrature %.4f (accept %.3f)", r, q, p, res.Accept)
			if math.Abs(p-q) > 4*se+0.005 {
				t.Errorf("region %d: mass %.4f, quadrature %.4f", r, q, p)
			}
		}
	})
	t.Run("manywell32", func(t *testing.T) {
		sys, err := energy.Benchmark("manywell32")
		if err != nil {
			t.Fatal(err)
		}
		var zp, z float64
		for i := range 200000 {
			v := -6 + (float64(i)+0.5)*12/200000
			w := math.Exp(-(v*v*v*v - 6*v*v - 0.5*v))
			z += w
			if v > 0 {
				zp += w
			}
		}
		const n = 1500
		dim := sys.Dim()
		x := make([]float64, n*dim)
		for i := range x {
			x[i] = -1.7
		}
		res, err := Refine(context.Background(), sys, x, 2, RefineOptions{Method: Gibbs, Seed: 6})
		if err != nil {
			t.Fatal(err)
		}
		var pos float64
		for i := range n {
			for k := 0; k < dim; k += 2 {
				if res.Samples[i*dim+k] > 0 {
					pos++
				}
			}
		}
		pos /= float64(n * dim / 2)
		p := zp / z
		se := math.Sqrt(p * (1 - p) / float64(n*dim/2))
		t.Logf("P(x > 0) %.4f, quadrature %.4f (accept %.3f)", pos, p, res.Accept)
		if math.Abs(pos-p) > 4*se+0.005 {
			t.Errorf("P(x > 0) %.4f after Gibbs sweeps, quadrature %.4f", pos, p)
		}
	})
}

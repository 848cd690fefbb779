package adjoint

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"adjoint/lib/energy"
)

// gmm40Draws draws n exact gmm40 samples from the modes kept (all when keep is nil).
func gmm40Draws(n int, keep func(mode int) bool, seed uint64) []float64 {
	means := energy.GMM40Means()
	rng := rand.New(rand.NewPCG(seed, 7))
	var modes []int
	for m := range means {
		if keep == nil || keep(m) {
			modes = append(modes, m)
		}
	}
	x := make([]float64, 0, 2*n)
	for range n {
		m := means[modes[rng.IntN(len(modes))]]
		x = append(x, m[0]+energy.GMM40Std*rng.NormFloat64(), m[1]+energy.GMM40Std*rng.NormFloat64())
	}
	return x
}

// TestCheckCoverage: exact samples of every mode raise no coverage warning; samples of half
// the modes, or of one well of a torus, do; systems with particle symmetries or many dimensions
// are skipped.
func TestCheckCoverage(t *testing.T) {
	gmm := &energy.System{Name: "gmm", Energy: energy.NewGMM40()}
	torus := &energy.System{Name: "torus", Energy: energy.NewTorus3(), Box: []float64{2 * math.Pi, 2 * math.Pi}}
	// torus3 by rejection from the uniform box: exact samples; "one well" keeps those near
	// the deepest well only
	torusDraws := func(n int, oneWell bool) []float64 {
		rng := rand.New(rand.NewPCG(3, 9))
		w := energy.NewTorus3()
		var x []float64
		for len(x) < 2*n {
			a, b := (rng.Float64()-0.5)*2*math.Pi, (rng.Float64()-0.5)*2*math.Pi
			e, _, _ := w.Eval(a, b)
			if rng.Float64() > math.Exp(-e-6) { // E ≥ −6 everywhere
				continue
			}
			if oneWell && math.Hypot(a+1.6, b+1.4) > 1.2 {
				continue
			}
			x = append(x, a, b)
		}
		return x
	}
	for _, tc := range []struct {
		name string
		sys  *energy.System
		x    []float64
		warn bool
	}{
		{"gmm40, every mode", gmm, gmm40Draws(4000, nil, 1), false},
		{"gmm40, half of the modes", gmm, gmm40Draws(4000, func(m int) bool { return m%2 == 0 }, 1), true},
		{"torus3, exact", torus, torusDraws(3000, false), false},
		{"torus3, one well", torus, torusDraws(3000, true), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := CheckCoverage(tc.sys, tc.x, 1)
			if err != nil {
				t.Fatal(err)
			}
			if c.Skipped != "" || c.Chains < 50 {
				t.Fatalf("check did not run: %+v", c)
			}
			w := c.Warning()
			if (w != "") != tc.warn {
				t.Fatalf("missed %d of %d chains (radius %.3g): warning %q, want one: %v", c.Missed, c.Chains, c.Radius, w, tc.warn)
			}
			if tc.warn && (!strings.Contains(w, "may have missed modes") || len(c.Examples) == 0) {
				t.Errorf("warning %q, examples %v", w, c.Examples)
			}
		})
	}
	// half the gmm40 modes missing: a good share of the chains (most start near the origin and
	// end in the modes there) sees no sample
	c, _ := CheckCoverage(gmm, gmm40Draws(4000, func(m int) bool { return m%2 == 0 }, 1), 1)
	if f := float64(c.Missed) / float64(c.Chains); f < 0.1 || f > 0.75 {
		t.Errorf("half the modes missing: %d of %d chains missed", c.Missed, c.Chains)
	}
	sys, err := energy.Benchmark("dw4")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := CheckCoverage(sys, make([]float64, 10*sys.Dim()), 1); err != nil || c.Skipped == "" || len(c.Warnings()) != 0 {
		t.Errorf("dw4: %+v, %v; want the check skipped", c, err)
	}
	// manywell32: no nearness in 32 dimensions, but samples all on the barrier top (x = 0) fail
	// the Gibbs check
	mw, err := energy.Benchmark("manywell32")
	if err != nil {
		t.Fatal(err)
	}
	c, err = CheckCoverage(mw, make([]float64, 50*mw.Dim()), 1)
	if err != nil || c.Skipped != "" || c.NearSkipped == "" || c.Warning() != "" || c.Gibbs == nil || c.GibbsAxes != mw.Dim() {
		t.Fatalf("manywell32 at the origin: %+v, %v; want the Gibbs check only", c, err)
	}
	if w := c.Warnings(); len(w) != 1 || !strings.Contains(w[0], "Gibbs update") {
		t.Errorf("manywell32 at the origin: warnings %q, want the Gibbs check's", w)
	}
}

package adjoint

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// gaussianSamples draws n points of N(0, s² I) in d dimensions with their exact log importance
// weights toward N(0, I) (energy ½‖x‖²), up to a constant.
func gaussianSamples(n, d int, s float64, seed uint64) *Samples {
	r := rand.New(rand.NewPCG(seed, 1))
	sm := &Samples{N: n, Particles: 1, SpatialDim: d, X: make([]float64, n*d), Energy: make([]float64, n), LogW: make([]float64, n)}
	for i := 0; i < n; i++ {
		var r2 float64
		for j := 0; j < d; j++ {
			x := s * r.NormFloat64()
			sm.X[i*d+j] = x
			r2 += x * x
		}
		sm.Energy[i] = 0.5 * r2
		sm.LogW[i] = -0.5*r2 + 0.5*r2/(s*s) // log p − log q, constants left out
	}
	sm.ESS = ESS(sm.LogW)
	return sm
}

// TestRawCheck: samples from a proposal wider than the target, with exact weights, are flagged
// (their unweighted energies run hot); exact samples and a proposal within a few percent of the
// target are not; too few effective samples leave the check out.
func TestRawCheck(t *testing.T) {
	for _, tc := range []struct {
		name    string
		s       float64
		d       int
		warn    bool
		skipped bool
	}{
		{"exact", 1, 3, false, false},
		{"2% wide", 1.02, 3, false, false},
		{"30% wide", 1.3, 3, true, false},
		{"30% wide in 10-D", 1.3, 10, true, false},
		{"far too wide", 6, 10, false, true},
	} {
		sm := gaussianSamples(4000, tc.d, tc.s, 7)
		axes := sm.RawCheck()
		if tc.skipped {
			if axes != nil {
				t.Errorf("%s: ESS %.0f, checked anyway", tc.name, sm.ESS)
			}
			continue
		}
		if len(axes) != tc.d+1 || axes[0].Name != "energy" {
			t.Fatalf("%s: axes %+v", tc.name, axes)
		}
		// the weighted mean energy is the target's, d/2, within a few standard errors
		if e := axes[0].WeightedMean; math.Abs(e-float64(tc.d)/2) > 6*math.Sqrt(float64(tc.d)/2/sm.ESS) {
			t.Errorf("%s: weighted mean energy %.3f, want %.1f", tc.name, e, float64(tc.d)/2)
		}
		w := sm.RawWarning()
		if (w != "") != tc.warn {
			t.Errorf("%s: warning %q (energy TV %.3f, noise %.3f)", tc.name, w, axes[0].TV, axes[0].Noise)
		}
		if tc.warn && !strings.Contains(w, "resample") {
			t.Errorf("%s: the warning says nothing to try: %q", tc.name, w)
		}
		if tc.warn && !strings.Contains(strings.Join(sm.Warnings(), "\n"), w) {
			t.Errorf("%s: Samples.Warnings lacks the raw warning", tc.name)
		}
	}
	// resampled samples are equally weighted: nothing to compare
	sm := gaussianSamples(4000, 3, 1.3, 8)
	rs, err := sm.Resample(1)
	if err != nil {
		t.Fatal(err)
	}
	if w := rs.RawWarning(); w != "" {
		t.Errorf("resampled samples warn: %q", w)
	}
}

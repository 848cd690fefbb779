package adjoint

import (
	"math"
	"strings"
	"testing"
)

// essFrac is the ESS fraction (Σw)²/(n Σw²) of the weights w.
func essFrac(w []float64) float64 {
	var s1, s2 float64
	for _, v := range w {
		s1 += v
		s2 += v * v
	}
	return s1 * s1 / (s2 * float64(len(w)))
}

// TestBufferTemper: the draw distribution is ∝ w^β with the largest β whose ESS fraction reaches
// the target; zero weights are never drawn, unknown ones are drawn at the mean weight, and pick
// follows the distribution.
func TestBufferTemper(t *testing.T) {
	ninf, nan := math.Inf(-1), math.NaN()
	tests := []struct {
		name     string
		lw       []float64
		frac     float64
		wantBeta float64 // −1: solve for ESS = frac
		probs    []float64
	}{
		{"untempered when the ESS allows", []float64{0, math.Log(3)}, 0.5, 1, []float64{0.25, 0.75}},
		{"equal weights", []float64{2, 2, 2}, 1, 1, []float64{1. / 3, 1. / 3, 1. / 3}},
		{"tempered to the target", []float64{0, 0, 0, 8}, 0.6, -1, nil},
		{"zero weights never drawn", []float64{ninf, 0, ninf, math.Log(2)}, 0.1, 1, []float64{0, 1. / 3, 0, 2. / 3}},
		{"unknown weights at the mean", []float64{0, math.Log(3), nan}, 0.1, 1, []float64{1. / 6, 3. / 6, 2. / 6}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := buffer{cap: len(tc.lw), dim: 1, n: len(tc.lw), lw: tc.lw}
			beta, ess := b.temper(tc.frac)
			if b.cdf == nil {
				t.Fatal("no draw distribution")
			}
			p := make([]float64, b.n)
			prev := 0.0
			for j, c := range b.cdf {
				p[j] = (c - prev) / b.cdf[b.n-1]
				prev = c
			}
			if ess < tc.frac-1e-9 || math.Abs(essFrac(p)-ess) > 1e-9 {
				t.Fatalf("ESS fraction %v (of the distribution %v), target %v", ess, essFrac(p), tc.frac)
			}
			if tc.wantBeta >= 0 && beta != tc.wantBeta {
				t.Fatalf("β = %v, want %v", beta, tc.wantBeta)
			}
			if tc.wantBeta < 0 && (!(beta > 0 && beta < 1) || math.Abs(ess-tc.frac) > 1e-6) {
				t.Fatalf("β = %v with ESS %v, want the β in (0, 1) with ESS %v", beta, ess, tc.frac)
			}
			if tc.wantBeta < 0 { // w^β with the largest weight e^{8β}
				want := math.Exp(8*beta) / (3 + math.Exp(8*beta))
				if math.Abs(p[3]-want) > 1e-9 {
					t.Fatalf("tempered probability %v, want %v", p[3], want)
				}
			}
			for j, q := range tc.probs {
				if math.Abs(p[j]-q) > 1e-12 {
					t.Fatalf("probabilities %v, want %v", p, tc.probs)
				}
			}
			const draws = 60000
			count := make([]float64, b.n)
			for k := range draws {
				count[b.pick((float64(k)+0.5)/draws)]++
			}
			for j := range count {
				if math.Abs(count[j]/draws-p[j]) > 1e-3 {
					t.Fatalf("pick frequencies %v, want %v", count, p)
				}
			}
		})
	}
	b := buffer{cap: 2, dim: 1, n: 2, lw: []float64{ninf, ninf}}
	if b.temper(0.5); b.cdf != nil {
		t.Fatal("all weights zero: want uniform draws")
	}
	if j := b.pick(0.7); j != 1 {
		t.Fatalf("uniform pick(0.7) of 2 = %d", j)
	}
}

// TestRefineBuffer: with Config.RefineBuffer the buffer holds samples moved toward the target.
// The target is N(0, 0.3² I) in 2-D; an untrained controller with σ = 1 gives terminal states of
// variance about κ(1) = 1. After one epoch the buffer's variance is about 1 as drawn, and near
// 0.09 after 200 MALA steps (from the default step size; in training each batch starts from the step size the last adapted to) or 2 Gibbs sweeps; the batch diagnostics still weigh the model's own
// samples.
func TestRefineBuffer(t *testing.T) {
	for _, tc := range []struct {
		method string
		k      int
		lo, hi float64
	}{{"", 0, 0.6, 1.6}, {"mala", 200, 0.07, 0.11}, {"gibbs", 2, 0.07, 0.11}} {
		cfg := gaussConfig(t, 2, 0.3)
		cfg.GradSteps, cfg.RefineBuffer, cfg.RefineMethod = 0, tc.k, tc.method
		s, err := NewSampler(cfg)
		if err != nil {
			t.Fatal(err)
		}
		evals0 := s.trainEvals
		if _, err := s.runEpoch(t.Context(), true, nil); err != nil {
			t.Fatal(err)
		}
		v := variance(s.buf.x)
		t.Logf("%q × %d: buffer variance %.4f, batch ESS %.1f, evaluations %d", tc.method, tc.k, v, s.lastDiag.ESS, s.trainEvals-evals0)
		if v < tc.lo || v > tc.hi {
			t.Errorf("%q × %d: buffer variance %.4f, want within [%g, %g]", tc.method, tc.k, v, tc.lo, tc.hi)
		}
		if s.lastDiag == nil || s.lastDiag.ESS > 0.9*float64(cfg.Batch) {
			t.Errorf("%q × %d: the batch diagnostics %+v do not weigh the model's own (wrong) samples", tc.method, tc.k, s.lastDiag)
		}
		if tc.k > 0 && s.trainEvals-evals0 < int64(tc.k*cfg.Batch) {
			t.Errorf("%q × %d: %d evaluations counted", tc.method, tc.k, s.trainEvals-evals0)
		}
	}
	cfg := gaussConfig(t, 2, 0.3)
	cfg.RefineBuffer, cfg.Reweight = 5, 0.5
	if _, err := NewSampler(cfg); err == nil || !strings.Contains(err.Error(), "do not combine") {
		t.Errorf("reweight with refine_buffer: %v", err)
	}
	cfg.Reweight, cfg.RefineMethod = 0, "metropolis"
	if _, err := NewSampler(cfg); err == nil {
		t.Error("unknown refine method accepted")
	}
}

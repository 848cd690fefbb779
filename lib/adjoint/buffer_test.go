package adjoint

import (
	"math"
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

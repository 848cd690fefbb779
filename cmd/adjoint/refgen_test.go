package main

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"adjoint/lib/energy"
	"adjoint/lib/npy"
)

// TestImportanceResamplerGaussian checks the resampler against closed forms on a Gaussian
// target N(0, σ² I) on the zero-CoM space of 4 particles in 2-D (d_eff = 6) with the proposal
// N(0, s² I): E‖y‖² = 6σ², and ESS/draws = (σ·sqrt(2s² − σ²)/s²)^6.
func TestImportanceResamplerGaussian(t *testing.T) {
	const sigma, s, draws, m = 1.0, 2.0, 300_000, 4000
	q, err := energy.NewQuadratic(4, 2, sigma)
	if err != nil {
		t.Fatal(err)
	}
	sys := &energy.System{Name: "gauss", Energy: q, Temperature: 1, Symmetry: energy.Symmetry{Translation: true}}
	g := &isResampler{sys: sys, draws: draws, scale: s, seed: 3}
	x, ids, st, err := g.run(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	want := math.Pow(sigma*math.Sqrt(2*s*s-sigma*sigma)/(s*s), 6)
	if r := st.ess / draws; math.Abs(r/want-1) > 0.1 {
		t.Errorf("ESS/draws %.4f, want %.4f", r, want)
	}
	var r2 float64
	for i := range m {
		for j := range 8 {
			r2 += x[i*8+j] * x[i*8+j]
		}
	}
	r2 /= m
	// sd of ‖y‖² for χ²₆ σ²: sqrt(12) σ²; the mean over m has sd sqrt(12/m).
	if math.Abs(r2-6*sigma*sigma) > 4*math.Sqrt(12.0/m) {
		t.Errorf("E‖y‖² = %.3f, want %g", r2, 6*sigma*sigma)
	}
	// The energy ‖y‖²/(2σ²) is χ²₆/2: mean 3, sd sqrt(3).
	if math.Abs(st.meanE-3) > 0.05 || math.Abs(st.sdE-math.Sqrt(3)) > 0.05 {
		t.Errorf("weighted energy %.3f ± %.3f, want 3 ± %.3f", st.meanE, st.sdE, math.Sqrt(3))
	}
	var sum float64
	for _, f := range st.shortPairs {
		sum += f
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("short-pair fractions sum to %g", sum)
	}
	if !slices.IsSorted(ids) || ids[m-1] >= draws {
		t.Error("draw indices out of order or range")
	}
}

// TestRefgenReproducible: the output depends on the seed only, not on the number of threads,
// and the command prints its ESS and writes n centred DW-4 configurations.
func TestRefgenReproducible(t *testing.T) {
	dir := t.TempDir()
	run := func(name string, seed string, procs int) (refgenResult, []float64) {
		t.Helper()
		prev := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(prev)
		out := filepath.Join(dir, name)
		line, err := stdoutOf(t, func() error {
			return runRefgen([]string{"dw4", "--draws", "2500000", "-n", "500", "--seed", seed, "-o", out})
		})
		if err != nil {
			t.Fatal(err)
		}
		var r refgenResult
		if err := json.Unmarshal([]byte(strings.TrimSpace(line)), &r); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		a, err := npy.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if rows, cols := a.Rows(); rows != 500 || cols != 8 || a.DType != "float32" {
			t.Fatalf("output %v %s", a.Shape, a.DType)
		}
		return r, a.Data
	}
	r1, x1 := run("a.npy", "5", 1)
	r2, x2 := run("b.npy", "5", 2)
	_, x3 := run("c.npy", "6", 2)
	if !slices.Equal(x1, x2) || r1.ESS != r2.ESS {
		t.Fatal("output depends on the number of threads")
	}
	if slices.Equal(x1, x3) {
		t.Fatal("seeds 5 and 6 give the same output")
	}
	// 2.5e6 draws at scale 2.2 give an ESS near 1600 (6.5e-4 per draw).
	if !(r1.ESS > 800 && r1.ESS < 3000) || r1.Distinct < 400 || r1.Distinct > 500 {
		t.Fatalf("ESS %.0f, %d distinct of 500", r1.ESS, r1.Distinct)
	}
	if !(r1.WeightedMeanEnergy > -23 && r1.WeightedMeanEnergy < -22) || math.Abs(r1.WeightedShortPairs[2]-0.518) > 0.06 {
		t.Fatalf("weighted estimates: energy %.3f, two short pairs %.3f", r1.WeightedMeanEnergy, r1.WeightedShortPairs[2])
	}
	for i := range 500 {
		for c := range 2 {
			if m := x1[i*8+c] + x1[i*8+2+c] + x1[i*8+4+c] + x1[i*8+6+c]; math.Abs(m) > 1e-5 {
				t.Fatalf("sample %d not centred", i)
			}
		}
	}
	for _, args := range [][]string{
		{"lj13", "-o", filepath.Join(dir, "x.npy")},
		{"dw4"},
		{"dw4", "--draws", "0", "-o", filepath.Join(dir, "x.npy")},
		{"dw4", "--scale", "-1", "-o", filepath.Join(dir, "x.npy")},
	} {
		if _, err := stdoutOf(t, func() error { return runRefgen(args) }); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

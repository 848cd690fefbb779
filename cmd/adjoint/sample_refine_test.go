package main

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"adjoint/lib/energy"
	"adjoint/lib/npy"
)

// `adjoint sample --refine K` moves the samples by MALA on the true energy: the refined DW-4
// samples have finite energies, a lower mean energy than the barely trained sampler's, and a
// refine with --weights but without --resample is refused.
func TestSampleRefine(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "dw4.ckpt")
	if err := runTrain(append([]string{"dw4", "--epochs", "1", "-o", ck}, tiny...)); err != nil {
		t.Fatal(err)
	}
	plain, refined := filepath.Join(dir, "a.npy"), filepath.Join(dir, "b.npy")
	if _, _, err := outputsOf(t, func() error { return runSample([]string{ck, "-n", "64", "-o", plain}) }); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := outputsOf(t, func() error { return runSample([]string{ck, "-n", "64", "-o", refined, "--refine", "100"}) })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "refined 64 samples by 100 MALA moves") {
		t.Errorf("stderr %q", stderr)
	}
	sys, _ := energy.Benchmark("dw4")
	mean := func(path string) float64 {
		a, err := npy.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		e := make([]float64, 64)
		sys.Energy.EnergyGrad(a.Data, e, nil)
		s := 0.0
		for _, v := range e {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%s: non-finite energy", path)
			}
			s += v
		}
		return s / 64
	}
	if a, b := mean(plain), mean(refined); !(b < a) {
		t.Errorf("mean energy %g before refining, %g after: want lower", a, b)
	}
	err = runSample([]string{ck, "-n", "8", "-o", refined, "--refine", "5", "--weights", filepath.Join(dir, "w.npy")})
	if err == nil || !strings.Contains(err.Error(), "no path weights") {
		t.Errorf("--refine with --weights: %v", err)
	}
}

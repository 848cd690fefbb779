package main

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"adjoint/lib/adjoint"
	"adjoint/lib/npy"
)

func TestFitCommand(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, 40*8)
	for i := range x {
		x[i] = 2 * rng.NormFloat64()
	}
	from, ck := filepath.Join(dir, "x.npy"), filepath.Join(dir, "fit.ckpt")
	if err := npy.WriteFile(from, []int{40, 4, 2}, x, "float64"); err != nil {
		t.Fatal(err)
	}
	out, err := stdoutOf(t, func() error {
		return runFit([]string{"dw4", "--from", from, "--fit-steps", "60", "--bins", "4", "--draws", "32",
			"--net", "mlp", "--layers", "1", "--hidden", "8", "--train-batch", "16", "--lr", "1e-3", "-o", ck})
	})
	if err != nil {
		t.Fatal(err)
	}
	var res fitResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	if res.System != "dw4" || res.Samples != 40 || res.FitSteps != 60 || len(res.Bins) != 5 || len(res.LossByTime) != 4 ||
		res.Checkpoint != ck || res.Network == "" {
		t.Fatalf("result %+v", res)
	}
	for b, l := range res.LossByTime {
		if !(l > 0) || math.IsInf(l, 0) {
			t.Errorf("bin %d: loss %g", b, l)
		}
	}
	s, err := adjoint.Load(ck)
	if err != nil {
		t.Fatal(err)
	}
	if s.BufferLen() != 40 || s.Epoch() != 0 || s.Config().LR != 1e-3 {
		t.Errorf("checkpoint: buffer %d, epoch %d, lr %g", s.BufferLen(), s.Epoch(), s.Config().LR)
	}
	bad := filepath.Join(dir, "bad.npy")
	if err := npy.WriteFile(bad, []int{4, 3}, make([]float64, 12), "float64"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"dw4"},
		{"dw4", "--from", filepath.Join(dir, "missing.npy")},
		{"dw4", "--from", bad},
		{"dw4", "--from", from, "--fit-steps", "0"},
		{"lj7", "--from", from},
	} {
		if _, err := stdoutOf(t, func() error { return runFit(args) }); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

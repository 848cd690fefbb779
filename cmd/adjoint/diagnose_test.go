package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"adjoint/lib/npy"
)

// TestDiagnoseCommand: a tiny DW-4 checkpoint trained for 2 epochs is diagnosed against the
// built-in exact samples and against a reference file; bad arguments are refused.
func TestDiagnoseCommand(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "dw4.ckpt")
	if err := runTrain(append([]string{"dw4", "--epochs", "2", "-o", ck}, tiny...)); err != nil {
		t.Fatal(err)
	}
	small := []string{"--n", "20", "--bins", "3", "--draws", "16", "--reps", "3", "--seed", "2"}
	out, err := stdoutOf(t, func() error { return runDiagnose(append([]string{ck}, small...)) })
	if err != nil {
		t.Fatal(err)
	}
	var res diagnoseResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	d := res.TrainingDiagnosis
	if res.Ref != "builtin:exact_DW4.npy" || d == nil || d.System != "dw4" || d.Epoch != 2 || d.Seed != 2 ||
		d.Reference == nil || d.Reference.Samples != 10000 || d.Model.Samples+d.Model.Dropped != 20 || len(d.Model.Loss) != 3 ||
		len(d.RefExcess) != 3 || d.Buffer.Samples != 32 || d.Staleness == nil || len(d.Staleness.Groups) != 4 ||
		d.Gradient == nil || len(d.Gradient.Bins) != 3 || d.Gradient.Reps != 3 || d.Gradient.Batch != 16 {
		t.Fatalf("result %s", out)
	}
	ages := d.Staleness.Groups
	if ages[0].MinAge != 1 || ages[3].MaxAge != 2 || d.Staleness.Inferred {
		t.Errorf("buffer ages %+v", d.Staleness)
	}
	// a reference file, and none
	rows := make([]float64, 12*8)
	for i := range rows {
		rows[i] = float64(i%7) - 3
	}
	ref := filepath.Join(dir, "ref.npy")
	if err := npy.WriteFile(ref, []int{12, 4, 2}, rows, "float64"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ref, want string
		samples   int
	}{{ref, ref, 12}, {"none", "none", 0}} {
		out, err := stdoutOf(t, func() error { return runDiagnose(append([]string{ck, "--ref", c.ref}, small...)) })
		if err != nil {
			t.Fatal(err)
		}
		var r diagnoseResult
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v: %q", err, out)
		}
		got := 0
		if r.Reference != nil {
			got = r.Reference.Samples
		}
		if r.Ref != c.want || got != c.samples || (c.samples == 0) != (r.RefExcess == nil) {
			t.Errorf("--ref %s: ref %q, %d reference samples", c.ref, r.Ref, got)
		}
	}
	bad := filepath.Join(dir, "bad.npy")
	if err := npy.WriteFile(bad, []int{4, 3}, make([]float64, 12), "float64"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{},
		{ck, ck},
		{filepath.Join(dir, "missing.ckpt")},
		{ck, "--n", "0"},
		{ck, "--bins", "0"},
		{ck, "--draws", "-1"},
		{ck, "--reps", "1"},
		{ck, "--batch", "-2"},
		{ck, "--ref", bad},
		{ck, "--ref", filepath.Join(dir, "missing.npy")},
	} {
		if _, err := stdoutOf(t, func() error { return runDiagnose(args) }); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

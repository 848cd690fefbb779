package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"adjoint/lib/adjoint"
	"adjoint/lib/npy"
)

// TestZooTrainEval trains a zoo target for a few tiny epochs through the command line, samples
// it with weights and evaluates it against the exact answers.
func TestZooTrainEval(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "torus3.ckpt")
	if err := runTrain(append([]string{"torus3", "--epochs", "2", "-o", ck}, tiny...)); err != nil {
		t.Fatal(err)
	}
	s, err := adjoint.Load(ck)
	if err != nil {
		t.Fatal(err)
	}
	// the zoo's defaults where no flag overrides them: its schedule and learning rate
	if c := s.Config(); c.Schedule.Name() != "geometric(0.001, 2.5)" || c.LR != 1e-3 || c.System.Box == nil {
		t.Fatalf("config %+v", c)
	}
	out, wout := filepath.Join(dir, "s.npy"), filepath.Join(dir, "w.npy")
	if err := runSample([]string{ck, "-n", "60", "-o", out, "--weights", wout}); err != nil {
		t.Fatal(err)
	}
	js, err := stdoutOf(t, func() error { return runEval([]string{"torus3", out, "--weights", wout, "--w2-n", "30"}) })
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(js)), &r); err != nil {
		t.Fatalf("%v: %q", err, js)
	}
	for _, k := range []string{"target", "n", "regions", "coverage", "coverage_of", "tv", "weighted_tv", "log_z", "log_z_exact", "log_z_error", "ess", "w2", "w2_n"} {
		if _, ok := r[k]; !ok {
			t.Fatalf("JSON lacks %s: %s", k, js)
		}
	}
	if r["target"] != "torus3" || r["n"].(float64)+r["dropped"].(float64) != 60 || r["coverage_of"].(float64) != 3 || len(r["regions"].([]any)) != 3 {
		t.Fatalf("report %s", js)
	}
	// weights that one sample dominates: eval warns as adjoint sample would
	lw := make([]float64, 60)
	lw[0] = 30
	if err := npy.WriteFile(filepath.Join(dir, "bad.npy"), []int{60}, lw, "float64"); err != nil {
		t.Fatal(err)
	}
	errText, err := stderrOf(t, func() error {
		_, err := stdoutOf(t, func() error {
			return runEval([]string{"torus3", out, "--weights", filepath.Join(dir, "bad.npy"), "--w2-n", "-1"})
		})
		return err
	})
	if err != nil || !strings.Contains(errText, "warning: one sample holds 100%") {
		t.Fatalf("eval with a dominant weight: %v, stderr %q", err, errText)
	}
	// without weights the weighted fields are left out
	js, err = stdoutOf(t, func() error { return runEval([]string{"torus3", out, "--w2-n", "-1"}) })
	if err != nil || strings.Contains(js, "log_z_error") || strings.Contains(js, `"w2"`) {
		t.Fatalf("unweighted report %q (%v)", js, err)
	}
	// with --ref the general evaluator compares with reference samples
	js, err = stdoutOf(t, func() error { return runEval([]string{"torus3", out, "--ref", out, "-n", "20"}) })
	if err != nil || !strings.Contains(js, "energy_w2") {
		t.Fatalf("eval --ref: %q (%v)", js, err)
	}
	// the exact answers
	js, err = stdoutOf(t, func() error { return runZoo([]string{"mueller-brown"}) })
	if err != nil || !strings.Contains(js, `"log_z"`) || !strings.Contains(js, "basin 2") {
		t.Fatalf("zoo mueller-brown: %q (%v)", js, err)
	}
	for _, args := range [][]string{
		{"torus3", out, "--weights", filepath.Join(dir, "missing.npy")},
		{"torus3"},
		{"gmm40", out},      // any 2-D target reads 2-D samples
		{"manywell32", out}, // 2-D samples for a 32-D target
	} {
		_, err := stdoutOf(t, func() error { return runEval(args) })
		if (err == nil) != (args[0] == "gmm40") {
			t.Errorf("eval %v: %v", args, err)
		}
	}
}

// TestZooEvalDefensiveRows samples with a defensive share and evaluates with and without
// --defensive-rows: the row count reaches the report, and bad counts are refused.
func TestZooEvalDefensiveRows(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "mb.ckpt")
	if err := runTrain(append([]string{"mueller-brown", "--epochs", "2", "-o", ck}, tiny...)); err != nil {
		t.Fatal(err)
	}
	out, wout := filepath.Join(dir, "s.npy"), filepath.Join(dir, "w.npy")
	if err := runSample([]string{ck, "-n", "80", "--defensive", "0.25", "-o", out, "--weights", wout}); err != nil {
		t.Fatal(err)
	}
	evalJSON := func(args ...string) (map[string]any, error) {
		js, err := stdoutOf(t, func() error { return runEval(append([]string{"mueller-brown", out, "--w2-n", "-1"}, args...)) })
		if err != nil {
			return nil, err
		}
		var r map[string]any
		return r, json.Unmarshal([]byte(strings.TrimSpace(js)), &r)
	}
	with, err := evalJSON("--weights", wout, "--defensive-rows", "20")
	if err != nil {
		t.Fatal(err)
	}
	without, err := evalJSON("--weights", wout)
	if err != nil {
		t.Fatal(err)
	}
	if with["defensive"] != 20.0 || without["defensive"] != nil || with["log_z"] != without["log_z"] {
		t.Fatalf("with %v\nwithout %v", with, without)
	}
	for _, args := range [][]string{{"--defensive-rows", "20"}, {"--weights", wout, "--defensive-rows", "80"}, {"--weights", wout, "--defensive-rows", "-3"}} {
		if _, err := evalJSON(args...); err == nil {
			t.Errorf("eval %v accepted", args)
		}
	}
}

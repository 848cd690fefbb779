package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunAdjScript(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "ok.adj")
	src := "system trap { particles 2 in 2d; energy = sum i: norm2(x[i]) }\nsde v { sigma = constant(1); steps 10 }\nprint \"declared\"\nreport trap\n"
	if err := os.WriteFile(good, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if err := runAdj(good, &out, &errb); err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(out.String(), "declared") || !strings.Contains(out.String(), "system trap") {
		t.Errorf("output:\n%s", out.String())
	}
	bad := filepath.Join(dir, "bad.adj")
	if err := os.WriteFile(bad, []byte("system s {\n  particles 2 in 2d\n  energy = rr[0,1]\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := runAdj(bad, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "bad.adj:3:12: unknown name \"rr\"") || !strings.Contains(err.Error(), "^") {
		t.Fatalf("error: %v", err)
	}
}

func TestTrainConfigOfAdj(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "spec.adj")
	src := `system trap { particles 3 in 2d; energy = sum i: norm2(x[i]) }
sde v { sigma = geometric(1e-3, 2); steps 33 }
sampler s = adjoint(trap, v) { net mlp(layers 2, hidden 12); batch 40; lr 2e-3 }
train s for 100 minutes
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := configFor(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.System.Name != "trap" || cfg.Steps != 33 || cfg.Net.Hidden != 12 || cfg.Batch != 40 || cfg.LR != 2e-3 {
		t.Errorf("config %+v", cfg)
	}
}

// TestRunAdjProgressAndPaths: training in a script shows its progress on stderr (plain lines
// when stderr is not a terminal) and its report on stdout; relative paths are taken from the
// working directory, not the script's folder.
func TestRunAdjProgressAndPaths(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir("scripts", 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("scripts", "w.adj")
	src := `system w { particles 1 in 1d; energy = x[0].x^2 }
sampler q = adjoint(w) { net mlp(layers 1, hidden 4); batch 8; buffer 16; grad_steps 1 }
train q for 3 epochs
save q "q.ckpt"
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if err := runAdj(path, &out, &errb); err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(errb.String(), "train w") || !strings.Contains(errb.String(), "epoch 3/3") || strings.Contains(errb.String(), "\r") {
		t.Errorf("stderr lacks the training progress lines:\n%q", errb.String())
	}
	if strings.Contains(out.String(), "epoch 3/3") || !strings.Contains(out.String(), "training w") {
		t.Errorf("stdout should have the report and no progress:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "q.ckpt")); err != nil {
		t.Errorf("the checkpoint is not in the working directory: %v", err)
	}
}

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

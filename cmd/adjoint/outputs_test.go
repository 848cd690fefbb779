package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutputsCheckedFirst: every command checks the files it will write before it starts any
// work, names the absolute folder in the error and leaves nothing behind.
func TestOutputsCheckedFirst(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	samples := filepath.Join(dir, "x.npy")
	if err := os.WriteFile(samples, []byte("placeholder"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "nope")
	cases := []struct {
		name string
		run  func([]string) error
		args []string
		want string
	}{
		{"train -o", runTrain, append([]string{"dw4", "--epochs", "1", "-o", "nope/x.ckpt"}, tiny...), "checkpoint nope/x.ckpt: folder " + missing},
		{"train --samples-out", runTrain, append([]string{"dw4", "--epochs", "1", "-o", "x.ckpt", "--sample", "5", "--samples-out", "nope/s.npy"}, tiny...), "samples file nope/s.npy: folder " + missing},
		{"train -o a folder", runTrain, append([]string{"dw4", "--epochs", "1", "-o", "."}, tiny...), "is a folder"},
		{"sample -o", runSample, []string{"missing.ckpt", "-o", "nope/s.npy"}, "folder " + missing},
		{"sample --weights", runSample, []string{"missing.ckpt", "-o", "s.npy", "--weights", "nope/w.npy"}, "weights file nope/w.npy"},
		{"mcmc -o", runMCMC, []string{"dw4", "-n", "10", "-o", "nope/m.npy"}, "folder " + missing},
		{"plot -o", runPlot, []string{"marginals", "x.npy", "-o", "nope/f.png"}, "figure nope/f.png"},
		{"fit -o", runFit, []string{"dw4", "--from", "x.npy", "-o", "nope/f.ckpt"}, "folder " + missing},
		{"demo --samples", runDemo, append([]string{"--epochs", "1", "--samples", "nope/s.npy"}, tiny...), "folder " + missing},
		{"run -o", runRun, []string{"nb.ipynb", "-o", "nope/nb.ipynb"}, "folder " + missing},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.run(c.args)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("the checks left files behind: %v", ents)
	}
}

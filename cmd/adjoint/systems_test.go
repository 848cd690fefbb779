package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"adjoint/lib/npy"
)

// TestResolveSystem: every command takes a benchmark, a zoo target or a system of a script.
func TestResolveSystem(t *testing.T) {
	dir := t.TempDir()
	adj := filepath.Join(dir, "two.adj")
	src := "system a { particles 1 in 2d; energy = x[0].x^2 + x[0].y^2 }\nsystem b { particles 2 in 1d; energy = x[0].x^2 + x[1].x^2 }\n"
	if err := os.WriteFile(adj, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		spec, name, err string
	}{
		{"dw4", "dw4", ""},
		{"gmm40", "gmm40", ""},
		{adj, "b", ""},
		{adj + ":a", "a", ""},
		{adj + ":zz", "", "declares no system \"zz\""},
		{"lj7", "", "system \"lj7\""},
		{filepath.Join(dir, "none.adj"), "", "none.adj"},
	} {
		sys, err := resolveSystem(c.spec)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.spec, err, c.err)
			}
			continue
		}
		if err != nil || sys.Name != c.name {
			t.Errorf("%s: %v, %v; want system %s", c.spec, sys, err, c.name)
		}
	}
	cfg, err := configFor(adj + ":a")
	if err != nil || cfg.System.Name != "a" {
		t.Fatalf("train config of %s:a: %v, %v", adj, cfg.System, err)
	}
	// a named system gets the rule for a new system, as a script's last system does
	last, err := configFor(adj)
	if err != nil {
		t.Fatal(err)
	}
	named, err := configFor(adj + ":b")
	if err != nil || named.Schedule.Name() != last.Schedule.Name() || named.Steps != last.Steps || named.TimeSampling != last.TimeSampling {
		t.Errorf("%s:b trains with %s, %d steps; %s (its last system b) with %s, %d steps (%v)", adj, named.Schedule.Name(), named.Steps,
			adj, last.Schedule.Name(), last.Steps, err)
	}
	// eval and plot take the script's system
	x := make([]float64, 40)
	for i := range x {
		x[i] = float64(i%7)/7 - 0.5
	}
	xs := filepath.Join(dir, "x.npy")
	if err := npy.WriteFile(xs, []int{20, 2}, x, npy.Float32); err != nil {
		t.Fatal(err)
	}
	if err := runEval([]string{adj + ":a", xs, "--ref", xs, "-n", "20"}); err != nil {
		t.Errorf("eval of a script's system: %v", err)
	}
	fig := filepath.Join(dir, "e.svg")
	if err := runPlot([]string{"energy-hist", xs, "--system", adj + ":a", "-o", fig}); err != nil {
		t.Errorf("plot --system FILE.adj:NAME: %v", err)
	}
	if _, err := os.Stat(fig); err != nil {
		t.Error(err)
	}
}

package dsl

import (
	"os"
	"strings"
	"testing"

	"adjoint/lib/energy"
)

// TestPlotKinds checks the shared list of figures and that scripts check plots against it.
func TestPlotKinds(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range PlotKinds() {
		if seen[k.Name] {
			t.Errorf("figure %s listed twice", k.Name)
		}
		seen[k.Name] = true
		if k.Script == "" && k.Command == "" {
			t.Errorf("figure %s is drawn neither by scripts nor by the command line", k.Name)
		}
		if strings.Contains(k.CommandName(), "_") {
			t.Errorf("command name %q has an underscore", k.CommandName())
		}
		if k.Script != "" && (k.MinArgs < 1 || k.MaxArgs < k.MinArgs || !strings.HasPrefix(k.Script, k.Name+"(")) {
			t.Errorf("figure %s: script call %q with %d to %d arguments", k.Name, k.Script, k.MinArgs, k.MaxArgs)
		}
	}
	cases := []struct{ src, want string }{
		{"x = load \"x.npy\"\nplot trajectories(x)", "unknown plot \"trajectories\""},
		{"x = load \"x.npy\"\nplot contour(x)", "contour takes 5 to 6 arguments, got 1"},
		{"x = load \"x.npy\"\nplot contour(x)", "contour(SYSTEM, xmin, xmax, ymin, ymax [, SAMPLES])"},
		{"plot 3", "plots are energy_hist, dist_hist, marginals, particles, weights, loss, contour"},
	}
	for _, c := range cases {
		err := Check(c.src, "t.adj")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to contain %q", c.src, err, c.want)
		}
	}
}

// TestEvalDefaults checks the evaluation defaults shared with adjoint eval, and the named
// settings of eval(…).
func TestEvalDefaults(t *testing.T) {
	dw4, err := energy.Benchmark("dw4")
	if err != nil {
		t.Fatal(err)
	}
	lj13, err := energy.Benchmark("lj13")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		sys    *energy.System
		cutoff float64
	}{{dw4, 4}, {lj13, 0}, {nil, 0}} {
		o := EvalDefaults(c.sys)
		if o.N != DefaultEvalSamples || o.Seed != 0 || o.PairCutoff != c.cutoff {
			t.Errorf("EvalDefaults(%v) = %+v, want N %d, seed 0, cutoff %g", c.sys, o, DefaultEvalSamples, c.cutoff)
		}
	}
	t.Chdir(t.TempDir()) // the files a script reads must exist when it is checked
	for _, f := range []string{"x.npy", "r.npy"} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := Check("x = load \"x.npy\"\nreport eval(x, \"r.npy\", system dw4, n 10, seed 3, pair_cutoff 1.5)", "t.adj"); err != nil {
		t.Errorf("eval settings: %v", err)
	}
	err = Check("x = load \"x.npy\"\nreport eval(x, \"r.npy\", seeds 3)", "t.adj")
	if err == nil || !strings.Contains(err.Error(), "unknown eval setting \"seeds\"") || !strings.Contains(err.Error(), "seed") {
		t.Errorf("unknown eval setting: %v", err)
	}
}

package main

import (
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"adjoint/dsl"
	"adjoint/lib/adjoint"
	"adjoint/lib/npy"
)

// tiny are training flags that make a run take a fraction of a second.
var tiny = []string{"--net", "mlp", "--layers", "1", "--hidden", "8", "--batch", "16", "--train-batch", "16",
	"--buffer", "32", "--steps", "10", "--grad-steps", "2", "--seed", "3"}

func TestTrainSampleCommands(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "dw4.ckpt")
	if err := runTrain(append([]string{"dw4", "--epochs", "2", "-o", ck}, tiny...)); err != nil {
		t.Fatal(err)
	}
	s, err := adjoint.Load(ck)
	if err != nil {
		t.Fatal(err)
	}
	c := s.Config()
	if s.Epoch() != 2 || c.Batch != 16 || c.Steps != 10 || c.Net.Kind != adjoint.NetMLP || c.Seed != 3 || c.LR != 1e-3 || c.Reweight != 0.5 {
		t.Fatalf("checkpoint: epoch %d, config %+v", s.Epoch(), c)
	}
	// --paper starts from the paper's configuration; the flags given still apply
	pk := filepath.Join(dir, "paper.ckpt")
	if err := runTrain(append([]string{"dw4", "--paper", "--epochs", "1", "-o", pk}, tiny...)); err != nil {
		t.Fatal(err)
	}
	if p, err := adjoint.Load(pk); err != nil {
		t.Fatal(err)
	} else if c := p.Config(); c.LR != 1e-4 || c.Reweight != 0 || c.EMA != 0 || c.TimeSampling != adjoint.TimeUniform || c.Batch != 16 {
		t.Fatalf("--paper: config %+v", c)
	}
	for _, args := range [][]string{{"gmm40", "--paper"}, {"dw4", "--paper", "--resume"}} {
		if err := runTrain(append(args, "--epochs", "1", "-o", filepath.Join(dir, "bad.ckpt"))); err == nil {
			t.Errorf("train %v accepted", args)
		}
	}
	// resume adds epochs to the same checkpoint
	if err := runTrain([]string{"dw4", "--resume", "--epochs", "1", "-o", ck}); err != nil {
		t.Fatal(err)
	}
	if s, err = adjoint.Load(ck); err != nil || s.Epoch() != 3 {
		t.Fatalf("resumed checkpoint: %v, epoch %d", err, s.Epoch())
	}
	out, wout := filepath.Join(dir, "s.npy"), filepath.Join(dir, "w.npy")
	if err := runSample([]string{ck, "-n", "50", "-o", out, "--weights", wout}); err != nil {
		t.Fatal(err)
	}
	a, err := npy.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Shape) != 2 || a.Shape[0] != 50 || a.Shape[1] != 8 {
		t.Fatalf("samples shape %v", a.Shape)
	}
	w, err := npy.ReadFile(wout)
	if err != nil || len(w.Data) != 50 {
		t.Fatalf("weights: %v", err)
	}
}

func TestTrainErrors(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"lj7", "-o", filepath.Join(dir, "x")},
		{"dw4"},
		{"spec.adj", "-o", filepath.Join(dir, "x")},
		{"dw4", "--net", "cnn", "-o", filepath.Join(dir, "x")},
		{"dw4", "--epochs", "1", "-o", filepath.Join(dir, "no", "such", "dir", "x")},
	} {
		if err := runTrain(args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if err := runSample([]string{filepath.Join(dir, "missing"), "-o", filepath.Join(dir, "s.npy")}); err == nil {
		t.Error("missing checkpoint accepted")
	}
}

// TestDemoBuiltinReference: run from a directory without any data, the demo evaluates against
// the built-in test split and exact samples.
func TestDemoBuiltinReference(t *testing.T) {
	dir := t.TempDir()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	r, w, _ := os.Pipe()
	stdout := os.Stdout
	os.Stdout = w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	err := runDemo(append([]string{"--epochs", "1", "-n", "20"}, tiny...))
	w.Close()
	os.Stdout = stdout
	b := <-done
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{"reference: builtin:test_split_DW4.npy", "reference: builtin:exact_DW4.npy", "geometric W2"} {
		if !strings.Contains(got, want) {
			t.Fatalf("demo output does not mention %q:\n%s", want, got)
		}
	}
}

// TestTrainFlagsApply: each configuration flag given on the command line lands in its field,
// and flags not given leave the benchmark's defaults alone.
func TestTrainFlagsApply(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		check func(c adjoint.Config) bool
	}{
		{[]string{"--tanh-range", "60"}, func(c adjoint.Config) bool { return c.Net.TanhRange == 60 && c.LR == 5e-4 }},
		{[]string{"--layers", "3", "--hidden", "32"}, func(c adjoint.Config) bool {
			return c.Net.Layers == 3 && c.Net.Hidden == 32 && c.Net.TanhRange == 0
		}},
		{[]string{"--lr", "5e-4", "--lr-final", "5e-5"}, func(c adjoint.Config) bool { return c.LR == 5e-4 && c.LRFinal == 5e-5 }},
		{[]string{"--time-sampling", "kappa", "--steps", "300"}, func(c adjoint.Config) bool {
			return c.TimeSampling == adjoint.TimeKappa && c.Steps == 300 && c.Batch == 128
		}},
	} {
		cfg, err := configFor("lj13")
		if err != nil {
			t.Fatal(err)
		}
		var tf trainFlags
		fs := flag.NewFlagSet("train", flag.ContinueOnError)
		tf.register(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		tf.apply(fs, &cfg)
		if !tc.check(cfg) {
			t.Errorf("%v: configuration %+v", tc.args, cfg)
		}
	}
}

// TestTrainSigmaFlag: --sigma replaces the system's schedule, a formula of t survives the
// checkpoint (adjoint sample reads it without a script), and a bad schedule is refused before
// anything is written.
func TestTrainSigmaFlag(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		sigma string
		want  func(t float64) float64
	}{
		{"geometric(0.01, 6)", func(t float64) float64 { l := math.Log(600); return 0.01 * math.Exp((1-t)*l) * math.Sqrt(2*l) }},
		{"constant(0.7)", func(float64) float64 { return 0.7 }},
		{"2*exp(-3*t) + 0.01", func(t float64) float64 { return 2*math.Exp(-3*t) + 0.01 }},
	} {
		ck := filepath.Join(dir, "f.ckpt")
		if err := runTrain(append([]string{"funnel10", "--sigma", tc.sigma, "--epochs", "1", "-o", ck}, tiny...)); err != nil {
			t.Fatalf("--sigma %q: %v", tc.sigma, err)
		}
		s, err := dsl.LoadSampler(ck)
		if err != nil {
			t.Fatalf("--sigma %q: loading the checkpoint: %v", tc.sigma, err)
		}
		for _, x := range []float64{0, 0.3, 1} {
			if got, want := s.Config().Schedule.Sigma(x), tc.want(x); math.Abs(got-want) > 1e-9*want {
				t.Errorf("--sigma %q: σ(%g) = %g, want %g", tc.sigma, x, got, want)
			}
		}
	}
	for _, bad := range []string{"geometric(0, 6)", "geometric(6, 1)", "-1", "foo(t)", "1/t", ""} {
		ck := filepath.Join(dir, "bad.ckpt")
		err := runTrain(append([]string{"funnel10", "--sigma", bad, "--epochs", "1", "-o", ck}, tiny...))
		if err == nil || !strings.Contains(err.Error(), "sigma") {
			t.Errorf("--sigma %q: error %v", bad, err)
		}
		if _, serr := os.Stat(ck); serr == nil {
			t.Errorf("--sigma %q: a checkpoint was written", bad)
		}
	}
}

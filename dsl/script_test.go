package dsl

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"adjoint/internal/testutil"
	"adjoint/lib/adjoint"
	"adjoint/lib/display"
	"adjoint/lib/energy"
	"adjoint/lib/npy"
)

type recorder struct {
	text  strings.Builder
	shown []display.Bundle
}

func (r *recorder) Print(s string)        { r.text.WriteString(s) }
func (r *recorder) Show(b display.Bundle) { r.shown = append(r.shown, b) }

func (r *recorder) shownText() string {
	var b strings.Builder
	for _, s := range r.shown {
		if t, ok := s.Data[display.MIMEText].(string); ok {
			b.WriteString(t + "\n")
		}
	}
	return b.String()
}

func TestSessionKeepsDeclarations(t *testing.T) {
	s := NewSession()
	b1, err := s.Exec(t.Context(), "let k = 3\nsystem trap { particles 2 in 2d; energy = k * sum i: norm2(x[i]) }", "a.adj", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(b1) != 2 || b1[0].Name != "k" || b1[0].Value.(float64) != 3 {
		t.Fatalf("bindings %+v", b1)
	}
	if _, ok := b1[1].Value.(*energy.System); !ok {
		t.Fatalf("trap bound to %T", b1[1].Value)
	}
	// a later script sees the earlier parameter and system
	b2, err := s.Exec(t.Context(), "system trap2 { particles 1 in 1d; energy = 2*k*x[0].x^2 }\nsampler s = adjoint(trap) { net mlp(layers 1, hidden 8) }", "b.adj", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b2[1].Value.(*adjoint.Sampler); !ok {
		t.Fatalf("s bound to %T", b2[1].Value)
	}
	sys := b2[0].Value.(*energy.System)
	e := make([]float64, 1)
	sys.Energy.EnergyGrad([]float64{0.5}, e, nil)
	if e[0] != 2*3*0.25 {
		t.Errorf("energy %v, want 1.5", e[0])
	}
	// names of the wrong kind are rejected
	if err := s.Check("train trap for 1 epochs", "c.adj"); err == nil || !strings.Contains(err.Error(), "trap is a system") {
		t.Errorf("got %v", err)
	}
}

func TestSystemSettings(t *testing.T) {
	sys := compileOne(t, `system ring { particles 1 in 2d; box 6.283 x 3 periodic; temperature 1.5
		energy = -cos(x[0].x) - cos(x[0].y) }`)
	if len(sys.Box) != 2 || sys.Box[0] != 6.283 || sys.Box[1] != 3 || !sys.Periodic() {
		t.Errorf("box %v", sys.Box)
	}
	if sys.Temperature != 1.5 {
		t.Errorf("temperature %v", sys.Temperature)
	}
	if sys.Symmetry != (energy.Symmetry{}) {
		t.Errorf("symmetry %+v, want none", sys.Symmetry)
	}
	sys = compileOne(t, dw4Src)
	if sys.Symmetry != (energy.Symmetry{Translation: true, Rotation: true, Permutation: true}) || sys.Periodic() {
		t.Errorf("dw4: symmetry %+v box %v", sys.Symmetry, sys.Box)
	}
}

// TestPeriodicMinimumImage checks r in a box against the minimum-image distance.
func TestPeriodicMinimumImage(t *testing.T) {
	sys := compileOne(t, "system p { particles 2 in 2d; box 4 x 5 periodic; energy = sum pairs i<j: r[i,j] }")
	cases := []struct{ x []float64 }{
		{[]float64{0.1, 0.2, 3.9, 4.8}}, {[]float64{1, 1, 2, 2}}, {[]float64{-7.5, 0, 0.3, 12}},
	}
	for _, c := range cases {
		e := make([]float64, 1)
		sys.Energy.EnergyGrad(c.x, e, nil)
		dx := c.x[0] - c.x[2]
		dy := c.x[1] - c.x[3]
		dx -= 4 * math.Round(dx/4)
		dy -= 5 * math.Round(dy/5)
		if want := math.Hypot(dx, dy); math.Abs(e[0]-want) > 1e-12 {
			t.Errorf("x=%v: r = %v, want %v", c.x, e[0], want)
		}
	}
}

func TestSDEDeclarations(t *testing.T) {
	s := NewSession()
	binds, err := s.Exec(t.Context(), `let lo = 1e-3
sde ve { sigma = geometric(lo, 1.5); steps 200 }
sde flat { sigma = 0.7 }
sde mine { sigma(t) = 2*exp(-3*t) + 0.01; steps 300 }`, "s.adj", nil)
	if err != nil {
		t.Fatal(err)
	}
	ve := binds[1].Value.(*SDE)
	if ve.Steps != 200 || math.Abs(ve.Schedule.Kappa(1)-(1.5*1.5-1e-6)) > 1e-9 {
		t.Errorf("ve: steps %d κ(1) %v", ve.Steps, ve.Schedule.Kappa(1))
	}
	flat := binds[2].Value.(*SDE)
	if flat.Schedule.Sigma(0.3) != 0.7 {
		t.Errorf("flat σ = %v", flat.Schedule.Sigma(0.3))
	}
	mine := binds[3].Value.(*SDE)
	for _, tt := range []float64{0, 0.25, 0.5, 1} {
		want := 2*math.Exp(-3*tt) + 0.01
		if got := mine.Schedule.Sigma(tt); math.Abs(got-want) > 1e-14 {
			t.Errorf("σ(%v) = %v, want %v", tt, got, want)
		}
	}
	// κ(1) = ∫ σ² dt in closed form: (4/6)(1 − e^{−6}) + (0.04/3)(1 − e^{−3}) + 1e-4
	want := 4.0/6*(1-math.Exp(-6)) + 0.04/3*(1-math.Exp(-3)) + 1e-4
	if got := mine.Schedule.Kappa(1); math.Abs(got-want) > 1e-8 {
		t.Errorf("κ(1) = %v, want %v", got, want)
	}
	if err := Check("sde bad { sigma(t) = -1 - t }", "b.adj"); err == nil || !strings.Contains(err.Error(), "σ") {
		t.Errorf("negative σ accepted: %v", err)
	}
}

func TestSamplerSettings(t *testing.T) {
	s := NewSession()
	binds, err := s.Exec(t.Context(), dw4Src+`
sde ve { sigma = geometric(1e-3, 2); steps 120 }
sampler s = adjoint(dw4, ve) {
  net egnn(layers 2, hidden 16)
  batch 64; train_batch 32; buffer 1000; grad_steps 7; lr 3e-4; epochs 9; clip 50; seed 11
}`, "s.adj", nil)
	if err != nil {
		t.Fatal(err)
	}
	smp := binds[len(binds)-1].Value.(*adjoint.Sampler)
	c := smp.Config()
	want := adjoint.NetConfig{Kind: adjoint.NetEGNN, Layers: 2, Hidden: 16}
	if c.Net != want || c.Batch != 64 || c.TrainBatch != 32 || c.Buffer != 1000 || c.GradSteps != 7 ||
		c.LR != 3e-4 || c.Epochs != 9 || c.ClipNorm != 50 || c.Seed != 11 || c.Steps != 120 {
		t.Errorf("config %+v", c)
	}
	if c.System.Name != "dw4" || !c.System.Symmetry.Rotation {
		t.Errorf("system %+v", c.System)
	}
	if math.Abs(c.Schedule.Kappa(1)-(4-1e-6)) > 1e-9 {
		t.Errorf("schedule κ(1) %v", c.Schedule.Kappa(1))
	}
}

// TestScriptPipeline runs the whole cycle at a tiny size: train, sample, evaluate, plot,
// save, load.
func TestScriptPipeline(t *testing.T) {
	dir := t.TempDir()
	ref := testutil.SharedData(t, "test_split_DW4.npy")
	src := dw4Src + `
sde ve { sigma = geometric(1e-3, 1.5); steps 20 }
sampler s = adjoint(dw4, ve) { net egnn(layers 1, hidden 8); batch 32; buffer 200; grad_steps 2 }
train s for 2 epochs
x = sample s 64
report eval(x, "` + ref + `", n 64)
plot energy_hist(x, "` + ref + `")
save x "x.npy"
save s "s.ckpt"
y = load "x.npy"
s2 = load "s.ckpt"
report eval(y, "` + ref + `", n 64, system dw4)
print x
`
	s := NewSession()
	s.Dir = dir
	rec := &recorder{}
	defer display.SetSink(nil)() // training progress goes nowhere
	binds, err := s.Exec(t.Context(), src, "p.adj", rec)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, b := range binds {
		got[b.Name] = b.Value
	}
	x, ok := got["x"].(*adjoint.Samples)
	if !ok || x.N != 64 || x.Particles != 4 || x.SpatialDim != 2 {
		t.Fatalf("x = %#v", got["x"])
	}
	if _, ok := got["s2"].(*adjoint.Sampler); !ok {
		t.Errorf("s2 is %T", got["s2"])
	}
	if y, ok := got["y"].(*npy.Array); !ok || y.Len() != 64*8 {
		t.Errorf("y = %v", got["y"])
	}
	if _, err := os.Stat(filepath.Join(dir, "s.ckpt")); err != nil {
		t.Error(err)
	}
	text := rec.shownText()
	for _, want := range []string{"energy W2", "geometric W2", "Energy histogram"} {
		if strings.Count(text, want) < 1 {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Count(text, "energy W2") != 2 {
		t.Errorf("want two evaluations:\n%s", text)
	}
	if !strings.Contains(rec.text.String(), "saved x") {
		t.Errorf("printed: %s", rec.text.String())
	}
}

func TestRuntimeErrorNamesLine(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "file.ckpt")
	if err := os.WriteFile(bad, []byte("not a checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := NewSession()
	_, err := s.Exec(t.Context(), "let a = 1\n\nm = load \""+bad+"\"", "r.adj", nil)
	var re *RuntimeError
	if !errors.As(err, &re) || re.Pos.Line != 3 || !strings.HasPrefix(err.Error(), "r.adj:3:1: ") {
		t.Fatalf("got %v", err)
	}
	if v, ok := s.Value("a"); !ok || v.(float64) != 1 {
		t.Errorf("statements before the failure did not run")
	}
}

func TestCancelledExec(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := NewSession().Exec(ctx, "let a = 1", "c.adj", nil)
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

func TestSymmetricSystemsGetEGNN(t *testing.T) {
	s := NewSession()
	binds, err := s.Exec(t.Context(), `system pair { particles 3 in 2d; energy = sum pairs i<j: (r[i,j] - 1)^2
  symmetry translation, rotation, permutation }
system plain { particles 3 in 2d; energy = sum pairs i<j: (r[i,j] - 1)^2 }
sampler a = adjoint(pair)
sampler b = adjoint(plain)
sampler c = adjoint(pair) { net mlp(layers 2, hidden 8) }`, "e.adj", nil)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]adjoint.NetKind{}
	for _, b := range binds {
		if smp, ok := b.Value.(*adjoint.Sampler); ok {
			kinds[b.Name] = smp.Config().Net.Kind
		}
	}
	if kinds["a"] != adjoint.NetEGNN || kinds["b"] != adjoint.NetMLP || kinds["c"] != adjoint.NetMLP {
		t.Errorf("network kinds %v, want a egnn, b mlp, c mlp", kinds)
	}
}

// TestPathsCheckedFirst: files a script writes or reads are checked before anything runs, and
// the error shows the absolute path that a relative one resolved to (the working directory).
func TestPathsCheckedFirst(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	head := "let ran = 1\nsystem w { particles 1 in 1d; energy = x[0].x^2 }\nsampler q = adjoint(w) { net mlp(layers 1, hidden 4); batch 8; buffer 16; grad_steps 1 }\n"
	cases := []struct {
		name, src, want string
	}{
		{"save into a missing folder", "train q for 1 epochs\nsave q \"nope/q.ckpt\"", "folder " + filepath.Join(dir, "nope") + " does not exist"},
		{"load a missing file", "m = load \"gone.ckpt\"", filepath.Join(dir, "gone.ckpt") + ")"},
		{"missing reference", "x = sample q 4\nreport eval(x, \"ref.npy\", system w)", "reference file ref.npy does not exist"},
		{"figure as npy", "x = sample q 4\nsave energy_hist(x) \"e.npy\"", "cannot save the figure energy_hist"},
		{"metrics as png", "x = sample q 4\nsave eval(x, x) \"m.png\"", "saved as JSON"},
		{"unknown save", "x = sample q 4\nsave norm(x) \"m.npy\"", "cannot save norm"},
		{"save to a folder", "save q \".\"", "is a folder"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewSession()
			binds, err := s.Exec(t.Context(), head+c.src, "p.adj", nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if len(binds) != 0 {
				t.Fatalf("statements ran before the check failed: %v", binds)
			}
		})
	}
	// a file the script writes first may be loaded later
	s := NewSession()
	defer display.SetSink(nil)()
	if _, err := s.Exec(t.Context(), head+"save q \"q.ckpt\"\nq2 = load \"q.ckpt\"", "p.adj", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "q.ckpt")); err != nil {
		t.Fatalf("the checkpoint is not in the working directory: %v", err)
	}
	// a dry run writes and reads nothing, so it checks no paths
	s = NewSession()
	s.DryRun = true
	if _, err := s.Exec(t.Context(), head+"save q \"nope/q.ckpt\"", "p.adj", nil); err != nil {
		t.Fatalf("dry run: %v", err)
	}
}

// TestSaveOutputs: a script writes what the command line writes: checkpoints, samples,
// log-weights, metrics as JSON and figures as PNG and SVG.
func TestSaveOutputs(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	src := `system w { particles 2 in 1d; energy = x[0].x^2 + x[1].x^2 }
sampler q = adjoint(w) { net mlp(layers 1, hidden 4); batch 16; buffer 32; grad_steps 2; seed 3 }
train q for 2 epochs
x = sample q 32
save q "q.ckpt"
save x "x.npy"
save weights(x) "logw.npy"
save eval(x, x, n 16) "m.json"
save energy_hist(x) "e.png"
save weights(x) "w.svg"
save loss(q) "loss.svg"
`
	defer display.SetSink(nil)()
	binds, err := NewSession().Exec(t.Context(), src, "o.adj", nil)
	if err != nil {
		t.Fatal(err)
	}
	var x *adjoint.Samples
	for _, b := range binds {
		if v, ok := b.Value.(*adjoint.Samples); ok {
			x = v
		}
	}
	w, err := npy.ReadFile("logw.npy")
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Data) != 32 || w.Data[5] != x.LogW[5] {
		t.Errorf("log-weights file holds %d values, [5] = %v, want 32 and %v", len(w.Data), w.Data[5], x.LogW[5])
	}
	m, err := os.ReadFile("m.json")
	if err != nil || !strings.Contains(string(m), "{") || !strings.HasSuffix(string(m), "}\n") {
		t.Errorf("metrics file %q, %v", m, err)
	}
	png, err := os.ReadFile("e.png")
	if err != nil || !strings.HasPrefix(string(png), "\x89PNG") {
		t.Errorf("e.png is not a PNG (%v)", err)
	}
	for _, f := range []string{"w.svg", "loss.svg"} {
		b, err := os.ReadFile(f)
		if err != nil || !strings.Contains(string(b), "<svg") {
			t.Errorf("%s is not an SVG (%v)", f, err)
		}
	}
}

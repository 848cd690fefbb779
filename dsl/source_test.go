package dsl

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"adjoint/lib/adjoint"
	"adjoint/lib/display"
	"adjoint/lib/energy"
)

func TestBlockText(t *testing.T) {
	src := "let k = 2\n# a { comment\nsystem  wαll { particles 1 in 1d // }\n  energy = k*x[0].x^2 }\nprint 1"
	got := blockText(src, Pos{Line: 3, Col: 1})
	want := "system  wαll { particles 1 in 1d // }\n  energy = k*x[0].x^2 }"
	if got != want {
		t.Fatalf("blockText = %q, want %q", got, want)
	}
	if got := blockText("system s { particles 1 in 1d", Pos{1, 1}); got != "" {
		t.Fatalf("unterminated block gave %q", got)
	}
}

// TestCheckpointCarriesSystem: a checkpoint of a system declared in a script (with a parameter
// declared outside it) loads in a process that never saw the script: the system is rebuilt from
// the source the checkpoint recorded, with the same energy.
func TestCheckpointCarriesSystem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mine.ckpt")
	src := `let k = 2.5
system mine { particles 2 in 2d; let c = 0.5; energy = k * sum i: norm2(x[i]) + c*r2[0,1]; temperature 1.5 }
sampler q = adjoint(mine) { net mlp(layers 1, hidden 4); batch 8; buffer 16; grad_steps 1; seed 5 }
train q for 1 epochs
save q "` + path + `"
`
	defer display.SetSink(nil)()
	binds, err := NewSession().Exec(t.Context(), src, "mine.adj", nil)
	if err != nil {
		t.Fatal(err)
	}
	orig := binds[1].Value.(*energy.System)
	if !strings.Contains(orig.Source, "let k = 2.5") || !strings.HasPrefix(strings.SplitN(orig.Source, "\n", 2)[1], "system mine {") {
		t.Fatalf("source %q", orig.Source)
	}
	noRegistry := func(name string) (*energy.System, error) { return nil, errors.New("not declared here") }
	if _, err := adjoint.LoadCheckpoint(path, adjoint.LoadOptions{Resolve: noRegistry}); err == nil || !strings.Contains(err.Error(), "recorded source") {
		t.Fatalf("load without FromSource: %v, want an error naming the recorded source", err)
	}
	s, err := adjoint.LoadCheckpoint(path, adjoint.LoadOptions{FromSource: SystemFromSource, Resolve: noRegistry})
	if err != nil {
		t.Fatal(err)
	}
	sys := s.Config().System
	if sys.Name != "mine" || sys.Tau() != 1.5 || s.Epoch() != 1 {
		t.Fatalf("loaded %s τ %g epoch %d", sys.Name, sys.Tau(), s.Epoch())
	}
	x := []float64{0.3, -1, 1.2, 0.4}
	e1, e2 := make([]float64, 1), make([]float64, 1)
	orig.Energy.EnergyGrad(x, e1, nil)
	sys.Energy.EnergyGrad(x, e2, nil)
	want := 2.5 * (0.09 + 1 + 1.44 + 0.16 + 2*0.5*(0.81+1.96)) // the sum body runs to the end
	if math.Abs(e1[0]-want) > 1e-12 || e2[0] != e1[0] {
		t.Fatalf("energies %v (loaded) and %v (declared), want %v", e2[0], e1[0], want)
	}
	if _, err := SystemFromSource("other", orig.Source); err == nil {
		t.Fatal("SystemFromSource found a system the source does not declare")
	}
	// and the script statement load reads it too
	b2, err := NewSession().Exec(t.Context(), `q2 = load "`+path+`"`, "l.adj", nil)
	if err != nil {
		t.Fatal(err)
	}
	if q2, ok := b2[0].Value.(*adjoint.Sampler); !ok || q2.Config().System.Name != "mine" {
		t.Fatalf("load bound %v", b2)
	}
}

// TestFormulaScheduleCheckpoint: a checkpoint of a sampler whose sde is a sigma(t) formula loads
// without the script: the schedule is rebuilt from the recorded text and samples as before.
func TestFormulaScheduleCheckpoint(t *testing.T) {
	t.Chdir(t.TempDir())
	src := `let a = 3
system w { particles 1 in 2d; energy = 0.5*(x[0].x^2 + x[0].y^2) }
sde mine { sigma(t) = 2*exp(-a*t) + 0.01; steps 20 }
sampler q = adjoint(w, mine) { net mlp(layers 1, hidden 4); batch 8; train_batch 8; buffer 16; grad_steps 2 }
train q for 2 epochs
save q "q.ckpt"`
	binds, err := NewSession().Exec(t.Context(), src, "s.adj", nil)
	if err != nil {
		t.Fatal(err)
	}
	orig := binds[3].Value.(*adjoint.Sampler)
	back, err := LoadSampler("q.ckpt")
	if err != nil {
		t.Fatalf("loading without the script: %v", err)
	}
	so, sb := orig.Config().Schedule, back.Config().Schedule
	for _, tt := range []float64{0, 0.3, 1} {
		if so.Sigma(tt) != sb.Sigma(tt) || so.Kappa(tt) != sb.Kappa(tt) {
			t.Errorf("t=%v: σ %v/%v κ %v/%v", tt, so.Sigma(tt), sb.Sigma(tt), so.Kappa(tt), sb.Kappa(tt))
		}
	}
	// the same checkpoint given the script's own schedule samples the same values
	given, err := adjoint.LoadCheckpoint("q.ckpt", adjoint.LoadOptions{FromSource: SystemFromSource, Schedule: so})
	if err != nil {
		t.Fatal(err)
	}
	a, err := given.Sample(50)
	if err != nil {
		t.Fatal(err)
	}
	b, err := back.Sample(50)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.X {
		if a.X[i] != b.X[i] {
			t.Fatalf("sample %d differs after reloading: %v vs %v", i, a.X[i], b.X[i])
		}
	}
	if _, err := adjoint.LoadCheckpoint("q.ckpt", adjoint.LoadOptions{FromSource: SystemFromSource}); err == nil ||
		!strings.Contains(err.Error(), "declared in a script") {
		t.Errorf("loading without ScheduleFromSource: %v, want a message naming the recorded source", err)
	}
}

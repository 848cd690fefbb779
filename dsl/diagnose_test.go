package dsl

import (
	"errors"
	"math"
	"strings"
	"testing"

	"adjoint/lib/energy"
)

// TestDiagnose checks that a non-finite energy or gradient at a finite configuration is traced
// to the term of the source that first stopped being finite.
func TestDiagnose(t *testing.T) {
	cases := []struct {
		name, energy string
		x            []float64
		pos          string // line:column of the term (the energy starts on line 2)
		want, hint   string // in the message and the hint ("" for no hint)
	}{
		{"log of underflowing exps", "sum pairs i<j: -log(exp(-1000*(r[i,j] - 1)^2) + exp(-1000*(r[i,j] - 2)^2))",
			[]float64{0, 0, 3, 0}, "2:28", "energy is +Inf at a finite configuration: log(exp(-1000 * (r[i,j] - 1) ^ 2) + exp(-1000 * (r[i,j] - 2) ^ 2)) takes the log of 0 (i = 0, j = 1)", "logsumexp"},
		{"exp overflows", "log(exp(800*x[0].x) + 1) + x[1].y",
			[]float64{1, 0, 0, 0}, "2:16", "exp(800 * x[0].x) overflows: exp(800)", "logsumexp"},
		{"division by zero", "1/(x[0].x - x[1].x) + 0*sum i: x[i].y",
			[]float64{1, 0, 1, 0}, "2:12", "1 / (x[0].x - x[1].x) divides by zero", ""},
		{"untaken branch spoils the gradient", "where(x[0].x < 0, exp(1000*x[0].x^2), x[0].x^2) + x[1].y",
			[]float64{2, 0, 0, 0}, "2:30", "gradient of the energy is NaN at a finite configuration: exp(1000 * x[0].x ^ 2) overflows", "where(…)"},
		{"sum of finite terms overflows", "sum i: exp(700 + x[i].x)",
			[]float64{9.3, 0, 9.3, 0}, "2:12", "the sum sum i: exp(700 + x[i].x) is +Inf although each of its terms is finite", "scale"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := "system s { particles 2 in 2d\n  energy = " + c.energy + " }"
			en := compileOne(t, src).Energy.(*Energy)
			err := en.Diagnose(c.x)
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("Diagnose = %v, want a located error", err)
			}
			if got := strings.Split(strings.TrimPrefix(de.Error(), "test.adj:"), ":"); got[0]+":"+got[1] != c.pos {
				t.Errorf("position %s:%s, want %s\n%v", got[0], got[1], c.pos, de)
			}
			if !strings.Contains(de.Msg, c.want) {
				t.Errorf("message %q does not contain %q", de.Msg, c.want)
			}
			if c.hint == "" && de.Hint != "" || !strings.Contains(de.Hint, c.hint) {
				t.Errorf("hint %q, want one with %q", de.Hint, c.hint)
			}
			if de.Line == "" || !strings.Contains(de.Error(), "^") {
				t.Errorf("the error does not show the source line: %v", de)
			}
		})
	}
}

// TestDiagnoseFiniteAndFixed checks that Diagnose is quiet for finite results, and that the
// logsumexp form of the failing soft minimum above is finite with the same value where the
// naive form is.
func TestDiagnoseFiniteAndFixed(t *testing.T) {
	naive := compileOne(t, "system s { particles 2 in 2d\n energy = sum pairs i<j: -log(exp(-3*(r[i,j] - 1)^2) + exp(-3*(r[i,j] - 2)^2)) }").Energy.(*Energy)
	fixed := compileOne(t, "system s { particles 2 in 2d\n energy = sum pairs i<j: -logsumexp(-3*(r[i,j] - 1)^2, -3*(r[i,j] - 2)^2) }").Energy.(*Energy)
	far := compileOne(t, "system s { particles 2 in 2d\n energy = sum pairs i<j: -logsumexp(-1000*(r[i,j] - 1)^2, -1000*(r[i,j] - 2)^2) }").Energy.(*Energy)
	x := []float64{0, 0, 1.3, 0.4}
	e1, e2 := make([]float64, 1), make([]float64, 1)
	naive.EnergyGrad(x, e1, nil)
	fixed.EnergyGrad(x, e2, nil)
	if math.Abs(e1[0]-e2[0]) > 1e-13 {
		t.Errorf("logsumexp form %.17g, naive %.17g", e2[0], e1[0])
	}
	for _, en := range []*Energy{naive, fixed, far} {
		if err := en.Diagnose(x); err != nil {
			t.Errorf("finite configuration diagnosed: %v", err)
		}
	}
	// at distance 3 the naive form with -1000 is +Inf; the logsumexp form is 1000
	e, g := make([]float64, 1), make([]float64, 4)
	far.EnergyGrad([]float64{0, 0, 3, 0}, e, g)
	if e[0] != 1000 || !allFinite(g) {
		t.Errorf("logsumexp form at r = 3: energy %g, gradient %v; want 1000 and finite", e[0], g)
	}
	if err := far.Diagnose([]float64{0, 0, math.Inf(1), 0}); err != nil {
		t.Errorf("a non-finite configuration is not diagnosed, got %v", err)
	}
}

// TestNonFiniteRecordedOnce checks that EnergyGrad explains the first non-finite result of a
// batch, and that a session reports it as a warning with the next statement.
func TestNonFiniteRecordedOnce(t *testing.T) {
	s := NewSession()
	rec := &recorder{}
	src := "system s { particles 1 in 2d\n energy = log(exp(800*x[0].x) + 1) }"
	if _, err := s.Exec(t.Context(), src, "w.adj", rec); err != nil {
		t.Fatal(err)
	}
	de := valueEnergy(t, s)
	x := []float64{0.1, 0, 0.5, 0, 2, 0, 3, 0} // configurations 2 and 3 overflow
	e, g := make([]float64, 4), make([]float64, 8)
	de.EnergyGrad(x, e, g)
	if !math.IsInf(e[2], 1) {
		t.Fatalf("energies %v", e)
	}
	err := de.NonFinite()
	if err == nil || !strings.Contains(err.Error(), "exp(1600)") {
		t.Fatalf("NonFinite = %v, want the overflow of exp(1600) (the first bad configuration)", err)
	}
	de.EnergyGrad(x[6:], e[:1], g[:2])
	if !strings.Contains(de.NonFinite().Error(), "exp(1600)") {
		t.Errorf("the first explanation was replaced: %v", de.NonFinite())
	}
	if _, err := s.Exec(t.Context(), "print 1", "w2.adj", rec); err != nil {
		t.Fatal(err)
	}
	out := rec.text.String()
	if !strings.Contains(out, "warning: w.adj:2:15: system s: the energy is +Inf") || !strings.Contains(out, "logsumexp") {
		t.Errorf("session output %q lacks the warning", out)
	}
	rec.text.Reset()
	if _, err := s.Exec(t.Context(), "print 2", "w3.adj", rec); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(rec.text.String(), "warning") {
		t.Errorf("warning repeated: %q", rec.text.String())
	}
}

func valueEnergy(t *testing.T, s *Session) *Energy {
	t.Helper()
	v, ok := s.Value("s")
	if !ok {
		t.Fatal("no system s")
	}
	return v.(*energy.System).Energy.(*Energy)
}

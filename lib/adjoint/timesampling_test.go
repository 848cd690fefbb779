package adjoint

import (
	"math"
	"testing"

	"adjoint/lib/sde"
)

// TestKappaInverse: the tabulated inverse of γ(t) = κ(t)/κ(1) maps back to γ for a closed-form
// (geometric) and a linear (constant σ) schedule, and "kappa" time sampling draws odd rows
// through it and even rows uniformly.
func TestKappaInverse(t *testing.T) {
	geo, err := sde.Geometric(1e-3, 1.5)
	if err != nil {
		t.Fatal(err)
	}
	con, err := sde.Constant(2)
	if err != nil {
		t.Fatal(err)
	}
	for _, sch := range []sde.Schedule{geo, con} {
		inv := kappaInverse(sch)
		k1 := sch.Kappa(1)
		worst := 0.0
		for _, g := range []float64{0, 1e-4, 0.01, 0.1, 0.3333, 0.5, 0.9, 0.999, 1} {
			ts := timeSampler{kinv: inv}
			tt := ts.at(g, 1)
			worst = max(worst, math.Abs(sch.Kappa(tt)/k1-g))
			if ts.at(g, 0) != g {
				t.Fatalf("%s: even rows must stay uniform", sch.Name())
			}
		}
		if worst > 1e-4 {
			t.Errorf("%s: κ(t(γ))/κ(1) off γ by %g", sch.Name(), worst)
		}
	}
	// Under the geometric schedule half of the κ-uniform draws land before t ≈ 0.047.
	ts := newTimeSampler(TimeKappa, geo)
	want := -math.Log(1-0.5*(1-math.Pow(1500, -2))) / (2 * math.Log(1500))
	if got := ts.at(0.5, 1); math.Abs(got-want) > 1e-6 {
		t.Errorf("median time %g, closed form %g", got, want)
	}
	// "sigma2" draws every row that way.
	all := newTimeSampler(TimeSigma2, geo)
	for row := range 4 {
		if got := all.at(0.5, row); math.Abs(got-want) > 1e-6 {
			t.Errorf("sigma2, row %d: median time %g, closed form %g", row, got, want)
		}
	}
	if ts, err := ParseTimeSampling("sigma2"); err != nil || ts != TimeSigma2 || ts.String() != "sigma2" {
		t.Errorf("ParseTimeSampling(sigma2) = %v, %v", ts, err)
	}
}

func TestCosineLR(t *testing.T) {
	for _, c := range []struct{ f, want float64 }{{-1, 1e-3}, {0, 1e-3}, {0.5, 5.5e-4}, {1, 1e-4}, {2, 1e-4}} {
		if got := cosineLR(1e-3, 1e-4, c.f); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("cosineLR at %g = %g, want %g", c.f, got, c.want)
		}
	}
}

// TestLearningRateAt: the rate a fit is annealed by follows training's cosine to LRFinal, and
// stays at LR without one.
func TestLearningRateAt(t *testing.T) {
	cfg := gaussConfig(t, 2, 1)
	cfg.LR, cfg.LRFinal = 1e-3, 1e-4
	s, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ f, want float64 }{{0, 1e-3}, {0.5, 5.5e-4}, {1, 1e-4}} {
		if got := s.LearningRateAt(c.f); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("annealed: rate at %g = %g, want %g", c.f, got, c.want)
		}
	}
	cfg.LRFinal = 0
	if s, err = NewSampler(cfg); err != nil {
		t.Fatal(err)
	}
	if got := s.LearningRateAt(0.7); got != 1e-3 {
		t.Errorf("constant: rate at 0.7 = %g, want 1e-3", got)
	}
}

// TestSetModel: a replacement network of the system's dimension is used from then on; one of
// another dimension, or none, is refused.
func TestSetModel(t *testing.T) {
	cfg := gaussConfig(t, 2, 1)
	s, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetModel(other.Model()); err != nil || s.Model() != other.Model() {
		t.Fatalf("replacement refused or not used: %v", err)
	}
	wide := gaussConfig(t, 3, 1)
	w, err := NewSampler(wide)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetModel(w.Model()); err == nil {
		t.Fatal("a network of another dimension was accepted")
	}
	if err := s.SetModel(nil); err == nil {
		t.Fatal("a nil network was accepted")
	}
	if err := s.SetSteps(0); err == nil {
		t.Fatal("zero steps accepted")
	}
	if err := s.SetIntegrator(Integrator(7)); err == nil {
		t.Fatal("unknown integrator accepted")
	}
}

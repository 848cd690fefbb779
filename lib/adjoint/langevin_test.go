package adjoint

import (
	"math"
	"strings"
	"testing"

	"adjoint/lib/nn"
)

// zeroModel is a network whose output is 0 everywhere.
type zeroModel struct{ nn.Model }

func (z zeroModel) Forward(x, t, out []float32) error {
	clear(out)
	return nil
}

// TestLangevinGaussianExact: for E = ‖x‖²/(2s²) the Langevin term with the curvature
// a = 1/s² − 1/κ(1) of g is the optimal control itself (TestGaussianOptimalControl's closed
// form), so a network that outputs 0 samples N(0, s²) with nearly equal weights. With a = 0
// (c ≡ 1: the terminal force from the start) it does not.
func TestLangevinGaussianExact(t *testing.T) {
	const std = 0.5
	cases := []struct {
		name    string
		a       float64
		optimal bool
	}{
		{"a of g", 1/(std*std) - 1, true},
		{"c = 1 throughout", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := gaussConfig(t, 2, std)
			cfg.Langevin, cfg.Steps = true, 400
			s, err := NewSampler(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SetModel(zeroModel{s.Model()}); err != nil {
				t.Fatal(err)
			}
			s.langevinA, s.langevinSet = tc.a, true
			sm, err := s.Sample(4000)
			if err != nil {
				t.Fatal(err)
			}
			v := variance(sm.X)
			frac := sm.ESS / float64(sm.N)
			d := sm.Diagnostics()
			t.Logf("a %g: variance %.4f (target %.4f), ESS/N %.3f, log Z %.4f ± %.4f", tc.a, v, std*std, frac, d.LogZ, d.LogZSE)
			if tc.optimal {
				if math.Abs(v-std*std) > 0.06*std*std || frac < 0.95 {
					t.Fatalf("optimal Langevin control: variance %g (want %g), ESS/N %.3f (want ≥ 0.95)", v, std*std, frac)
				}
				// log Z of exp(−‖x‖²/(2s²)) in 2 dimensions is log(2π s²)
				if want := math.Log(2 * math.Pi * std * std); math.Abs(d.LogZ-want) > 0.02 {
					t.Fatalf("log Z %g, want %g", d.LogZ, want)
				}
			} else if math.Abs(v-std*std) < 0.2*std*std {
				t.Fatalf("c ≡ 1 gave variance %g, within 20%% of %g: the test cannot tell c(t) apart", v, std*std)
			}
		})
	}
}

// TestLangevinCurvature: the measured curvature is the mean squared force component on
// base-process samples less 1/κ(1): for the Gaussian with κ(1) = 1, E[x²]/s⁴ − 1 = 1/s⁴ − 1.
func TestLangevinCurvature(t *testing.T) {
	const std = 0.5
	cfg := gaussConfig(t, 2, std)
	cfg.Langevin, cfg.Batch, cfg.TrainBatch = true, 4096, 256
	s, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.langevinCurvature()
	if err != nil {
		t.Fatal(err)
	}
	want := 1/math.Pow(std, 4) - 1
	if math.Abs(a-want) > 0.1*want {
		t.Fatalf("curvature %g, want %g", a, want)
	}
	cfg.NoBaseCorrection = true
	s, _ = NewSampler(cfg)
	if a, _ := s.langevinCurvature(); math.Abs(a-want-1) > 0.1*want {
		t.Fatalf("without the base correction: curvature %g, want %g", a, want+1)
	}
}

// TestLangevinTraining: trained with the Langevin term, the curvature re-measured on the buffer
// reaches the target's and the whole control (network plus term) approaches the closed form, as without it (TestGaussianOptimalControl), so the regression's
// targets match the control the samples are drawn with; a checkpoint keeps the term and its
// curvature, and the evaluations the term costs count as training's.
func TestLangevinTraining(t *testing.T) {
	const std = 0.5
	cfg := gaussConfig(t, 2, std)
	cfg.Langevin = true
	s, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep := train(t, s, cfg.Epochs)
	// near the target the buffer's Fisher information is the curvature of g, 1/s² − 1/κ(1)
	if want := 1/(std*std) - 1; !s.langevinSet || math.Abs(s.langevinA-want) > 0.15*want {
		t.Fatalf("curvature re-measured on the buffer %g (set %v), want %g", s.langevinA, s.langevinSet, want)
	}
	// the plain sampler makes Batch/GradSteps evaluations per step; the term adds one per row
	// and one per state and integration step with c > 0
	if plain := float64(cfg.Batch) / float64(cfg.GradSteps); rep.EvalsPerStep < plain+float64(cfg.TrainBatch) {
		t.Fatalf("%.1f evaluations per step: the Langevin term's are not counted", rep.EvalsPerStep)
	}
	k1 := cfg.Schedule.Kappa(1)
	c := 1/(std*std) - 1/k1
	var num, den float64
	x, u := make([]float64, 2), make([]float64, 2)
	for _, tt := range []float64{0.05, 0.25, 0.5, 0.75, 0.95} {
		a := -c / (1 + c*(k1-cfg.Schedule.Kappa(tt)))
		for range 200 {
			x[0], x[1] = std*s.rng.NormFloat64(), std*s.rng.NormFloat64()
			if err := s.Control(x, tt, u); err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				d := u[i]/cfg.Schedule.Sigma(tt) - a*x[i]
				num += d * d
				den += a * x[i] * a * x[i]
			}
		}
	}
	if e := math.Sqrt(num / den); e > 0.2 {
		t.Fatalf("whole control is %.3f (relative L2) from the closed form", e)
	}
	sm, err := s.Sample(2000)
	if err != nil {
		t.Fatal(err)
	}
	if v := variance(sm.X); math.Abs(v-std*std) > 0.15*std*std || sm.ESS < 0.5*float64(sm.N) {
		t.Fatalf("variance %g (want %g), ESS %.1f of %d", v, std*std, sm.ESS, sm.N)
	}

	l := reload(t, s, cfg)
	if !l.cfg.Langevin || l.langevinA != s.langevinA || !l.langevinSet {
		t.Fatalf("checkpoint: langevin %v, curvature %g (set %v), want %g", l.cfg.Langevin, l.langevinA, l.langevinSet, s.langevinA)
	}
	x = []float64{0.3, -0.2}
	u2 := make([]float64, 2)
	if err := s.Control(x, 0.3, u); err != nil {
		t.Fatal(err)
	}
	if err := l.Control(x, 0.3, u2); err != nil {
		t.Fatal(err)
	}
	if u[0] != u2[0] || u[1] != u2[1] {
		t.Fatalf("loaded control %v, saved %v", u2, u)
	}
	if tab := l.Table().String(); !strings.Contains(tab, "Langevin term") {
		t.Fatalf("the sampler's table does not show the Langevin term:\n%s", tab)
	}
}

// TestLangevinTamed: on a stiff energy far from its minimum the Langevin term is tamed, so that
// one explicit step moves a particle by less than 1 (Δt·σ²·‖term‖ < 1), inward, where the
// untamed force would throw it across the well; an ordinary force is left almost as it is.
func TestLangevinTamed(t *testing.T) {
	for _, c := range []struct {
		std      float64
		x        []float64
		min, max float64 // bounds on Δt·σ²·‖term‖
	}{
		{1e-3, []float64{5, 5}, 0.9, 1},       // force ~7e6: tamed to just under one unit
		{0.5, []float64{0.1, 0}, 0, 0.4 / 40}, // force 0.4: Δt·σ²·‖term‖ about 0.01, untouched
	} {
		cfg := gaussConfig(t, 2, c.std)
		cfg.Langevin, cfg.ClipNorm = true, 0 // no clip: the force itself reaches the term
		s, err := NewSampler(cfg)
		if err != nil {
			t.Fatal(err)
		}
		s.langevinA, s.langevinSet = 1/(c.std*c.std)-1, true
		out := make([]float64, 2)
		s.langevinTerm(c.x, []float64{1}, out) // c(1) = 1
		h := cfg.Schedule.Sigma(1) * cfg.Schedule.Sigma(1) / float64(cfg.Steps)
		step := h * math.Hypot(out[0], out[1])
		if step <= c.min || step >= c.max || out[0]*c.x[0]+out[1]*c.x[1] >= 0 {
			t.Errorf("std %g at %v: term %v, step %g, want in (%g, %g) and inward", c.std, c.x, out, step, c.min, c.max)
		}
	}
}

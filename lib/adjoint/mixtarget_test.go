package adjoint

import (
	"math"
	"strings"
	"testing"

	"adjoint/lib/energy"
	"adjoint/lib/refdata"
)

// TestMixTargetExact checks the mixed regression target (Config.MixTarget) on a Gaussian whose
// buffer holds exact samples: every row's target is the optimal control at its bridge state,
// v*(x, t) = −a·x/(1 + a·(κ(1) − κ(t))) with a = 1/s² − 1/κ(1), with no variance left, where the
// paper's target −∇g(X_1) scatters about it.
func TestMixTargetExact(t *testing.T) {
	const std, dim, n = 0.5, 2, 2048
	for _, mix := range []bool{false, true} {
		cfg := gaussConfig(t, dim, std)
		cfg.MixTarget = mix
		s, err := NewSampler(cfg)
		if err != nil {
			t.Fatal(err)
		}
		k1 := cfg.Schedule.Kappa(1)
		a := 1/(std*std) - 1/k1
		x, y := make([]float64, n*dim), make([]float64, n*dim)
		for i := range x {
			x[i] = std * s.rng.NormFloat64()
			y[i] = -a * x[i] // −∇g = −(x/s² − x/κ(1))
		}
		s.buf.push(x, y, 0, nil)
		if got := s.bufferCurvature(); math.Abs(got-a) > 0.1*a {
			t.Fatalf("curvature of the exact buffer %g, want %g", got, a)
		}
		s.bufA = a // the exact value, so that the targets are exact
		mb := newMatchBatch(n, dim)
		for _, tt := range []float64{0.01, 0.3, 0.7, 0.99} {
			s.draw(mb, n, func(float64, int) float64 { return tt })
			opt := -a / (1 + a*(k1-cfg.Schedule.Kappa(tt)))
			var num, den float64
			for i := range mb.y {
				d := float64(mb.y[i]) - opt*float64(mb.x[i])
				num += d * d
				den += opt * float64(mb.x[i]) * opt * float64(mb.x[i])
			}
			e := math.Sqrt(num / den)
			switch {
			case mix && e > 1e-5:
				t.Fatalf("t = %g: mixed targets are %.3g (relative L2) from the optimal control", tt, e)
			case !mix && tt < 0.9 && e < 0.5:
				t.Fatalf("t = %g: the paper's targets are only %.3g from the optimal control; the test cannot tell the two apart", tt, e)
			}
		}
	}
}

// TestMixTargetTraining checks that training with the mixed target reaches the Gaussian's closed
// form and that checkpoints keep the setting.
func TestMixTargetTraining(t *testing.T) {
	const std = 0.5
	cfg := gaussConfig(t, 2, std)
	cfg.MixTarget = true
	s, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	train(t, s, cfg.Epochs)
	sm, err := s.Sample(2000)
	if err != nil {
		t.Fatal(err)
	}
	if v := variance(sm.X); math.Abs(v-std*std) > 0.1*std*std || sm.ESS < 0.7*float64(sm.N) {
		t.Fatalf("variance %g (want %g), ESS %.1f of %d", v, std*std, sm.ESS, sm.N)
	}
	l := reload(t, s, cfg)
	if !l.cfg.MixTarget {
		t.Fatal("the checkpoint lost the mixed target")
	}
	if tab := l.Table().String(); !strings.Contains(tab, "regression target") {
		t.Fatalf("the sampler's table does not show the mixed target:\n%s", tab)
	}
}

// TestMixTargetRefused checks the systems the mixed target does not serve: a periodic box (the
// denoising form's X_1 − X_t has no single image) and a terminal cost without the base
// correction (the denoising form is the control of g with it).
func TestMixTargetRefused(t *testing.T) {
	f, err := energy.FromFunc(1, 1, func(x []float64) float64 { return -math.Cos(x[0]) },
		func(x, g []float64) { g[0] = math.Sin(x[0]) })
	if err != nil {
		t.Fatal(err)
	}
	torus := DefaultConfig(&energy.System{Name: "ring", Energy: f, Box: []float64{2 * math.Pi}})
	torus.MixTarget = true
	noBase := gaussConfig(t, 2, 0.5)
	noBase.MixTarget, noBase.NoBaseCorrection = true, true
	for name, cfg := range map[string]Config{"periodic": torus, "no base correction": noBase} {
		if _, err := NewSampler(cfg); err == nil || !strings.Contains(err.Error(), "mixed regression target") {
			t.Errorf("%s: error %v, want a refusal of the mixed target", name, err)
		}
	}
}

// TestMixWeightNearOptimal checks, on DW-4's exact samples as the buffer, that the mixed target's
// Gaussian weight c(t) = 1/(1 + a·(κ(1) − κ(t))) is already close to the weight that minimises
// the targets' variance at each time: fitting c per time would gain under 3% of the variance
// (go test -run TestMixWeightNearOptimal -v ./lib/adjoint prints both weights).
func TestMixWeightNearOptimal(t *testing.T) {
	s := referenceBuffer(t, "dw4", refdata.DW4Exact)
	nd := s.space.Dim()
	xt := make([]float64, nd)
	for _, tt := range []float64{0.001, 0.01, 0.03, 0.05, 0.1, 0.2} {
		c, dk := s.mixWeight(tt)
		// second moments of the energy's form A and the denoising form B over bridge draws
		var aa, bb, ab float64
		for range 20000 {
			x1, y := s.buf.state(s.rng.IntN(s.buf.n))
			s.space.Bridge(s.rng, s.cfg.Schedule, tt, x1, xt)
			for i := range nd {
				a, b := y[i], (x1[i]-xt[i])/dk
				aa, bb, ab = aa+a*a, bb+b*b, ab+a*b
			}
		}
		v := func(c float64) float64 { return c*c*aa + (1-c)*(1-c)*bb + 2*c*(1-c)*ab }
		best := (bb - ab) / (aa + bb - 2*ab)
		t.Logf("t = %-5g Gaussian c %.3f, variance-minimising c %.3f, variance gained %.2f%%", tt, c, best, 100*(1-v(best)/v(c)))
		if gain := 1 - v(best)/v(c); gain > 0.03 {
			t.Errorf("t = %g: a fitted weight %.3f would lower the variance by %.1f%% against c(t) = %.3f", tt, best, 100*gain, c)
		}
	}
}

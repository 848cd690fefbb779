package adjoint

import (
	"math"
	"testing"

	"adjoint/lib/energy"
	"adjoint/lib/sde"
)

// TestPeriodicVonMises: on a circle of length 2π the sampler learns the von Mises density
// ∝ exp(k cos(x − μ)), whose circular mean E[e^{ix}] = I₁(k)/I₀(k) e^{iμ}.
func TestPeriodicVonMises(t *testing.T) {
	const k, mu = 2.0, 1.0
	f, err := energy.FromFunc(1, 1, func(x []float64) float64 { return -k * math.Cos(x[0]-mu) },
		func(x, g []float64) { g[0] = k * math.Sin(x[0]-mu) })
	if err != nil {
		t.Fatal(err)
	}
	sys := &energy.System{Name: "vonmises", Energy: f, Box: []float64{2 * math.Pi}}
	cfg := DefaultConfig(sys)
	cfg.Schedule, _ = sde.Constant(1.5)
	cfg.Steps, cfg.Net, cfg.Batch, cfg.TrainBatch, cfg.Buffer, cfg.GradSteps, cfg.LR, cfg.Epochs =
		40, NetConfig{Kind: NetMLP, Layers: 2, Hidden: 32}, 256, 256, 2048, 20, 3e-3, 50
	s, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	train(t, s, cfg.Epochs)
	sm, err := s.Sample(3000)
	if err != nil {
		t.Fatal(err)
	}
	var c, sn float64
	for _, v := range sm.X {
		if v <= -math.Pi || v > math.Pi {
			t.Fatalf("sample %g outside the box", v)
		}
		c += math.Cos(v)
		sn += math.Sin(v)
	}
	c /= float64(sm.N)
	sn /= float64(sm.N)
	r := besselI1(k) / besselI0(k)
	t.Logf("circular mean (%.3f, %.3f), want (%.3f, %.3f); ESS %.0f/%d", c, sn, r*math.Cos(mu), r*math.Sin(mu), sm.ESS, sm.N)
	if math.Hypot(c-r*math.Cos(mu), sn-r*math.Sin(mu)) > 0.06 {
		t.Fatalf("circular mean (%.3f, %.3f), want (%.3f, %.3f)", c, sn, r*math.Cos(mu), r*math.Sin(mu))
	}
}

// besselI0 and besselI1 by their power series (fine for small arguments).
func besselI0(x float64) float64 {
	s, term := 1.0, 1.0
	for m := 1; m < 40; m++ {
		term *= (x / 2) * (x / 2) / float64(m*m)
		s += term
	}
	return s
}

func besselI1(x float64) float64 {
	term := x / 2
	s := term
	for m := 1; m < 40; m++ {
		term *= (x / 2) * (x / 2) / float64(m*(m+1))
		s += term
	}
	return s
}

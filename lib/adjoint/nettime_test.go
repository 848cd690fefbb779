package adjoint

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"adjoint/lib/sde"
)

// TestNetTime checks the network's κ time input (Config.NetTime): the map ½(t + κ(t)/κ(1)) runs
// from 0 to 1, rises, and gives the early part of a geometric schedule a large share of the
// input range; the control feeds the network the mapped time; training with it reaches a
// Gaussian's variance; a checkpoint keeps the setting, so a reloaded sampler draws exactly what
// the trained one draws (and differently with the paper's input, so the setting matters); bad
// values get clear errors.
func TestNetTime(t *testing.T) {
	const std = 0.5
	cfg := gaussConfig(t, 2, std)
	var err error
	if cfg.Schedule, err = sde.Geometric(1e-3, 1.5); err != nil {
		t.Fatal(err)
	}
	cfg.NetTime = NetTimeKappa
	s, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}

	if a, b := s.netTimeOf(0), s.netTimeOf(1); math.Abs(a) > 1e-12 || math.Abs(b-1) > 1e-12 {
		t.Errorf("time input at t = 0 and 1: %g, %g, want 0 and 1", a, b)
	}
	prev := -1.0
	for i := 0; i <= 1000; i++ {
		tt := float64(i) / 1000
		v := s.netTimeOf(tt)
		if !(v > prev) || v < tt-1e-12 {
			t.Fatalf("time input %g at t = %g (previous %g): want rising and at least t", v, tt, prev)
		}
		prev = v
	}
	if v := s.netTimeOf(0.05); !(v > 0.25) {
		t.Errorf("time input at t = 0.05 is %g: the early times should take a quarter of the range", v)
	}

	// The control is σ(t) times the network at the mapped time.
	x := []float64{0.3, -0.2, 1.1, 0.4}
	u := make([]float64, len(x))
	const tt = 0.03
	if err := s.control(context.Background())(x, tt, u); err != nil {
		t.Fatal(err)
	}
	x32 := []float32{0.3, -0.2, 1.1, 0.4}
	out := make([]float32, len(x32))
	tn := float32(s.netTimeOf(tt))
	if err := s.model.Forward(x32, []float32{tn, tn}, out); err != nil {
		t.Fatal(err)
	}
	sig := cfg.Schedule.Sigma(tt)
	for i := range u {
		if want := sig * float64(out[i]); math.Abs(u[i]-want) > 1e-6*(1+math.Abs(want)) {
			t.Fatalf("control[%d] = %g, want σ(t)·v(x, ½(t + κ(t)/κ(1))) = %g", i, u[i], want)
		}
	}

	train(t, s, cfg.Epochs)
	smp, err := s.Sample(4000)
	if err != nil {
		t.Fatal(err)
	}
	if v := meanSquare(smp.X); math.Abs(v-std*std) > 0.2*std*std {
		t.Errorf("variance of the samples %.4f, want %.4f", v, std*std)
	}

	l := reload(t, s, cfg)
	if l.cfg.NetTime != NetTimeKappa {
		t.Fatalf("checkpoint keeps net_time %v, want kappa", l.cfg.NetTime)
	}
	want := seededDraw(t, s, 64)
	if got := seededDraw(t, l, 64); !slices.Equal(got, want) {
		t.Errorf("the reloaded sampler draws differently from the trained one")
	}
	l.cfg.NetTime = NetTimeT
	if got := seededDraw(t, l, 64); slices.Equal(got, want) {
		t.Errorf("draws with the paper's time input equal those with the κ input: the setting has no effect")
	}

	bad := cfg
	bad.NetTime = NetTime(5)
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "network time input") {
		t.Errorf("net_time 5: %v", err)
	}
	if _, err := ParseNetTime("log"); err == nil || !strings.Contains(err.Error(), "network time input") {
		t.Errorf("ParseNetTime(log): %v", err)
	}
	for _, name := range []string{"", "t", "kappa"} {
		nt, err := ParseNetTime(name)
		if err != nil || (name != "" && nt.String() != name) {
			t.Errorf("ParseNetTime(%q) = %v, %v", name, nt, err)
		}
	}
}

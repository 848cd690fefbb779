package adjoint

import (
	"math"
	"testing"

	"adjoint/lib/sde"
)

// TestDefensive: an untrained sampler whose base process (sd 0.5) is far narrower than the
// Gaussian target (sd 4) misses the target's tails: plain importance weights put log Z far too
// low and say little. A defensive share of 0.2 restores log Z within its error and the second
// moment, the Student-t rows come last, the raw check compares the model's rows only, and
// bad settings are refused.
func TestDefensive(t *testing.T) {
	const std = 4.0
	cfg := gaussConfig(t, 2, std)
	cfg.Schedule, _ = sde.Geometric(1e-2, 0.5)
	cfg.Steps, cfg.Batch = 25, 1000
	exact := math.Log(2 * math.Pi * std * std)
	draw := func(alpha float64) (*Samples, Diagnostics) {
		t.Helper()
		s, err := NewSampler(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetDefensive(alpha); err != nil {
			t.Fatal(err)
		}
		sm, err := s.Sample(6000)
		if err != nil {
			t.Fatal(err)
		}
		return sm, sm.Diagnostics()
	}
	_, plain := draw(0)
	sm, def := draw(0.2)
	t.Logf("exact log Z %.3f; plain %.3f ± %.3f (ESS %.1f); defensive %.3f ± %.3f (ESS %.1f)",
		exact, plain.LogZ, plain.LogZSE, plain.ESS, def.LogZ, def.LogZSE, def.ESS)
	if !(plain.LogZ < exact-1) {
		t.Fatalf("plain log Z %.3f is not far below the exact %.3f: the test's proposal is not wrong enough", plain.LogZ, exact)
	}
	if math.Abs(def.LogZ-exact) > math.Max(4*def.LogZSE, 0.1) {
		t.Errorf("defensive log Z %.3f ± %.3f, exact %.3f", def.LogZ, def.LogZSE, exact)
	}
	if sm.Defensive != 1200 || sm.N != 6000 || len(sm.X) != 12000 {
		t.Fatalf("defensive rows %d of %d (%d numbers), want 1200 of 6000", sm.Defensive, sm.N, len(sm.X))
	}
	// weighted second moment E|x|² = 2·std²
	w := sm.Weights()
	var m2 float64
	for i := range sm.N {
		m2 += w[i] * (sm.X[2*i]*sm.X[2*i] + sm.X[2*i+1]*sm.X[2*i+1])
	}
	if math.Abs(m2/(2*std*std)-1) > 0.25 {
		t.Errorf("weighted E|x|² = %.2f, exact %.2f", m2, 2*std*std)
	}
	// the model's rows are narrow (sd about 0.5), the t's broad
	var rm, dm float64
	nq := sm.N - sm.Defensive
	for i := range sm.N {
		r2 := sm.X[2*i]*sm.X[2*i] + sm.X[2*i+1]*sm.X[2*i+1]
		if i < nq {
			rm += r2 / float64(nq)
		} else {
			dm += r2 / float64(sm.Defensive)
		}
	}
	if !(rm < 1 && dm > 4*rm) {
		t.Errorf("mean |x|² of the model's rows %.3g, of the defensive rows %.3g: want the model's first and narrow", rm, dm)
	}
	// the raw check sees the model's rows against the target: they are far too narrow
	if sm.RawWarning() == "" {
		t.Error("no raw-sample warning for a proposal of a tenth of the target's width")
	}
	s, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []float64{-0.1, 1, math.NaN()} {
		if err := s.SetDefensive(bad); err == nil {
			t.Errorf("SetDefensive(%g) accepted", bad)
		}
	}
	dwc := tinyDW4(t, nil).Config()
	dw, err := NewSampler(dwc)
	if err != nil {
		t.Fatal(err)
	}
	if err := dw.SetDefensive(0.1); err == nil {
		t.Error("SetDefensive on a system with translation symmetry accepted")
	}
	if dwc.Defensive = 0.1; dwc.Validate() == nil {
		t.Error("Config.Defensive on a system with translation symmetry accepted")
	}
	// the setting is the configuration's, and a checkpoint keeps it
	cfg.Defensive = 0.2
	s2, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	back := reload(t, s2, cfg)
	sm2, err := back.Sample(100)
	if err != nil {
		t.Fatal(err)
	}
	if back.Config().Defensive != 0.2 || sm2.Defensive != 20 {
		t.Errorf("loaded checkpoint: defensive %g, %d defensive rows of 100; want 0.2 and 20", back.Config().Defensive, sm2.Defensive)
	}
}

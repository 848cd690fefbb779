package dsl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"adjoint/lib/adjoint"
	"adjoint/lib/sde"
)

// A script that declares only a system (8 Gaussians on a circle of radius 5) gets the probe's
// defaults: a schedule whose σ_max covers the radius, shown with its reasons, and it trains.
func TestDefaultsForSystemOnlyScript(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "gauss8.adj"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, ch, err := TrainingDefaults(t.Context(), string(src), "gauss8.adj")
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := sde.SpecOf(cfg.Schedule)
	if spec.Kind != "geometric" || spec.SigmaMax < 5 || len(ch) == 0 {
		t.Fatalf("schedule %s, choices %v: want geometric with σ_max ≥ 5", cfg.Schedule.Name(), ch)
	}
	// the same defaults through a sampler declared without an sde; a few small epochs train
	var rec recorder
	script := string(src) + "\nsampler s = adjoint(gauss8) { batch 64; grad_steps 5; steps 50 }\ntrain s for 3 epochs\n"
	binds, err := NewSession().Exec(t.Context(), script, "g.adj", &rec)
	if err != nil {
		t.Fatal(err)
	}
	var smp *adjoint.Sampler
	for _, b := range binds {
		if v, ok := b.Value.(*adjoint.Sampler); ok {
			smp = v
		}
	}
	if smp == nil || smp.Epoch() != 3 {
		t.Fatalf("sampler %v did not train 3 epochs", smp)
	}
	if got := smp.Config().Schedule.Name(); got != cfg.Schedule.Name() {
		t.Errorf("sampler schedule %s, script defaults %s", got, cfg.Schedule.Name())
	}
	if out := rec.shownText(); !strings.Contains(out, "defaults for gauss8") || !strings.Contains(out, "spread") {
		t.Errorf("choices not shown:\n%s", out)
	}
	// with an sde the script's schedule wins and nothing is probed
	_, ch, err = TrainingDefaults(t.Context(), string(src)+"\nsde ve { sigma = geometric(1e-2, 4) }\n", "g.adj")
	if err != nil || ch != nil {
		t.Errorf("with an sde: choices %v, error %v", ch, err)
	}
}

// A system whose energy is NaN everywhere fails with a one-line error naming the probe.
func TestDefaultsNaNSystem(t *testing.T) {
	_, _, err := TrainingDefaults(t.Context(), "system bad { particles 1 in 2d; energy = log(-1 - x[0].x^2) }", "bad.adj")
	if err == nil || !strings.Contains(err.Error(), "NaN or infinite at every one") || strings.Contains(err.Error(), "\n") {
		t.Errorf("error %v", err)
	}
}

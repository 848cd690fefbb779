package adjoint

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"adjoint/lib/nn"
)

// TestSampleUsesAverage: under Config.EMA a sampler draws with its parameter average, bit for
// bit as a network holding the average as its parameters does, and not as the last parameters
// do; the checkpoint carries the decay and the average, and Averaging says what is used.
func TestSampleUsesAverage(t *testing.T) {
	s := tinyDW4(t, func(c *Config) { c.EMA = 0.9 })
	train(t, s, 3)
	path := filepath.Join(t.TempDir(), "s.ckpt")
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	draw := func(s *Sampler) []float64 { return seededDraw(t, s, 40) }
	got := draw(s)
	if !strings.Contains(s.Averaging(), "decay 0.9") {
		t.Errorf("Averaging() = %q", s.Averaging())
	}
	// a loaded copy whose parameters are set to the average, and which keeps none
	avgNet, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if avgNet.Config().EMA != 0.9 {
		t.Fatalf("checkpoint EMA %g, want 0.9", avgNet.Config().EMA)
	}
	a := avgNet.Model().(nn.Averaged)
	if a.AverageDecay() != 0.9 || !a.SwapAverage() {
		t.Fatal("the loaded network keeps no average")
	}
	avgNet.cfg.EMA = 0
	if err := a.SetAverage(0); err != nil {
		t.Fatal(err)
	}
	if want := draw(avgNet); !slices.Equal(got, want) {
		t.Error("samples differ from those of a network holding the average")
	}
	// the last parameters draw otherwise
	last, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	last.cfg.EMA = 0
	if err := last.Model().(nn.Averaged).SetAverage(0); err != nil {
		t.Fatal(err)
	}
	lastDraw := draw(last)
	if slices.Equal(got, lastDraw) {
		t.Error("samples with the average equal those with the last parameters")
	}
	// UseAverage(false) on a sampler that keeps the average draws as the last parameters do
	both, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	both.UseAverage(false)
	if !slices.Equal(draw(both), lastDraw) || !strings.Contains(both.Averaging(), "last parameters") {
		t.Error("UseAverage(false) does not draw with the last parameters")
	}
	both.UseAverage(true)
	if !slices.Equal(draw(both), got) {
		t.Error("UseAverage(true) does not draw with the average")
	}
	if !strings.HasPrefix(last.Averaging(), "none") {
		t.Errorf("Averaging() without an average = %q", last.Averaging())
	}
	// sampling leaves the parameters in place: training continues from them
	before := modelBytes(t, s.model)
	draw(s)
	if !slices.Equal(before, modelBytes(t, s.model)) {
		t.Error("sampling changed the network")
	}
	bad := DefaultConfig(s.cfg.System)
	for _, v := range []float64{-0.5, 1, 2} {
		bad.EMA = v
		if err := bad.Validate(); err == nil {
			t.Errorf("EMA %g accepted", v)
		}
	}
}

package adjoint

import (
	"slices"
	"testing"
)

// TestSampleSteps: Config.SampleSteps puts a trained model's draws on their own grid, bit for
// bit as a sampler set to that many steps throughout (SetSteps) draws, and not as the training
// grid draws; training keeps its steps, the checkpoint keeps both, SetSteps overrides it, and a
// negative value is refused.
func TestSampleSteps(t *testing.T) {
	s := tinyDW4(t, func(c *Config) { c.SampleSteps = 30 })
	train(t, s, 2)
	draw := func(s *Sampler) []float64 { return seededDraw(t, s, 40) }
	l := reload(t, s, s.cfg)
	if c := l.Config(); c.SampleSteps != 30 || c.Steps != 10 {
		t.Fatalf("checkpoint keeps steps %d and sample steps %d, want 10 and 30", c.Steps, c.SampleSteps)
	}
	got := draw(l)
	if l.Config().Steps != 10 {
		t.Errorf("after sampling the training grid is %d steps, want 10", l.Config().Steps)
	}
	fine := reload(t, s, s.cfg)
	if err := fine.SetSteps(30); err != nil {
		t.Fatal(err)
	}
	if c := fine.Config(); c.SampleSteps != 0 || c.Steps != 30 {
		t.Fatalf("SetSteps(30): steps %d, sample steps %d", c.Steps, c.SampleSteps)
	}
	if !slices.Equal(got, draw(fine)) {
		t.Error("draws on the sampling grid differ from a sampler set to 30 steps")
	}
	coarse := reload(t, s, s.cfg)
	coarse.cfg.SampleSteps = 0
	if slices.Equal(got, draw(coarse)) {
		t.Error("draws on the sampling grid equal those on the training grid")
	}
	bad := s.Config()
	bad.SampleSteps = -1
	if err := bad.Validate(); err == nil {
		t.Error("SampleSteps -1 accepted")
	}
}

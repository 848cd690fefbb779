package adjoint

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"adjoint/lib/energy"
)

// TestLoadOptions: a checkpoint of a system that is not a benchmark loads only with the system
// supplied, directly or through Resolve (which gets the recorded name), at the recorded
// temperature; a system of another shape is refused.
func TestLoadOptions(t *testing.T) {
	cfg := gaussConfig(t, 2, 1)
	cfg.System.Temperature = 0.5
	s, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "g.ckpt")
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	fresh := func() *energy.System {
		c := gaussConfig(t, 2, 1)
		return c.System
	}
	var asked string
	resolve := func(name string) (*energy.System, error) {
		asked = name
		if name == "gauss" {
			return fresh(), nil
		}
		return nil, errors.New("unknown")
	}
	wide := gaussConfig(t, 3, 1).System
	cases := []struct {
		name string
		opt  LoadOptions
		err  string // substring; "" loads
	}{
		{"nothing", LoadOptions{}, `system "gauss" must be supplied`},
		{"system", LoadOptions{System: fresh()}, ""},
		{"resolve", LoadOptions{Resolve: resolve}, ""},
		{"failing resolve", LoadOptions{Resolve: func(string) (*energy.System, error) { return nil, errors.New("nope") }}, "nope"},
		{"other shape", LoadOptions{System: wide}, "does not match"},
	}
	for _, c := range cases {
		got, err := LoadCheckpoint(path, c.opt)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: error %v, want %q", c.name, err, c.err)
		case c.err == "" && c.opt.System == nil && got.Config().System.Tau() != 0.5:
			t.Errorf("%s: temperature %g, recorded 0.5", c.name, got.Config().System.Tau())
		}
	}
	if asked != "gauss" {
		t.Errorf("Resolve asked for %q", asked)
	}
}

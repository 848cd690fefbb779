package dsl

import (
	"context"
	"fmt"

	"adjoint/lib/adjoint"
	"adjoint/lib/energy"
)

// samplerDefaults is the configuration a sampler starts from: the library's DefaultConfig when
// the script names an sde, and adjoint.DefaultsFor (a short probe of the energy) when it does
// not; the probe's choices are shown.
func samplerDefaults(env *runEnv, sys *energy.System, probe bool) (adjoint.Config, error) {
	return configDefaults(sys, probe, env.show)
}

// configDefaults returns DefaultsFor's configuration when probe is set (and shows its choices
// with show, when not nil), else DefaultConfig's.
func configDefaults(sys *energy.System, probe bool, show func(any)) (adjoint.Config, error) {
	if !probe {
		return adjoint.DefaultConfig(sys), nil
	}
	cfg, ch, err := adjoint.DefaultsFor(sys, adjoint.DefaultConfig(sys).Seed)
	if err != nil {
		return adjoint.Config{}, fmt.Errorf("defaults for system %s: %w", sys.Name, err)
	}
	if show != nil {
		show(adjoint.ChoicesTable(sys.Name, ch))
	}
	return cfg, nil
}

// TrainingDefaults checks a script and returns the training configuration it declares: that of
// its last sampler; or else, for its last system, the library's DefaultConfig with its last sde
// when it declares one, and adjoint.DefaultsFor (a short probe of the energy) when it declares
// none, with the choices made (nil otherwise). Only declarations run.
func TrainingDefaults(ctx context.Context, src, filename string) (adjoint.Config, []adjoint.Choice, error) {
	s := NewSession()
	s.DryRun = true
	binds, err := s.Exec(ctx, src, filename, nil)
	if err != nil {
		return adjoint.Config{}, nil, err
	}
	var smp *adjoint.Sampler
	var sys *energy.System
	var sd *SDE
	for _, b := range binds {
		switch v := b.Value.(type) {
		case *adjoint.Sampler:
			smp = v
		case *energy.System:
			sys = v
		case *SDE:
			sd = v
		}
	}
	if smp != nil {
		return smp.Config(), nil, nil
	}
	if sys == nil {
		return adjoint.Config{}, nil, fmt.Errorf("%s declares no sampler and no system", nameOr(filename))
	}
	if sd != nil {
		cfg := adjoint.DefaultConfig(sys)
		cfg.Schedule = sd.Schedule
		if sd.Steps > 0 {
			cfg.Steps = sd.Steps
		}
		return cfg, nil, nil
	}
	cfg, ch, err := adjoint.DefaultsFor(sys, adjoint.DefaultConfig(sys).Seed)
	if err != nil {
		return adjoint.Config{}, nil, fmt.Errorf("defaults for system %s: %w", sys.Name, err)
	}
	return cfg, ch, nil
}

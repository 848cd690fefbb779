// Package zoo is a collection of sampling targets with exact or trusted answers: the 40-mode
// Gaussian mixture (gmm40), the 32-dimensional many-well (manywell32), Neal's funnel in 10-D
// (funnel10), the Müller–Brown potential (mueller-brown) and a periodic three-well system on a
// torus (torus3). Each target has its energy (package energy, resolved by energy.Benchmark), a
// default training configuration, its exact log Z and mode or basin masses (closed forms or
// converged quadrature computed here), exact samples, and an evaluation of generated samples
// with importance weights (Evaluate).
package zoo

import (
	"fmt"
	"math"
	"strings"
	"sync"

	"adjoint/lib/adjoint"
	"adjoint/lib/energy"
)

// Target is one zoo entry.
type Target struct {
	Name        string
	Description string

	once  sync.Once
	exact *Exact
	err   error
	q     *quad // the quadrature tables behind the exact answers (nil for closed forms)
}

var targets = map[string]*Target{
	"gmm40":         {Name: "gmm40", Description: "2-D mixture of 40 equal-weight Gaussians (std softplus(1)) with means uniform in [−40, 40]² (this project's seed)"},
	"manywell32":    {Name: "manywell32", Description: "32-D many-well: 16 copies of the double well x⁴ − 6x² − 0.5x + ½y² (2^16 modes)"},
	"funnel10":      {Name: "funnel10", Description: "Neal's funnel in 10-D: v ~ N(0, 3²), x_i | v ~ N(0, e^v), i = 1..9"},
	"mueller-brown": {Name: "mueller-brown", Description: "2-D Müller–Brown potential at τ = 20 (three basins)"},
	"torus3":        {Name: "torus3", Description: "one particle on the 2-D torus (−π, π]² with three unequal wells, τ = 1"},
}

// Names returns the zoo's target names.
func Names() []string { return energy.ZooNames() }

// Known reports whether name is a zoo target.
func Known(name string) bool { _, ok := targets[name]; return ok }

// Lookup returns the zoo target called name.
func Lookup(name string) (*Target, error) {
	t, ok := targets[name]
	if !ok {
		return nil, fmt.Errorf("zoo: unknown target %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return t, nil
}

// System returns a fresh copy of the target's system.
func (t *Target) System() (*energy.System, error) {
	s, err := energy.Benchmark(t.Name)
	if err != nil {
		return nil, fmt.Errorf("zoo: %w", err)
	}
	return s, nil
}

// Config returns the target's default training configuration, adjoint.DefaultConfig of its
// system, which holds the zoo's per-target defaults (a schedule wide enough for the target with
// enough steps for a stable drift early in training; see docs/zoo.md).
func (t *Target) Config() (adjoint.Config, error) {
	sys, err := t.System()
	if err != nil {
		return adjoint.Config{}, err
	}
	return adjoint.DefaultConfig(sys), nil
}

// Exact returns the target's exact answers, computing them on first use (quadrature on fine
// grids for mueller-brown and torus3 takes a fraction of a second).
func (t *Target) Exact() (*Exact, error) {
	t.once.Do(func() { t.exact, t.q, t.err = computeExact(t.Name) })
	if t.err != nil {
		return nil, t.err
	}
	cp := *t.exact
	cp.Regions = append([]string(nil), t.exact.Regions...)
	cp.Masses = append([]float64(nil), t.exact.Masses...)
	return &cp, nil
}

// Exact holds a target's exact (or converged-quadrature) answers at its temperature.
type Exact struct {
	Target string `json:"target"`
	// LogZ is log ∫ exp(−E(x)/τ) dx over the target's space (the box, on a torus).
	LogZ       float64 `json:"log_z"`
	LogZMethod string  `json:"log_z_method"`
	// LogZCheck is the same quantity at half the quadrature resolution (equal to LogZ for closed
	// forms): the difference bounds the quadrature error.
	LogZCheck float64 `json:"log_z_check"`
	// Regions are the modes or basins, Masses their exact probabilities (summing to 1).
	Regions       []string  `json:"regions"`
	Masses        []float64 `json:"masses"`
	RegionsMethod string    `json:"regions_method"`
	// MassCheck is the largest change of a region mass between the two quadrature resolutions
	// (0 for closed forms).
	MassCheck float64 `json:"mass_check"`
	// PPositive is, for manywell32, the probability that a copy's first coordinate is positive.
	PPositive float64 `json:"p_positive,omitempty"`
	// ExactSamples says how exact samples are drawn.
	ExactSamples string `json:"exact_samples"`
}

// normalCDF is Φ.
func normalCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

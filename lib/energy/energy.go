// Package energy defines the Energy interface of the library and the benchmark energies
// (DW-4, LJ-n, Gaussian mixtures, many-well).
//
// Configurations are flat float64 slices: a batch of B configurations of n particles in d
// dimensions is B·n·d numbers, row-major (configuration, particle, coordinate).
package energy

import (
	"fmt"
	"sync/atomic"
)

// Energy is a batched potential energy with its gradient.
type Energy interface {
	// Particles is the number of particles n.
	Particles() int
	// SpatialDim is the dimension d of each particle's coordinates.
	SpatialDim() int
	// EnergyGrad evaluates a batch: x holds B configurations of n·d numbers; e (length B)
	// receives the energies; grad, when not nil, receives ∇E (length B·n·d).
	// Implementations may split the batch over cores.
	EnergyGrad(x, e, grad []float64)
}

// Symmetry is the set of symmetries a system declares.
type Symmetry struct {
	Translation bool // state kept in the zero centre-of-mass subspace
	Rotation    bool // rotations and reflections (E(n)-equivariant controller)
	Permutation bool // identical particles
}

// System is a Boltzmann target exp(−E/τ) together with what samplers must respect.
type System struct {
	Name        string
	Energy      Energy
	Temperature float64   // τ; 0 means 1
	Symmetry    Symmetry  // declared symmetries
	Box         []float64 // periodic box lengths per coordinate (len d); nil when not periodic
	// Source, when not empty, is the text that declares the system in the DSL (with the
	// parameters it uses); checkpoints record it, so that they load without the script.
	Source string
}

// Dim returns n·d.
func (s *System) Dim() int { return s.Energy.Particles() * s.Energy.SpatialDim() }

// Tau returns the temperature, 1 when unset.
func (s *System) Tau() float64 {
	if s.Temperature <= 0 {
		return 1
	}
	return s.Temperature
}

// Periodic reports whether the system lives on a torus.
func (s *System) Periodic() bool { return len(s.Box) > 0 }

// Validate checks that the system is usable.
func (s *System) Validate() error {
	if s.Energy == nil {
		return fmt.Errorf("system %q: no energy", s.Name)
	}
	if s.Energy.Particles() < 1 || s.Energy.SpatialDim() < 1 {
		return fmt.Errorf("system %q: %d particles in %d dimensions", s.Name, s.Energy.Particles(), s.Energy.SpatialDim())
	}
	if s.Periodic() && len(s.Box) != s.Energy.SpatialDim() {
		return fmt.Errorf("system %q: periodic box has %d lengths for %d dimensions", s.Name, len(s.Box), s.Energy.SpatialDim())
	}
	for i, l := range s.Box {
		if !(l > 0) {
			return fmt.Errorf("system %q: box length %d is %g, must be positive", s.Name, i, l)
		}
	}
	return nil
}

// Counter wraps an Energy and counts evaluations (one per configuration evaluated), so users see
// energy evaluations per gradient step. It is safe for concurrent use.
type Counter struct {
	Energy
	n atomic.Int64
}

// NewCounter wraps e.
func NewCounter(e Energy) *Counter { return &Counter{Energy: e} }

// EnergyGrad evaluates and counts len(e) evaluations.
func (c *Counter) EnergyGrad(x, e, grad []float64) {
	c.n.Add(int64(len(e)))
	c.Energy.EnergyGrad(x, e, grad)
}

// Count returns the number of configurations evaluated so far.
func (c *Counter) Count() int64 { return c.n.Load() }

// Reset sets the count to zero.
func (c *Counter) Reset() { c.n.Store(0) }

// Package sde holds the noise schedules, the base process and its bridges, and the
// Euler–Maruyama integrator of the controlled SDE dX = σ(t) u dt + σ(t) dW on [0, 1] with
// X_0 = 0, together with the projections that keep states in the right space (zero centre of
// mass, periodic box).
//
// States are flat float64 slices: a batch of B states of n particles in d dimensions is B·n·d
// numbers, row-major (state, particle, coordinate).
package sde

import (
	"fmt"
	"math"
)

// Schedule is a noise schedule σ(t) on [0, 1] with κ(t) = ∫_0^t σ(s)² ds, the variance of the
// base process X_t ~ N(0, κ(t) I).
type Schedule interface {
	Sigma(t float64) float64
	Kappa(t float64) float64
	Name() string
}

type geometric struct{ smin, smax, logr float64 }

// Geometric returns the paper's variance-exploding schedule σ(t) = σ_min r^(1−t) sqrt(2 ln r),
// r = σ_max/σ_min, with κ(t) = σ_max² (1 − r^(−2t)) in closed form.
func Geometric(sigmaMin, sigmaMax float64) (Schedule, error) {
	if !(sigmaMin > 0) || !(sigmaMax > sigmaMin) || math.IsInf(sigmaMax, 0) {
		return nil, fmt.Errorf("sde: geometric schedule needs 0 < σ_min < σ_max < ∞, got %g, %g", sigmaMin, sigmaMax)
	}
	return &geometric{smin: sigmaMin, smax: sigmaMax, logr: math.Log(sigmaMax / sigmaMin)}, nil
}

func (g *geometric) Sigma(t float64) float64 {
	return g.smin * math.Exp((1-t)*g.logr) * math.Sqrt(2*g.logr)
}

func (g *geometric) Kappa(t float64) float64 {
	return -g.smax * g.smax * math.Expm1(-2*t*g.logr)
}

func (g *geometric) Name() string { return fmt.Sprintf("geometric(%g, %g)", g.smin, g.smax) }

type constant struct{ s float64 }

// Constant returns σ(t) = sigma, κ(t) = sigma² t.
func Constant(sigma float64) (Schedule, error) {
	if !(sigma > 0) || math.IsInf(sigma, 0) {
		return nil, fmt.Errorf("sde: constant schedule needs 0 < σ < ∞, got %g", sigma)
	}
	return &constant{s: sigma}, nil
}

func (c *constant) Sigma(float64) float64   { return c.s }
func (c *constant) Kappa(t float64) float64 { return c.s * c.s * t }
func (c *constant) Name() string            { return fmt.Sprintf("constant(%g)", c.s) }

// gridN is the number of intervals of the tabulated κ of FromFunc.
const gridN = 4096

type tabulated struct {
	name  string
	sigma func(float64) float64
	k     []float64 // κ at the grid nodes
	s2    []float64 // σ² at the grid nodes (κ')
	// source is the declaring text (WithSource), "" when unknown
	source string
}

// FromFunc returns the schedule of a user σ(t) (finite, non-negative on [0, 1], with κ(1) > 0).
// κ is integrated once on a grid of 4096 intervals by adaptive Simpson quadrature and
// interpolated by cubic Hermite polynomials using κ' = σ² (in the first interval κ is
// integrated directly), which keeps a relative accuracy of about 1e-9 or better for smooth σ.
func FromFunc(name string, sigma func(t float64) float64) (Schedule, error) {
	if sigma == nil {
		return nil, fmt.Errorf("sde: schedule %q has no σ function", name)
	}
	s := &tabulated{name: name, sigma: sigma, k: make([]float64, gridN+1), s2: make([]float64, gridN+1)}
	f := func(t float64) float64 { v := sigma(t); return v * v }
	h := 1.0 / gridN
	for i := 0; i <= gridN; i++ {
		v := sigma(float64(i) * h)
		if !(v >= 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("sde: schedule %q: σ(%g) = %g, must be finite and ≥ 0", name, float64(i)*h, v)
		}
		s.s2[i] = v * v
	}
	for i := range gridN {
		a, b := float64(i)*h, float64(i+1)*h
		fa, fb, fm := s.s2[i], s.s2[i+1], f((a+b)/2)
		whole := (b - a) / 6 * (fa + 4*fm + fb)
		s.k[i+1] = s.k[i] + adaptiveSimpson(f, a, b, fa, fm, fb, whole, 1e-15*math.Max(whole, 1e-300)+1e-300, 40)
	}
	if !(s.k[gridN] > 0) || math.IsInf(s.k[gridN], 0) || math.IsNaN(s.k[gridN]) {
		return nil, fmt.Errorf("sde: schedule %q: κ(1) = %g, must be positive and finite", name, s.k[gridN])
	}
	return s, nil
}

// adaptiveSimpson integrates f over [a, b] given f at a, (a+b)/2, b and the Simpson estimate.
func adaptiveSimpson(f func(float64) float64, a, b, fa, fm, fb, whole, tol float64, depth int) float64 {
	m := (a + b) / 2
	lm, rm := (a+m)/2, (m+b)/2
	flm, frm := f(lm), f(rm)
	left := (m - a) / 6 * (fa + 4*flm + fm)
	right := (b - m) / 6 * (fm + 4*frm + fb)
	if depth <= 0 || math.Abs(left+right-whole) <= 15*tol {
		return left + right + (left+right-whole)/15
	}
	return adaptiveSimpson(f, a, m, fa, flm, fm, left, tol/2, depth-1) +
		adaptiveSimpson(f, m, b, fm, frm, fb, right, tol/2, depth-1)
}

func (s *tabulated) Sigma(t float64) float64 { return s.sigma(t) }

func (s *tabulated) Kappa(t float64) float64 {
	if t <= 0 {
		return 0
	}
	if t >= 1 {
		return s.k[gridN]
	}
	u := t * gridN
	i := min(int(u), gridN-1)
	if i == 0 {
		// near t = 0, κ may vanish to high order (σ(0) = 0): integrate directly to keep the
		// relative accuracy
		f := func(t float64) float64 { v := s.sigma(t); return v * v }
		fa, fm, fb := s.s2[0], f(t/2), f(t)
		whole := t / 6 * (fa + 4*fm + fb)
		return adaptiveSimpson(f, 0, t, fa, fm, fb, whole, 1e-14*math.Abs(whole)+1e-300, 30)
	}
	x := u - float64(i) // in [0, 1]
	h := 1.0 / gridN
	// cubic Hermite on [t_i, t_{i+1}] with values κ and slopes σ²
	x2, x3 := x*x, x*x*x
	h00 := 2*x3 - 3*x2 + 1
	h10 := x3 - 2*x2 + x
	h01 := -2*x3 + 3*x2
	h11 := x3 - x2
	return h00*s.k[i] + h10*h*s.s2[i] + h01*s.k[i+1] + h11*h*s.s2[i+1]
}

func (s *tabulated) Name() string { return s.name }

// WithSource records the text that declared a schedule made by FromFunc (a DSL sde with
// sigma(t) = …), so that SpecOf can write it down and a checkpoint can rebuild it through the
// declaring language (adjoint.LoadOptions.ScheduleFromSource). Other schedules are returned
// unchanged: their parameters already describe them.
func WithSource(s Schedule, source string) Schedule {
	if t, ok := s.(*tabulated); ok {
		c := *t
		c.source = source
		return &c
	}
	return s
}

// ScheduleSpec describes a schedule so that it can be written down (in a checkpoint, a config)
// and rebuilt: Kind "geometric" (SigmaMin, SigmaMax), "constant" (Sigma), or "source" (Source,
// the declaring text recorded by WithSource, rebuilt by the language that declared it).
// Schedules from FromFunc without a source have no spec.
type ScheduleSpec struct {
	Kind     string  `json:"kind"`
	SigmaMin float64 `json:"sigma_min,omitempty"`
	SigmaMax float64 `json:"sigma_max,omitempty"`
	Sigma    float64 `json:"sigma,omitempty"`
	Source   string  `json:"source,omitempty"`
}

// SpecOf returns the spec of a geometric or constant schedule, or of one with a recorded
// source; ok is false for others.
func SpecOf(s Schedule) (spec ScheduleSpec, ok bool) {
	switch v := s.(type) {
	case *geometric:
		return ScheduleSpec{Kind: "geometric", SigmaMin: v.smin, SigmaMax: v.smax}, true
	case *constant:
		return ScheduleSpec{Kind: "constant", Sigma: v.s}, true
	case *tabulated:
		if v.source != "" {
			return ScheduleSpec{Kind: "source", Source: v.source}, true
		}
	}
	return ScheduleSpec{}, false
}

// Schedule builds the schedule the spec describes. A "source" spec needs its language: it
// fails here, and adjoint.LoadOptions.ScheduleFromSource rebuilds it.
func (sp ScheduleSpec) Schedule() (Schedule, error) {
	switch sp.Kind {
	case "geometric":
		return Geometric(sp.SigmaMin, sp.SigmaMax)
	case "constant":
		return Constant(sp.Sigma)
	case "source":
		return nil, fmt.Errorf("sde: the schedule was declared in a script; rebuild it from its recorded source")
	}
	return nil, fmt.Errorf("sde: unknown schedule kind %q", sp.Kind)
}

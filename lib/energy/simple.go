package energy

import (
	"fmt"
	"math"
)

// GMM is a Gaussian mixture density written as an energy, E(x) = −log Σ_k w_k N(x; μ_k, v_k I),
// for one particle in dim dimensions. The weights are normalised; v_k are the component
// variances (isotropic covariance scalars).
type GMM struct {
	dim     int
	logw    []float64
	means   []float64 // K·dim
	vars    []float64
	lognorm []float64 // log w_k − dim/2 log(2π v_k)
}

// NewGMM returns a Gaussian mixture in dim dimensions with the given weights (positive, any
// scale), means (K vectors of length dim) and variances (K positive scalars).
func NewGMM(dim int, weights []float64, means [][]float64, variances []float64) (*GMM, error) {
	k := len(weights)
	if dim < 1 || k < 1 {
		return nil, fmt.Errorf("energy: mixture needs dim ≥ 1 and a component, got dim %d, %d components", dim, k)
	}
	if len(means) != k || len(variances) != k {
		return nil, fmt.Errorf("energy: mixture has %d weights, %d means, %d variances", k, len(means), len(variances))
	}
	var tot float64
	for i, w := range weights {
		if !(w > 0) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("energy: mixture weight %d is %g, must be positive", i, w)
		}
		tot += w
	}
	g := &GMM{dim: dim, logw: make([]float64, k), means: make([]float64, 0, k*dim), vars: append([]float64(nil), variances...), lognorm: make([]float64, k)}
	for i := range k {
		if len(means[i]) != dim {
			return nil, fmt.Errorf("energy: mixture mean %d has length %d, want %d", i, len(means[i]), dim)
		}
		if !(variances[i] > 0) || math.IsInf(variances[i], 0) {
			return nil, fmt.Errorf("energy: mixture variance %d is %g, must be positive", i, variances[i])
		}
		g.means = append(g.means, means[i]...)
		g.logw[i] = math.Log(weights[i] / tot)
		g.lognorm[i] = g.logw[i] - 0.5*float64(dim)*math.Log(2*math.Pi*variances[i])
	}
	return g, nil
}

// Components returns the number of mixture components.
func (g *GMM) Components() int { return len(g.logw) }

// Weight returns the normalised weight of component k.
func (g *GMM) Weight(k int) float64 { return math.Exp(g.logw[k]) }

// Mean returns a copy of component k's mean.
func (g *GMM) Mean(k int) []float64 { return append([]float64(nil), g.means[k*g.dim:(k+1)*g.dim]...) }

// Variance returns component k's variance.
func (g *GMM) Variance(k int) float64 { return g.vars[k] }

// Particles returns 1.
func (g *GMM) Particles() int { return 1 }

// SpatialDim returns the dimension.
func (g *GMM) SpatialDim() int { return g.dim }

// Responsibilities writes the posterior component probabilities of configuration x into r
// (length Components()).
func (g *GMM) Responsibilities(x, r []float64) {
	k := len(g.logw)
	mx := math.Inf(-1)
	for c := range k {
		mu := g.means[c*g.dim : (c+1)*g.dim]
		var d2 float64
		for i, xi := range x[:g.dim] {
			u := xi - mu[i]
			d2 += u * u
		}
		r[c] = g.lognorm[c] - 0.5*d2/g.vars[c]
		mx = max(mx, r[c])
	}
	var s float64
	for c := range k {
		r[c] = math.Exp(r[c] - mx)
		s += r[c]
	}
	for c := range k {
		r[c] /= s
	}
}

// EnergyGrad evaluates a batch.
func (g *GMM) EnergyGrad(x, e, grad []float64) {
	k, dim := len(g.logw), g.dim
	forBatch(len(e), k*dim, func(lo, hi int) {
		lp := make([]float64, k)
		for b := lo; b < hi; b++ {
			xs := x[b*dim : (b+1)*dim]
			mx := math.Inf(-1)
			for c := range k {
				mu := g.means[c*dim : (c+1)*dim]
				var d2 float64
				for i, xi := range xs {
					u := xi - mu[i]
					d2 += u * u
				}
				lp[c] = g.lognorm[c] - 0.5*d2/g.vars[c]
				mx = max(mx, lp[c])
			}
			var s float64
			for c := range k {
				lp[c] = math.Exp(lp[c] - mx)
				s += lp[c]
			}
			e[b] = -(mx + math.Log(s))
			if grad != nil {
				gs := grad[b*dim : (b+1)*dim]
				clear(gs)
				for c := range k {
					r := lp[c] / s / g.vars[c]
					mu := g.means[c*dim : (c+1)*dim]
					for i, xi := range xs {
						gs[i] += r * (xi - mu[i])
					}
				}
			}
		}
	})
}

// ManyWell is the many-well energy of the FAB/DEM benchmarks: the dimensions are taken in pairs
// (x, y) and each pair contributes the double well a x + b x² + c x⁴ + ½ y² with a = −0.5,
// b = −6, c = 1 (2^(dim/2) modes). One particle in dim dimensions; dim must be even.
type ManyWell struct {
	dim     int
	a, b, c float64
}

// NewManyWell returns the many-well energy in dim (even) dimensions; the usual benchmark has 32.
func NewManyWell(dim int) (*ManyWell, error) {
	if dim < 2 || dim%2 != 0 {
		return nil, fmt.Errorf("energy: many-well needs an even dimension ≥ 2, got %d", dim)
	}
	return &ManyWell{dim: dim, a: -0.5, b: -6, c: 1}, nil
}

// Particles returns 1.
func (m *ManyWell) Particles() int { return 1 }

// SpatialDim returns the dimension.
func (m *ManyWell) SpatialDim() int { return m.dim }

// EnergyGrad evaluates a batch.
func (m *ManyWell) EnergyGrad(x, e, grad []float64) {
	dim := m.dim
	forBatch(len(e), dim, func(lo, hi int) {
		for k := lo; k < hi; k++ {
			xs := x[k*dim : (k+1)*dim]
			var s float64
			for i := 0; i < dim; i += 2 {
				u, v := xs[i], xs[i+1]
				u2 := u * u
				s += m.a*u + m.b*u2 + m.c*u2*u2 + 0.5*v*v
				if grad != nil {
					grad[k*dim+i] = m.a + 2*m.b*u + 4*m.c*u2*u
					grad[k*dim+i+1] = v
				}
			}
			e[k] = s
		}
	})
}

// Quadratic is the Gaussian energy E(x) = ‖x − μ‖² / (2 s²) for n particles in d dimensions,
// whose Boltzmann density at τ = 1 is N(μ, s² I). It serves closed-form checks.
type Quadratic struct {
	n, d int
	mean []float64 // nil: zero
	s2   float64
}

// NewQuadratic returns E(x) = ‖x‖² / (2 std²).
func NewQuadratic(n, d int, std float64) (*Quadratic, error) { return NewGaussian(n, d, nil, std) }

// NewGaussian returns E(x) = ‖x − mean‖² / (2 std²); mean has n·d entries or is nil (zero).
func NewGaussian(n, d int, mean []float64, std float64) (*Quadratic, error) {
	if n < 1 || d < 1 {
		return nil, fmt.Errorf("energy: Gaussian needs n, d ≥ 1, got %d, %d", n, d)
	}
	if !(std > 0) || math.IsInf(std, 0) {
		return nil, fmt.Errorf("energy: Gaussian standard deviation %g must be positive", std)
	}
	if mean != nil && len(mean) != n*d {
		return nil, fmt.Errorf("energy: Gaussian mean has length %d, want %d", len(mean), n*d)
	}
	return &Quadratic{n: n, d: d, mean: append([]float64(nil), mean...), s2: std * std}, nil
}

// Std returns the standard deviation s.
func (q *Quadratic) Std() float64 { return math.Sqrt(q.s2) }

// Particles returns n.
func (q *Quadratic) Particles() int { return q.n }

// SpatialDim returns d.
func (q *Quadratic) SpatialDim() int { return q.d }

// EnergyGrad evaluates a batch.
func (q *Quadratic) EnergyGrad(x, e, grad []float64) {
	nd := q.n * q.d
	for k := range e {
		var s float64
		for i := range nd {
			u := x[k*nd+i]
			if len(q.mean) > 0 {
				u -= q.mean[i]
			}
			s += u * u
			if grad != nil {
				grad[k*nd+i] = u / q.s2
			}
		}
		e[k] = 0.5 * s / q.s2
	}
}

// Func is an energy given by Go functions of one configuration, for prototyping (notebooks).
// Configurations are evaluated one after the other (the functions need not be safe for
// concurrent use). Without a gradient function the gradient is taken by central differences.
type Func struct {
	n, d int
	f    func(x []float64) float64
	g    func(x, g []float64)
}

// FromFunc returns an energy of n particles in d dimensions from f, which returns E(x) for one
// configuration x (n·d numbers), and grad, which writes ∇E(x) into g (nil: central differences).
func FromFunc(n, d int, f func(x []float64) float64, grad func(x, g []float64)) (*Func, error) {
	if n < 1 || d < 1 {
		return nil, fmt.Errorf("energy: function energy needs n, d ≥ 1, got %d, %d", n, d)
	}
	if f == nil {
		return nil, fmt.Errorf("energy: function energy needs an energy function")
	}
	return &Func{n: n, d: d, f: f, g: grad}, nil
}

// Particles returns n.
func (fe *Func) Particles() int { return fe.n }

// SpatialDim returns d.
func (fe *Func) SpatialDim() int { return fe.d }

// EnergyGrad evaluates a batch.
func (fe *Func) EnergyGrad(x, e, grad []float64) {
	nd := fe.n * fe.d
	var tmp []float64
	for k := range e {
		xs := x[k*nd : (k+1)*nd]
		e[k] = fe.f(xs)
		if grad == nil {
			continue
		}
		gs := grad[k*nd : (k+1)*nd]
		if fe.g != nil {
			fe.g(xs, gs)
			continue
		}
		if tmp == nil {
			tmp = make([]float64, nd)
		}
		copy(tmp, xs)
		for i := range nd {
			h := 1e-5 * max(1, math.Abs(tmp[i]))
			x0 := tmp[i]
			tmp[i] = x0 + h
			fp := fe.f(tmp)
			tmp[i] = x0 - h
			fm := fe.f(tmp)
			tmp[i] = x0
			gs[i] = (fp - fm) / (2 * h)
		}
	}
}

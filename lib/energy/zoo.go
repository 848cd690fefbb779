package energy

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// The zoo: low-dimensional targets whose normalising constants and mode or basin masses are known
// exactly or by converged quadrature (package zoo computes the answers and evaluates samples).
// They resolve through Benchmark by name: gmm40, manywell32, funnel10, mueller-brown, torus3.

// ZooNames lists the zoo targets that Benchmark resolves.
func ZooNames() []string {
	return []string{"gmm40", "manywell32", "funnel10", "mueller-brown", "torus3"}
}

// GMM40Seed is the seed of the PCG generator (rand.NewPCG(GMM40Seed, GMM40Stream)) that draws the
// 40 means of the gmm40 mixture, uniform in [−40, 40]², x before y for each mean in turn.
const (
	GMM40Seed   = 40
	GMM40Stream = 2
)

// GMM40Std is the standard deviation of every gmm40 component, softplus(1) = ln(1 + e), the
// component scale of the 40-mode mixture of the FAB and iDEM benchmarks.
var GMM40Std = math.Log1p(math.E)

// GMM40Means returns the 40 means of gmm40 (this project's own draw; see GMM40Seed).
func GMM40Means() [][]float64 {
	rng := rand.New(rand.NewPCG(GMM40Seed, GMM40Stream))
	m := make([][]float64, 40)
	for i := range m {
		m[i] = []float64{80*rng.Float64() - 40, 80*rng.Float64() - 40}
	}
	return m
}

// NewGMM40 returns the 40-mode mixture in 2-D: equal weights, means GMM40Means, isotropic
// standard deviation GMM40Std. E = −log p with p normalised, so log Z = 0 at τ = 1.
func NewGMM40() *GMM {
	w := make([]float64, 40)
	v := make([]float64, 40)
	for i := range w {
		w[i], v[i] = 1, GMM40Std*GMM40Std
	}
	g, _ := NewGMM(2, w, GMM40Means(), v) // valid by construction
	return g
}

// Funnel is Neal's funnel in dim dimensions, written as a normalised density: the scale
// coordinate v = x[0] ~ N(0, s²) and x[i] | v ~ N(0, e^v) for i = 1..dim−1. E = −log p, so
// log Z = 0 at τ = 1.
type Funnel struct {
	dim int
	s   float64
}

// NewFunnel returns the funnel in dim ≥ 2 dimensions with scale standard deviation s (Neal: 3).
func NewFunnel(dim int, s float64) (*Funnel, error) {
	if dim < 2 {
		return nil, fmt.Errorf("energy: funnel needs dim ≥ 2, got %d", dim)
	}
	if !(s > 0) || math.IsInf(s, 0) {
		return nil, fmt.Errorf("energy: funnel scale %g must be positive", s)
	}
	return &Funnel{dim: dim, s: s}, nil
}

// Scale returns the standard deviation of the scale coordinate.
func (f *Funnel) Scale() float64 { return f.s }

// Particles returns 1.
func (f *Funnel) Particles() int { return 1 }

// SpatialDim returns the dimension.
func (f *Funnel) SpatialDim() int { return f.dim }

// EnergyGrad evaluates a batch.
func (f *Funnel) EnergyGrad(x, e, grad []float64) {
	dim := f.dim
	s2 := f.s * f.s
	m := float64(dim - 1)
	c := 0.5*math.Log(2*math.Pi*s2) + 0.5*m*math.Log(2*math.Pi)
	for k := range e {
		xs := x[k*dim : (k+1)*dim]
		v := xs[0]
		ev := math.Exp(-v)
		var r2 float64
		for _, xi := range xs[1:] {
			r2 += xi * xi
		}
		e[k] = 0.5*v*v/s2 + 0.5*m*v + 0.5*r2*ev + c
		if grad != nil {
			g := grad[k*dim : (k+1)*dim]
			g[0] = v/s2 + 0.5*m - 0.5*r2*ev
			for i, xi := range xs[1:] {
				g[i+1] = xi * ev
			}
		}
	}
}

// MuellerBrown is the two-dimensional Müller–Brown potential (Müller and Brown, 1979):
// E(x, y) = Σ_k A_k exp(a_k (x−x0_k)² + b_k (x−x0_k)(y−y0_k) + c_k (y−y0_k)²) with the published
// constants (MuellerBrownA, …). Three minima, near (−0.558, 1.442), (0.623, 0.028) and
// (−0.050, 0.467).
type MuellerBrown struct{}

// The published Müller–Brown constants.
var (
	MuellerBrownA  = [4]float64{-200, -100, -170, 15}
	MuellerBrownAa = [4]float64{-1, -1, -6.5, 0.7}
	MuellerBrownB  = [4]float64{0, 0, 11, 0.6}
	MuellerBrownC  = [4]float64{-10, -10, -6.5, 0.7}
	MuellerBrownX0 = [4]float64{1, 0, -0.5, -1}
	MuellerBrownY0 = [4]float64{0, 0.5, 1.5, 1}
)

// MuellerBrownTemperature is the temperature of the mueller-brown target: at τ = 20 each of the
// three basins holds at least about 8% of the mass.
const MuellerBrownTemperature = 20

// Particles returns 1.
func (MuellerBrown) Particles() int { return 1 }

// SpatialDim returns 2.
func (MuellerBrown) SpatialDim() int { return 2 }

// Eval returns E(x, y) and its gradient.
func (MuellerBrown) Eval(x, y float64) (e, gx, gy float64) {
	for k := range 4 {
		dx, dy := x-MuellerBrownX0[k], y-MuellerBrownY0[k]
		a, b, c := MuellerBrownAa[k], MuellerBrownB[k], MuellerBrownC[k]
		t := MuellerBrownA[k] * math.Exp(a*dx*dx+b*dx*dy+c*dy*dy)
		e += t
		gx += t * (2*a*dx + b*dy)
		gy += t * (b*dx + 2*c*dy)
	}
	return e, gx, gy
}

// EnergyGrad evaluates a batch.
func (m MuellerBrown) EnergyGrad(x, e, grad []float64) {
	for k := range e {
		v, gx, gy := m.Eval(x[2*k], x[2*k+1])
		e[k] = v
		if grad != nil {
			grad[2*k], grad[2*k+1] = gx, gy
		}
	}
}

// TorusWells is a one-particle periodic potential on the box (−π, π]² (period 2π in each
// coordinate): E = c·cos(x − y) − Σ_k A_k exp(κ_k (cos(x − a_k) + cos(y − b_k) − 2)), a sum of
// von Mises-shaped wells of unequal depth and width on a tilted cosine background.
type TorusWells struct {
	c          float64
	A, K, X, Y []float64
}

// NewTorus3 returns the torus3 target's potential: three wells (depth, concentration, centre)
// (5, 1.5, (−1.6, −1.4)), (4, 3, (1.4, 0.3)), (4.5, 6, (−0.2, 2.2)) on the background
// 0.3 cos(x − y); at τ = 1 its basins hold about 63%, 19% and 18% of the mass.
func NewTorus3() *TorusWells {
	return &TorusWells{c: 0.3, A: []float64{5, 4, 4.5}, K: []float64{1.5, 3, 6},
		X: []float64{-1.6, 1.4, -0.2}, Y: []float64{-1.4, 0.3, 2.2}}
}

// Particles returns 1.
func (w *TorusWells) Particles() int { return 1 }

// SpatialDim returns 2.
func (w *TorusWells) SpatialDim() int { return 2 }

// Eval returns E(x, y) and its gradient.
func (w *TorusWells) Eval(x, y float64) (e, gx, gy float64) {
	cs := math.Cos(x - y)
	sn := math.Sin(x - y)
	e = w.c * cs
	gx, gy = -w.c*sn, w.c*sn
	for k, a := range w.A {
		t := a * math.Exp(w.K[k]*(math.Cos(x-w.X[k])+math.Cos(y-w.Y[k])-2))
		e -= t
		gx += t * w.K[k] * math.Sin(x-w.X[k])
		gy += t * w.K[k] * math.Sin(y-w.Y[k])
	}
	return e, gx, gy
}

// EnergyGrad evaluates a batch.
func (w *TorusWells) EnergyGrad(x, e, grad []float64) {
	for k := range e {
		v, gx, gy := w.Eval(x[2*k], x[2*k+1])
		e[k] = v
		if grad != nil {
			grad[2*k], grad[2*k+1] = gx, gy
		}
	}
}

// zooSystem returns the system of a zoo target, or false when name is not one.
func zooSystem(name string) (*System, bool) {
	switch name {
	case "gmm40":
		return &System{Name: name, Energy: NewGMM40(), Temperature: 1}, true
	case "manywell32":
		mw, _ := NewManyWell(32)
		return &System{Name: name, Energy: mw, Temperature: 1}, true
	case "funnel10":
		f, _ := NewFunnel(10, 3)
		return &System{Name: name, Energy: f, Temperature: 1}, true
	case "mueller-brown":
		return &System{Name: name, Energy: MuellerBrown{}, Temperature: MuellerBrownTemperature}, true
	case "torus3":
		return &System{Name: name, Energy: NewTorus3(), Temperature: 1, Box: []float64{2 * math.Pi, 2 * math.Pi}}, true
	}
	return nil, false
}

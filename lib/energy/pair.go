package energy

import (
	"fmt"
	"math"
	"strings"
)

// DW4 is the four-particle double-well potential in two dimensions of the DEM/Adjoint Sampling
// benchmarks: E = Σ_{i<j} [0.9 (r_ij − 4)^4 − 4 (r_ij − 4)^2] with r_ij = sqrt(‖x_i − x_j‖² + 1e-8),
// each unordered pair once.
type DW4 struct {
	n, d    int
	a, b, c float64 // E_pair = a (r−r0) + b (r−r0)² + c (r−r0)⁴
	r0      float64
}

// NewDW4 returns the DW-4 energy (4 particles in 2-D).
func NewDW4() *DW4 { return &DW4{n: 4, d: 2, a: 0, b: -4, c: 0.9, r0: 4} }

// Particles returns 4.
func (w *DW4) Particles() int { return w.n }

// SpatialDim returns 2.
func (w *DW4) SpatialDim() int { return w.d }

// EnergyGrad evaluates a batch of DW-4 configurations.
func (w *DW4) EnergyGrad(x, e, grad []float64) {
	nd := w.n * w.d
	forBatch(len(e), w.n*w.n, func(lo, hi int) {
		for k := lo; k < hi; k++ {
			xs := x[k*nd : (k+1)*nd]
			var g []float64
			if grad != nil {
				g = grad[k*nd : (k+1)*nd]
				clear(g)
			}
			var sum float64
			for i := 0; i < w.n; i++ {
				for j := i + 1; j < w.n; j++ {
					var r2 float64
					for c := 0; c < w.d; c++ {
						dx := xs[i*w.d+c] - xs[j*w.d+c]
						r2 += dx * dx
					}
					r := math.Sqrt(r2 + 1e-8)
					u := r - w.r0
					u2 := u * u
					sum += w.a*u + w.b*u2 + w.c*u2*u2
					if g != nil {
						f := (w.a + 2*w.b*u + 4*w.c*u2*u) / r
						for c := 0; c < w.d; c++ {
							dx := xs[i*w.d+c] - xs[j*w.d+c]
							g[i*w.d+c] += f * dx
							g[j*w.d+c] -= f * dx
						}
					}
				}
			}
			e[k] = sum
		}
	})
}

// LJ is the Lennard-Jones cluster of the DEM/Adjoint Sampling benchmarks (LJ-13, LJ-55):
// E = Σ_{i≠j} [r_ij^−12 − 2 r_ij^−6] + ½ Σ_i ‖x_i − x̄‖², the pair sum over ORDERED pairs
// (twice the usual sum), ε = r_m = 1, no cutoff. This is the form the reference samples follow.
type LJ struct {
	n, d int
}

// NewLJ returns the n-particle Lennard-Jones cluster in three dimensions.
func NewLJ(n int) (*LJ, error) {
	if n < 2 {
		return nil, fmt.Errorf("energy: Lennard-Jones needs at least 2 particles, got %d", n)
	}
	return &LJ{n: n, d: 3}, nil
}

// Particles returns n.
func (l *LJ) Particles() int { return l.n }

// SpatialDim returns 3.
func (l *LJ) SpatialDim() int { return l.d }

// EnergyGrad evaluates a batch of LJ configurations.
func (l *LJ) EnergyGrad(x, e, grad []float64) {
	n, d := l.n, l.d
	nd := n * d
	forBatch(len(e), n*n, func(lo, hi int) {
		var mean [3]float64
		for k := lo; k < hi; k++ {
			xs := x[k*nd : (k+1)*nd]
			var g []float64
			if grad != nil {
				g = grad[k*nd : (k+1)*nd]
				clear(g)
			}
			var sum float64
			for i := 0; i < n; i++ {
				xi0, xi1, xi2 := xs[i*3], xs[i*3+1], xs[i*3+2]
				var gi0, gi1, gi2 float64
				for j := i + 1; j < n; j++ {
					d0, d1, d2 := xi0-xs[j*3], xi1-xs[j*3+1], xi2-xs[j*3+2]
					r2 := d0*d0 + d1*d1 + d2*d2
					inv2 := 1 / r2
					inv6 := inv2 * inv2 * inv2
					inv12 := inv6 * inv6
					sum += 2 * (inv12 - 2*inv6)
					if g != nil {
						// d/dr [2(r^-12 − 2 r^-6)] / r = 24 (r^-8 − r^-14)
						f := 24 * (inv6*inv2 - inv12*inv2)
						gi0 += f * d0
						gi1 += f * d1
						gi2 += f * d2
						g[j*3] -= f * d0
						g[j*3+1] -= f * d1
						g[j*3+2] -= f * d2
					}
				}
				if g != nil {
					g[i*3] += gi0
					g[i*3+1] += gi1
					g[i*3+2] += gi2
				}
			}
			mean = [3]float64{}
			for i := 0; i < n; i++ {
				for c := 0; c < d; c++ {
					mean[c] += xs[i*d+c]
				}
			}
			for c := 0; c < d; c++ {
				mean[c] /= float64(n)
			}
			for i := 0; i < n; i++ {
				for c := 0; c < d; c++ {
					u := xs[i*d+c] - mean[c]
					sum += 0.5 * u * u
					if g != nil {
						g[i*d+c] += u
					}
				}
			}
			e[k] = sum
		}
	})
}

// Benchmark returns a benchmark system by name: "dw4", "lj13" or "lj55", each with translation,
// rotation and permutation symmetry at temperature 1, or one of the zoo targets (ZooNames).
func Benchmark(name string) (*System, error) {
	sym := Symmetry{Translation: true, Rotation: true, Permutation: true}
	switch name {
	case "dw4":
		return &System{Name: name, Energy: NewDW4(), Temperature: 1, Symmetry: sym}, nil
	case "lj13", "lj55":
		n := 13
		if name == "lj55" {
			n = 55
		}
		lj, err := NewLJ(n)
		if err != nil {
			return nil, fmt.Errorf("energy: benchmark %s: %w", name, err)
		}
		return &System{Name: name, Energy: lj, Temperature: 1, Symmetry: sym}, nil
	}
	if s, ok := zooSystem(name); ok {
		return s, nil
	}
	return nil, fmt.Errorf("energy: unknown benchmark %q (known: dw4, lj13, lj55, %s)", name, strings.Join(ZooNames(), ", "))
}

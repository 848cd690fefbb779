package metrics

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync/atomic"
	"time"

	"adjoint/internal/parallel"
	"adjoint/lib/display"
	"adjoint/lib/sde"
)

// CenterOfMassFree returns a copy of the B configurations in x (each n particles × d
// coordinates, row-major) with each configuration's particle mean subtracted.
func CenterOfMassFree(x []float64, n, d int) []float64 {
	out := append([]float64(nil), x...)
	sde.RemoveCoM(out, n, d)
	return out
}

// pairAligner computes the aligned distance of two centred configurations; it owns the
// buffers of one worker.
type pairAligner struct {
	n, d int
	cost []float64
	h    []float64
	as   Assigner
}

func newPairAligner(n, d int) *pairAligner {
	return &pairAligner{n: n, d: d, cost: make([]float64, n*n), h: make([]float64, d*d)}
}

// dist2 returns D(x, y)² for centred configurations x, y with squared norms nx, ny: particles
// are matched by an optimal assignment on point distances, then y is aligned onto x by the
// best orthogonal map (Kabsch, reflections allowed).
func (pa *pairAligner) dist2(x, y []float64, nx, ny float64) float64 {
	n, d := pa.n, pa.d
	perm := pa.identity()
	if n > 1 {
		c := pa.cost
		switch d {
		case 3:
			y = y[:3*n]
			for i := range n {
				x0, x1, x2 := x[3*i], x[3*i+1], x[3*i+2]
				row := c[i*n : i*n+n]
				for j := range row {
					a, b, e := x0-y[3*j], x1-y[3*j+1], x2-y[3*j+2]
					row[j] = math.Sqrt(a*a + b*b + e*e)
				}
			}
		case 2:
			y = y[:2*n]
			for i := range n {
				x0, x1 := x[2*i], x[2*i+1]
				row := c[i*n : i*n+n]
				for j := range row {
					a, b := x0-y[2*j], x1-y[2*j+1]
					row[j] = math.Sqrt(a*a + b*b)
				}
			}
		default:
			for i := range n {
				xi := x[i*d : i*d+d]
				row := c[i*n : i*n+n]
				for j := range n {
					yj := y[j*d : j*d+d]
					s := 0.0
					for k, v := range xi {
						t := v - yj[k]
						s += t * t
					}
					row[j] = math.Sqrt(s)
				}
			}
		}
		perm, _, _ = pa.as.assignFinite(c, n)
	}
	h := pa.h
	for k := range h {
		h[k] = 0
	}
	for i := range n {
		xi := x[i*d : i*d+d]
		yj := y[perm[i]*d : perm[i]*d+d]
		for a, xa := range xi {
			for b, yb := range yj {
				h[a*d+b] += xa * yb
			}
		}
	}
	return max(0, nx+ny-2*NuclearNorm(h, d))
}

func (pa *pairAligner) identity() []int {
	if len(pa.as.rowsol) != pa.n {
		pa.as.grow(pa.n)
	}
	for i := range pa.n {
		pa.as.rowsol[i] = i
	}
	return pa.as.rowsol
}

// AlignedDistance returns D(x, y): the Euclidean distance between two configurations of n
// particles in d dimensions after centring both, matching particles by an optimal assignment
// on point distances and aligning by the best rotation or reflection (Kabsch).
func AlignedDistance(x, y []float64, n, d int) (float64, error) {
	if n < 1 || d < 1 || len(x) != n*d || len(y) != n*d {
		return 0, fmt.Errorf("metrics: aligned distance: configurations of %d and %d numbers for %d particles in %d dimensions", len(x), len(y), n, d)
	}
	xc, yc := CenterOfMassFree(x, n, d), CenterOfMassFree(y, n, d)
	if !allFinite(xc) || !allFinite(yc) {
		return 0, fmt.Errorf("metrics: aligned distance: non-finite coordinates")
	}
	return math.Sqrt(newPairAligner(n, d).dist2(xc, yc, dot(xc, xc), dot(yc, yc))), nil
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func allFinite(x []float64) bool {
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// GeometricCost returns the nx×ny matrix (row-major) of squared aligned distances D(x_i, y_j)²
// (see AlignedDistance) between every configuration of x and every one of y, both taken
// CoM-free. The work is spread over all cores; ctx cancels it.
func GeometricCost(ctx context.Context, x, y []float64, n, d int) ([]float64, error) {
	dim := n * d
	if n < 1 || d < 1 || len(x)%dim != 0 || len(y)%dim != 0 {
		return nil, fmt.Errorf("metrics: geometric cost: %d and %d numbers are not whole configurations of %d particles in %d dimensions", len(x), len(y), n, d)
	}
	if !allFinite(x) || !allFinite(y) {
		return nil, fmt.Errorf("metrics: geometric cost: non-finite coordinates (drop them first, e.g. with DropNonFinite)")
	}
	nx, ny := len(x)/dim, len(y)/dim
	xc, yc := CenterOfMassFree(x, n, d), CenterOfMassFree(y, n, d)
	sx, sy := make([]float64, nx), make([]float64, ny)
	for i := range nx {
		sx[i] = dot(xc[i*dim:(i+1)*dim], xc[i*dim:(i+1)*dim])
	}
	for j := range ny {
		sy[j] = dot(yc[j*dim:(j+1)*dim], yc[j*dim:(j+1)*dim])
	}
	out := make([]float64, nx*ny)
	var next, done atomic.Int64
	workers := min(runtime.GOMAXPROCS(0), max(nx, 1))
	// each worker takes the next row until none is left; the caller reports progress meanwhile
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		parallel.For(workers, workers, func(lo, hi int) {
			for range hi - lo {
				pa := newPairAligner(n, d)
				for ctx.Err() == nil {
					i := int(next.Add(1) - 1)
					if i >= nx {
						break
					}
					xi := xc[i*dim : (i+1)*dim]
					row := out[i*ny : (i+1)*ny]
					for j := range ny {
						row[j] = pa.dist2(xi, yc[j*dim:(j+1)*dim], sx[i], sy[j])
					}
					done.Add(1)
				}
			}
		})
	}()
	start := time.Now()
	var rep display.Reporter
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
loop:
	for {
		select {
		case <-finished:
			break loop
		case <-tick.C:
			if rep == nil {
				rep = display.NewReporter("geometric W2")
			}
			k := done.Load()
			el := time.Since(start)
			p := display.Progress{Task: "geometric W2 cost", Step: int(k), Steps: nx, Elapsed: el}
			if k > 0 {
				p.ETA = time.Duration(float64(el) * float64(int64(nx)-k) / float64(k))
				p.SamplesPerSec = float64(k) * float64(ny) / el.Seconds()
			}
			rep.Report(p)
		}
	}
	if rep != nil {
		rep.Finish(display.Progress{Task: "geometric W2 cost", Step: int(done.Load()), Steps: nx, Elapsed: time.Since(start), Done: true})
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("metrics: geometric cost: %w", err)
	}
	for _, v := range out {
		if math.IsNaN(v) {
			return nil, fmt.Errorf("metrics: geometric cost: alignment failed")
		}
	}
	return out, nil
}

// GeometricW2 is GeometricW2Context under the front end's cancellation (display.Context).
func GeometricW2(x, y []float64, n, d int) (float64, error) {
	return GeometricW2Context(display.Context(), x, y, n, d)
}

// GeometricW2Context returns the geometric Wasserstein-2 distance between two equally large
// sets of configurations (n particles in d dimensions each, row-major, CoM removed here):
// the square root of the exact optimal-transport cost with uniform weights and ground cost
// D(x, y)², where D is the distance after optimal particle matching and Kabsch alignment
// (AlignedDistance). The transport problem is solved exactly as an assignment problem.
func GeometricW2Context(ctx context.Context, x, y []float64, n, d int) (float64, error) {
	dim := n * d
	if dim < 1 || len(x)%dim != 0 || len(x) != len(y) || len(x) == 0 {
		return 0, fmt.Errorf("metrics: geometric W2 needs two non-empty sets of equal size: %d and %d numbers for configurations of %d", len(x), len(y), dim)
	}
	c, err := GeometricCost(ctx, x, y, n, d)
	if err != nil {
		return 0, err
	}
	return otFromCost(c, len(x)/dim)
}

func otFromCost(c []float64, m int) (float64, error) {
	_, total, err := Assign(c, m)
	if err != nil {
		return 0, fmt.Errorf("metrics: optimal transport: %w", err)
	}
	return math.Sqrt(max(total, 0) / float64(m)), nil
}

// W2 returns the exact Wasserstein-2 distance between two equally large point sets in R^dim
// (row-major) with the squared Euclidean ground cost, without any symmetry reduction.
func W2(x, y []float64, dim int) (float64, error) {
	if dim < 1 || len(x)%dim != 0 || len(x) != len(y) || len(x) == 0 {
		return 0, fmt.Errorf("metrics: W2 needs two non-empty sets of equal size: %d and %d numbers of dimension %d", len(x), len(y), dim)
	}
	if !allFinite(x) || !allFinite(y) {
		return 0, fmt.Errorf("metrics: W2: non-finite coordinates")
	}
	m := len(x) / dim
	c := make([]float64, m*m)
	for i := range m {
		xi := x[i*dim : (i+1)*dim]
		for j := range m {
			yj := y[j*dim : (j+1)*dim]
			s := 0.0
			for k, v := range xi {
				t := v - yj[k]
				s += t * t
			}
			c[i*m+j] = s
		}
	}
	return otFromCost(c, m)
}

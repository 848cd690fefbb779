package zoo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"adjoint/lib/energy"
	"adjoint/lib/sde"
)

// Quadrature resolutions of the exact answers. The check values use twice the spacing.
const (
	mbH        = 0.005 // Müller–Brown grid spacing
	torusN     = 1024  // torus3 nodes per side
	manywellH  = 1e-3  // spacing of the 1-D many-well quadrature
	manywellLo = -6.0  // the 1-D many-well density is below e^−1000 outside [−6, 6]
	manywellHi = 6.0
)

// The Müller–Brown quadrature box: outside it exp(−E/20) is below 1e-15 of its maximum.
var mbBox = [4]float64{-4, 2.5, -2, 4} // x_lo, x_hi, y_lo, y_hi

// FunnelBands are the edges of the funnel10 regions in the scale coordinate v.
var FunnelBands = []float64{-3, 0, 3}

// quad holds what evaluation and exact sampling need from the quadrature.
type quad struct {
	// 2-D grid: node (i, j) sits at (x0 + i h, y0 + j h)
	x0, y0, h float64
	nx, ny    int
	periodic  bool
	label     []int32   // basin of each node
	cum       []float64 // cumulative normalised node weights (sampling)
	// 1-D many-well table: node i at manywellLo + i·manywellH with cumulative probability cdf[i]
	cdf []float64
}

// grid2 is the result of a 2-D quadrature.
type grid2 struct {
	logZ   float64
	masses []float64 // per basin, deepest minimum first
	minima [][2]float64
	label  []int32
	w      []float64 // normalised node weights
}

// quadrature2D evaluates u = E/τ on the nodes (x0 + i h, y0 + j h), i < nx, j < ny (wrapping
// around on a torus), and returns log Σ exp(−u) h², the steepest-descent basins of the nodes
// (each node points at the lowest of itself and its 8 neighbours, ties broken towards the lower
// node index; a basin is the set of nodes
// whose chain ends at the same grid minimum) and their masses.
func quadrature2D(u func(x, y float64) float64, x0, y0, h float64, nx, ny int, periodic bool) (*grid2, error) {
	n := nx * ny
	v := make([]float64, n)
	vmin := math.Inf(1)
	for i := range nx {
		for j := range ny {
			e := u(x0+float64(i)*h, y0+float64(j)*h)
			if math.IsNaN(e) {
				return nil, fmt.Errorf("zoo: energy is NaN at (%g, %g)", x0+float64(i)*h, y0+float64(j)*h)
			}
			v[i*ny+j] = e
			vmin = math.Min(vmin, e)
		}
	}
	g := &grid2{w: make([]float64, n), label: make([]int32, n)}
	var s float64
	for k, e := range v {
		g.w[k] = math.Exp(-(e - vmin))
		s += g.w[k]
	}
	g.logZ = math.Log(s) - vmin + 2*math.Log(h)
	for k := range g.w {
		g.w[k] /= s
	}
	// steepest-descent pointers
	next := make([]int32, n)
	for i := range nx {
		for j := range ny {
			best, bv := i*ny+j, v[i*ny+j]
			for di := -1; di <= 1; di++ {
				for dj := -1; dj <= 1; dj++ {
					ii, jj := i+di, j+dj
					if periodic {
						ii, jj = (ii+nx)%nx, (jj+ny)%ny
					} else if ii < 0 || jj < 0 || ii >= nx || jj >= ny {
						continue
					}
					// ties go to the lower index, so plateaus drain to one node
					if k := ii*ny + jj; v[k] < bv || v[k] == bv && k < best {
						best, bv = k, v[k]
					}
				}
			}
			next[i*ny+j] = int32(best)
		}
	}
	// follow the chains; minima get provisional labels in the order found
	for k := range g.label {
		g.label[k] = -1
	}
	var mins []int
	path := make([]int32, 0, 256)
	for k := range n {
		c := int32(k)
		path = path[:0]
		for g.label[c] < 0 {
			path = append(path, c)
			if next[c] == c {
				g.label[c] = int32(len(mins))
				mins = append(mins, int(c))
				break
			}
			c = next[c]
		}
		for _, p := range path {
			g.label[p] = g.label[c]
		}
	}
	// order basins by the energy of their minimum
	order := make([]int, len(mins))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return v[mins[order[a]]] < v[mins[order[b]]] })
	rank := make([]int32, len(mins))
	for r, o := range order {
		rank[o] = int32(r)
	}
	g.masses = make([]float64, len(mins))
	for k := range g.label {
		g.label[k] = rank[g.label[k]]
		g.masses[g.label[k]] += g.w[k]
	}
	g.minima = make([][2]float64, len(mins))
	for r, o := range order {
		m := mins[o]
		g.minima[r] = [2]float64{x0 + float64(m/ny)*h, y0 + float64(m%ny)*h}
	}
	return g, nil
}

// computeExact computes a target's exact answers and the tables behind them.
func computeExact(name string) (*Exact, *quad, error) {
	sys, err := energy.Benchmark(name)
	if err != nil {
		return nil, nil, fmt.Errorf("zoo: %w", err)
	}
	ex := &Exact{Target: name}
	switch name {
	case "gmm40":
		ex.LogZMethod = "closed form: E = −log p of a normalised mixture"
		ex.RegionsMethod = "components; a sample's mass is split by its posterior responsibilities, whose exact expectation is the component weight"
		ex.ExactSamples = "exact: component, then Gaussian"
		g := sys.Energy.(*energy.GMM)
		for k := range g.Components() {
			m := g.Mean(k)
			ex.Regions = append(ex.Regions, fmt.Sprintf("mode %d (%.2f, %.2f)", k, m[0], m[1]))
			ex.Masses = append(ex.Masses, g.Weight(k))
		}
		return ex, nil, nil
	case "funnel10":
		ex.LogZMethod = "closed form: E = −log p of a normalised density"
		ex.RegionsMethod = "bands of the scale coordinate v ~ N(0, 9), masses Φ(b/3) − Φ(a/3)"
		ex.ExactSamples = "exact: v, then x | v"
		edges := append(append([]float64{math.Inf(-1)}, FunnelBands...), math.Inf(1))
		for i := 0; i+1 < len(edges); i++ {
			ex.Regions = append(ex.Regions, bandLabel(edges[i], edges[i+1]))
			ex.Masses = append(ex.Masses, normalCDF(edges[i+1]/3)-normalCDF(edges[i]/3))
		}
		return ex, nil, nil
	case "manywell32":
		return manywellExact(ex)
	case "mueller-brown", "torus3":
		return gridExact(ex, sys)
	}
	return nil, nil, fmt.Errorf("zoo: no exact answers for %q", name)
}

func bandLabel(a, b float64) string {
	switch {
	case math.IsInf(a, -1):
		return fmt.Sprintf("v < %g", b)
	case math.IsInf(b, 1):
		return fmt.Sprintf("v ≥ %g", a)
	}
	return fmt.Sprintf("%g ≤ v < %g", a, b)
}

// doubleWell is the x part of one many-well copy, x⁴ − 6x² − 0.5x.
func doubleWell(x float64) float64 { x2 := x * x; return x2*x2 - 6*x2 - 0.5*x }

// simpson integrates exp(−f) over [a, b] with n (even) intervals, subtracting shift from f.
func simpson(f func(float64) float64, a, b float64, n int, shift float64) float64 {
	h := (b - a) / float64(n)
	s := math.Exp(-(f(a) - shift)) + math.Exp(-(f(b) - shift))
	for i := 1; i < n; i++ {
		w := 2.0
		if i%2 == 1 {
			w = 4
		}
		s += w * math.Exp(-(f(a+float64(i)*h) - shift))
	}
	return s * h / 3
}

// manywellMoments returns log Z_x of one copy's x part and P(x > 0), by Simpson's rule with
// spacing h.
func manywellMoments(h float64) (logZx, pPos float64) {
	const shift = -9.5 // about min f, keeps the integrand near 1
	nHalf := int(math.Round(manywellHi / h))
	nHalf += nHalf % 2
	neg := simpson(doubleWell, manywellLo, 0, nHalf, shift)
	pos := simpson(doubleWell, 0, manywellHi, nHalf, shift)
	return math.Log(neg+pos) - shift, pos / (neg + pos)
}

func manywellExact(ex *Exact) (*Exact, *quad, error) {
	const copies = 16
	lz, p := manywellMoments(manywellH)
	lzc, pc := manywellMoments(2 * manywellH)
	gauss := 0.5 * math.Log(2*math.Pi)
	ex.LogZ = copies * (lz + gauss)
	ex.LogZCheck = copies * (lzc + gauss)
	ex.LogZMethod = fmt.Sprintf("16 × (log ∫exp(−x⁴+6x²+0.5x)dx by Simpson on [−6, 6], h = %g, + ½ log 2π)", manywellH)
	ex.PPositive = p
	ex.RegionsMethod = "k = number of copies with x > 0 (the 2^16 sign patterns grouped); masses Binomial(16, P(x > 0)), P by Simpson on [0, 6]"
	ex.ExactSamples = "x by inverse CDF on a 1e-3 grid (linear within cells), y ~ N(0, 1)"
	for k := 0; k <= copies; k++ {
		ex.Regions = append(ex.Regions, fmt.Sprintf("%d of 16 positive", k))
		ex.Masses = append(ex.Masses, binomial(copies, k, p))
		ex.MassCheck = math.Max(ex.MassCheck, math.Abs(binomial(copies, k, pc)-binomial(copies, k, p)))
	}
	// CDF table for exact sampling (cumulative trapezoid)
	n := int(math.Round((manywellHi - manywellLo) / manywellH))
	q := &quad{cdf: make([]float64, n+1)}
	prev := math.Exp(-(doubleWell(manywellLo) + 9.5))
	for i := 1; i <= n; i++ {
		cur := math.Exp(-(doubleWell(manywellLo+float64(i)*manywellH) + 9.5))
		q.cdf[i] = q.cdf[i-1] + 0.5*(prev+cur)
		prev = cur
	}
	for i := range q.cdf {
		q.cdf[i] /= q.cdf[n]
	}
	return ex, q, nil
}

// binomial returns C(n, k) p^k (1−p)^(n−k).
func binomial(n, k int, p float64) float64 {
	lc, _ := math.Lgamma(float64(n + 1))
	a, _ := math.Lgamma(float64(k + 1))
	b, _ := math.Lgamma(float64(n - k + 1))
	return math.Exp(lc - a - b + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p))
}

// gridSpec returns the quadrature grid of a 2-D target at spacing factor f (1: fine, 2: check).
func gridSpec(name string, f int) (x0, y0, h float64, nx, ny int, periodic bool) {
	if name == "torus3" {
		n := torusN / f
		h = 2 * math.Pi / float64(n)
		return -math.Pi + h/2, -math.Pi + h/2, h, n, n, true
	}
	h = mbH * float64(f)
	nx = int(math.Round((mbBox[1]-mbBox[0])/h)) + 1
	ny = int(math.Round((mbBox[3]-mbBox[2])/h)) + 1
	return mbBox[0], mbBox[2], h, nx, ny, false
}

func gridExact(ex *Exact, sys *energy.System) (*Exact, *quad, error) {
	tau := sys.Tau()
	var eval func(x, y float64) (float64, float64, float64)
	switch e := sys.Energy.(type) {
	case energy.MuellerBrown:
		eval = e.Eval
	case *energy.TorusWells:
		eval = e.Eval
	default:
		return nil, nil, fmt.Errorf("zoo: %s: no 2-D energy", sys.Name)
	}
	u := func(x, y float64) float64 { e, _, _ := eval(x, y); return e / tau }
	var gs [2]*grid2
	var q *quad
	for f := 1; f <= 2; f++ {
		x0, y0, h, nx, ny, per := gridSpec(sys.Name, f)
		g, err := quadrature2D(u, x0, y0, h, nx, ny, per)
		if err != nil {
			return nil, nil, fmt.Errorf("zoo: %s: %w", sys.Name, err)
		}
		if len(g.masses) != 3 {
			return nil, nil, fmt.Errorf("zoo: %s: %d grid minima at spacing %g, want 3", sys.Name, len(g.masses), h)
		}
		gs[f-1] = g
		if f == 1 {
			q = &quad{x0: x0, y0: y0, h: h, nx: nx, ny: ny, periodic: per, label: g.label, cum: g.w}
			for k := 1; k < len(q.cum); k++ {
				q.cum[k] += q.cum[k-1]
			}
		}
	}
	g := gs[0]
	ex.LogZ, ex.LogZCheck = g.logZ, gs[1].logZ
	what := "the box [−4, 2.5] × [−2, 4]"
	if sys.Periodic() {
		what = "the torus (−π, π]² (periodic trapezoid rule)"
	}
	ex.LogZMethod = fmt.Sprintf("log ∫exp(−E/τ) over %s on a %d × %d grid (spacing %.4g), τ = %g", what, q.nx, q.ny, q.h, tau)
	ex.RegionsMethod = "steepest-descent basins of the quadrature grid (each node points at its lowest 8-neighbour); a sample takes the basin of its nearest node"
	ex.ExactSamples = "grid: node ∝ exp(−E/τ), then uniform within its cell (piecewise-constant density at the quadrature spacing)"
	for k, m := range g.masses {
		ex.Regions = append(ex.Regions, fmt.Sprintf("basin %d (%.3f, %.3f)", k, g.minima[k][0], g.minima[k][1]))
		ex.Masses = append(ex.Masses, m)
		ex.MassCheck = math.Max(ex.MassCheck, math.Abs(m-gs[1].masses[k]))
	}
	return ex, q, nil
}

// gridNode returns the index of the grid node nearest to (x, y) (clamped to the box; wrapped
// on a torus).
func (q *quad) gridNode(x, y float64) int {
	i := int(math.Round((x - q.x0) / q.h))
	j := int(math.Round((y - q.y0) / q.h))
	if q.periodic {
		i = ((i % q.nx) + q.nx) % q.nx
		j = ((j % q.ny) + q.ny) % q.ny
	} else {
		i = min(max(i, 0), q.nx-1)
		j = min(max(j, 0), q.ny-1)
	}
	return i*q.ny + j
}

// HasExactSamples reports whether ExactSamples can draw samples of the target (all zoo targets
// can; the 2-D grid targets draw from the quadrature's piecewise-constant density).
func (t *Target) HasExactSamples() bool { return Known(t.Name) }

// ExactSamples draws n samples of the target (row-major, n·dim numbers) with a seeded generator.
func (t *Target) ExactSamples(n int, seed uint64) ([]float64, error) {
	if n < 1 {
		return nil, fmt.Errorf("zoo: %d exact samples", n)
	}
	if _, err := t.Exact(); err != nil {
		return nil, err
	}
	sys, err := t.System()
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x7a6f6f))
	dim := sys.Dim()
	x := make([]float64, n*dim)
	switch t.Name {
	case "gmm40":
		g := sys.Energy.(*energy.GMM)
		k := g.Components()
		for i := range n {
			c := rng.IntN(k) // equal weights
			m := g.Mean(c)
			s := math.Sqrt(g.Variance(c))
			x[2*i], x[2*i+1] = m[0]+s*rng.NormFloat64(), m[1]+s*rng.NormFloat64()
		}
	case "funnel10":
		for i := range n {
			xs := x[i*dim : (i+1)*dim]
			xs[0] = 3 * rng.NormFloat64()
			s := math.Exp(xs[0] / 2)
			for j := 1; j < dim; j++ {
				xs[j] = s * rng.NormFloat64()
			}
		}
	case "manywell32":
		cdf := t.q.cdf
		for i := 0; i < len(x); i += 2 {
			x[i] = inverseCDF(cdf, rng.Float64())
			x[i+1] = rng.NormFloat64()
		}
	default:
		q := t.q
		for i := range n {
			k := sort.SearchFloat64s(q.cum, rng.Float64())
			k = min(k, len(q.cum)-1)
			a, b := k/q.ny, k%q.ny
			px := q.x0 + (float64(a)+rng.Float64()-0.5)*q.h
			py := q.y0 + (float64(b)+rng.Float64()-0.5)*q.h
			if q.periodic {
				px, py = sde.WrapValue(px, 2*math.Pi), sde.WrapValue(py, 2*math.Pi)
			}
			x[2*i], x[2*i+1] = px, py
		}
	}
	return x, nil
}

// inverseCDF maps u ∈ [0, 1) through the many-well CDF table, linearly within cells.
func inverseCDF(cdf []float64, u float64) float64 {
	k := sort.SearchFloat64s(cdf, u) // cdf[k−1] < u ≤ cdf[k]
	k = min(max(k, 1), len(cdf)-1)
	lo, hi := cdf[k-1], cdf[k]
	f := 0.5
	if hi > lo {
		f = (u - lo) / (hi - lo)
	}
	return manywellLo + (float64(k-1)+f)*manywellH
}

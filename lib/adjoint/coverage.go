package adjoint

import (
	"fmt"
	"math"
	"strings"

	"adjoint/lib/energy"
	"adjoint/lib/sde"
)

// CoverageMaxDim is the largest effective dimension CheckCoverage looks at: beyond it the
// distance to the nearest of a few thousand samples is large everywhere, and nearness says
// nothing about modes.
const CoverageMaxDim = 3

// CoverageRadius is the multiple of the probe's length scale ℓ (the width of the wells) within
// which a sample must lie for a probe state to count as reached.
const CoverageRadius = 3.0

// Coverage is the result of CheckCoverage: whether the low-energy regions that independent MALA
// chains find from broad starts (Probe's chains) hold samples, and whether the samples are at
// equilibrium along each coordinate (the Gibbs check). It sees modes that importance weights
// cannot: a mode the sampler never visits leaves no sample to weigh.
type Coverage struct {
	// Skipped says why the check did not run ("" when it ran): a system with particle
	// symmetries.
	Skipped string
	// NearSkipped says why the nearness check (Chains, Missed, Radius) did not run: an
	// effective dimension above CoverageMaxDim. The Gibbs check runs in any dimension.
	NearSkipped string
	// Gibbs is the coordinate that failed the Gibbs check worst (or came closest to failing),
	// nil when no coordinate could be checked; GibbsAxes is the number checked.
	Gibbs     *GibbsAxis
	GibbsAxes int
	Chains    int     // probe chains that ended in low-energy states
	Missed    int     // chains whose states mostly have no sample within Radius
	Radius    float64 // CoverageRadius × the probe's length scale
	// Examples are up to three states of missed chains, with their energies.
	Examples [][]float64
	Energies []float64
}

// Warnings returns the coverage warnings: the nearness warning (Warning) and the Gibbs check's,
// when the samples' histogram of some coordinate moves by more than GibbsTV (and by more than
// three times its noise over GibbsTV) under an exact Gibbs update.
func (c *Coverage) Warnings() []string {
	var w []string
	if m := c.Warning(); m != "" {
		w = append(w, m)
	}
	if c != nil && c.Skipped == "" {
		if m := gibbsWarning(c.Gibbs, c.GibbsAxes); m != "" {
			w = append(w, m)
		}
	}
	return w
}

// Warning returns the nearness warning, "" when there is none: when at least two chains, and
// at least 2% of them, ended where no sample comes within Radius.
func (c *Coverage) Warning() string {
	if c == nil || c.Skipped != "" || c.NearSkipped != "" || c.Missed < 2 || float64(c.Missed) < 0.02*float64(c.Chains) {
		return ""
	}
	var ex []string
	for i, x := range c.Examples {
		p := make([]string, len(x))
		for j, v := range x {
			p[j] = fmt.Sprintf("%.3g", v)
		}
		ex = append(ex, fmt.Sprintf("(%s) at energy %.4g", strings.Join(p, ", "), c.Energies[i]))
	}
	return fmt.Sprintf("%d of %d MALA chains started broadly ended where no sample comes within %.3g, e.g. %s: "+
		"the sampler may have missed modes, and the weights cannot show it; train longer, widen the schedule (larger σ_max), "+
		"or compare with adjoint mcmc", c.Missed, c.Chains, c.Radius, strings.Join(ex, "; "))
}

// CheckCoverage looks for modes the samples x (row-major, sys.Dim() each) miss: it runs Probe's
// MALA chains on sys (deterministic for seed) and counts the chains whose low-energy states
// mostly lie farther than CoverageRadius·ℓ from every sample (minimum-image distances on a
// periodic box), and it runs the Gibbs check (GibbsAxis) on each coordinate. Systems with
// particle symmetries are skipped (Coverage.Skipped says so); above CoverageMaxDim effective
// dimensions only the Gibbs check runs. Samples with non-finite coordinates are ignored.
func CheckCoverage(sys *energy.System, x []float64, seed int64) (*Coverage, error) {
	if sys == nil || sys.Energy == nil {
		return nil, fmt.Errorf("adjoint: coverage: no system")
	}
	sp := space(sys)
	dim := sys.Dim()
	switch {
	case (Config{System: sys}).NetKind() == NetEGNN || sp.Translation:
		return &Coverage{Skipped: "particle symmetries: distances between configurations need alignment"}, nil
	case len(x)%dim != 0:
		return nil, fmt.Errorf("adjoint: coverage: %d numbers are not a multiple of the dimension %d", len(x), dim)
	}
	var pts []float64
	for i := 0; i < len(x); i += dim {
		row := x[i : i+dim]
		ok := true
		for _, v := range row {
			ok = ok && !math.IsNaN(v) && !math.IsInf(v, 0)
		}
		if ok {
			pts = append(pts, row...)
		}
	}
	res, ps, err := probe(sys, seed)
	if err != nil {
		return nil, fmt.Errorf("adjoint: coverage: %w", err)
	}
	c := &Coverage{Radius: CoverageRadius * res.Length}
	if g, axes, err := gibbsCheck(sys, x, ps.x, res.Length, seed); err == nil {
		c.Gibbs, c.GibbsAxes = g, axes
	}
	if sp.EffectiveDim() > CoverageMaxDim {
		c.NearSkipped = fmt.Sprintf("dimension %d is above %d", sp.EffectiveDim(), CoverageMaxDim)
		return c, nil
	}
	r2 := c.Radius * c.Radius
	type tally struct{ states, far int }
	chains := map[int]*tally{}
	var order []int
	farState := map[int][]float64{}
	for i, st := range ps.x {
		ch := ps.chain[i]
		t := chains[ch]
		if t == nil {
			t = &tally{}
			chains[ch] = t
			order = append(order, ch)
		}
		t.states++
		if !near(st, pts, dim, r2, sys.Box) {
			t.far++
			farState[ch] = st
		}
	}
	c.Chains = len(chains)
	e := make([]float64, 1)
	for _, ch := range order {
		t := chains[ch]
		if 2*t.far <= t.states {
			continue
		}
		c.Missed++
		if len(c.Examples) < 3 {
			st := append([]float64(nil), farState[ch]...)
			sys.Energy.EnergyGrad(st, e, nil)
			c.Examples = append(c.Examples, st)
			c.Energies = append(c.Energies, e[0])
		}
	}
	return c, nil
}

// near reports whether some point of pts (row-major, dim each) lies within squared distance r2
// of x (minimum image on the box, when there is one).
func near(x, pts []float64, dim int, r2 float64, box []float64) bool {
	for i := 0; i < len(pts); i += dim {
		var d2 float64
		for j := range dim {
			d := pts[i+j] - x[j]
			if len(box) > 0 {
				d = sde.WrapValue(d, box[j%len(box)])
			}
			d2 += d * d
			if d2 > r2 {
				break
			}
		}
		if d2 <= r2 {
			return true
		}
	}
	return false
}

package adjoint

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"adjoint/lib/energy"
)

// The Gibbs check looks for a sample that is wrong along one coordinate, in any dimension: under
// the target, the law of the samples is unchanged by an exact Gibbs update of coordinate j
// (drawing x_j from exp(−E/τ) with the other coordinates held), so the samples' own histogram of
// x_j must match the average over samples of the conditional density of x_j, computed by
// quadrature along the line. A sampler that collapsed onto some wells of a coordinate, or put the
// wrong mass in them, fails it along that coordinate even when nearness in the whole space says
// nothing (many dimensions) and the importance weights cannot see the missing mass.
const (
	// GibbsTV is the total variation between a coordinate's sample histogram and its Gibbs
	// update above which (and above three times its noise) the check warns.
	GibbsTV = 0.1
	// gibbsGrid is the number of quadrature nodes along a coordinate, gibbsBins the histogram
	// bins, gibbsRows the samples whose conditionals are computed and gibbsEvals the most energy
	// evaluations the check spends (fewer rows and coordinates beyond it).
	gibbsGrid, gibbsBins, gibbsRows, gibbsEvals = 256, 16, 512, 4 << 20
)

// GibbsAxis is the Gibbs check of one coordinate: the total variation TV between the samples'
// histogram of it and the histogram after an exact Gibbs update, with the noise TV would have for
// correct samples, and the bin Bin whose mass the samples miss most (Updated against Sampled).
type GibbsAxis struct {
	Axis             int
	TV, Noise        float64
	Bin              [2]float64
	Updated, Sampled float64
}

// gibbsCheck runs the Gibbs check on each coordinate (up to the evaluation budget) of the samples
// x of sys, over a range that covers the samples and the probe's states ref (with a margin of
// 3·length), and returns the coordinate of largest excess TV over GibbsTV + 3·noise (or, if
// none, of largest TV), with the number of coordinates checked.
func gibbsCheck(sys *energy.System, x []float64, ref [][]float64, length float64, seed int64) (*GibbsAxis, int, error) {
	dim := sys.Dim()
	n := len(x) / dim
	if n < 2 {
		return nil, 0, fmt.Errorf("gibbs check: %d samples", n)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x3c6ef372fe94f82b))
	axes := rng.Perm(dim)
	rows := min(n, gibbsRows)
	for rows > 64 && rows*len(axes)*gibbsGrid > gibbsEvals {
		rows /= 2
	}
	for len(axes) > 1 && rows*len(axes)*gibbsGrid > gibbsEvals {
		axes = axes[:len(axes)/2]
	}
	sort.Ints(axes)
	pick := rng.Perm(n)[:rows]
	periodic := len(sys.Box) > 0
	tau := sys.Tau()
	var worst *GibbsAxis
	score := func(a *GibbsAxis) float64 { return a.TV - (GibbsTV + 3*a.Noise) }
	batch := make([]float64, gibbsGrid*dim)
	e := make([]float64, gibbsGrid)
	for _, j := range axes {
		var lo, hi float64
		if periodic {
			l := sys.Box[j%len(sys.Box)]
			lo, hi = -l/2, l/2
		} else {
			lo, hi = math.Inf(1), math.Inf(-1)
			for i := range n {
				if v := x[i*dim+j]; !math.IsNaN(v) && !math.IsInf(v, 0) {
					lo, hi = min(lo, v), max(hi, v)
				}
			}
			for _, st := range ref {
				lo, hi = min(lo, st[j]), max(hi, st[j])
			}
			if !(lo <= hi) {
				continue
			}
			lo, hi = lo-3*length, hi+3*length
		}
		h := (hi - lo) / gibbsGrid
		bw := (hi - lo) / gibbsBins
		bin := func(v float64) int {
			if periodic {
				l := hi - lo
				v -= l * math.Floor((v-lo)/l)
			}
			return min(max(int((v-lo)/bw), 0), gibbsBins-1)
		}
		var sampled [gibbsBins]float64
		var finite int
		for i := range n {
			if v := x[i*dim+j]; !math.IsNaN(v) && !math.IsInf(v, 0) {
				sampled[bin(v)]++
				finite++
			}
		}
		var upd, upd2 [gibbsBins]float64
		var used int
		for _, r := range pick {
			row := x[r*dim : (r+1)*dim]
			for g := range gibbsGrid {
				c := batch[g*dim : (g+1)*dim]
				copy(c, row)
				c[j] = lo + (float64(g)+0.5)*h
			}
			sys.Energy.EnergyGrad(batch, e, nil)
			emin := math.Inf(1)
			for _, v := range e {
				if v < emin {
					emin = v
				}
			}
			if math.IsInf(emin, 0) || math.IsNaN(emin) {
				continue
			}
			var p [gibbsBins]float64
			var z float64
			for g, v := range e {
				w := 0.0
				if !math.IsNaN(v) {
					w = math.Exp(-(v - emin) / tau)
				}
				p[bin(lo+(float64(g)+0.5)*h)] += w
				z += w
			}
			for b := range p {
				upd[b] += p[b] / z
				upd2[b] += (p[b] / z) * (p[b] / z)
			}
			used++
		}
		if used < 2 || finite == 0 {
			continue
		}
		a := &GibbsAxis{Axis: j}
		var gap float64
		for b := range gibbsBins {
			u, s := upd[b]/float64(used), sampled[b]/float64(finite)
			varU := max(upd2[b]/float64(used)-u*u, 0) / float64(used)
			varS := s * (1 - s) / float64(finite)
			a.TV += math.Abs(u-s) / 2
			a.Noise += meanAbsNormal(varU+varS) / 2
			if u-s > gap {
				gap = u - s
				a.Bin = [2]float64{lo + float64(b)*bw, lo + float64(b+1)*bw}
				a.Updated, a.Sampled = u, s
			}
		}
		if worst == nil || score(a) > score(worst) {
			worst = a
		}
	}
	return worst, len(axes), nil
}

// meanAbsNormal is E|Z| for Z ~ N(0, v): the expected size of a bin's difference whose variance
// is v, from which the checks' total-variation noise is summed.
func meanAbsNormal(v float64) float64 { return math.Sqrt(2 * v / math.Pi) }

// beyondNoise is the checks' rule: a total variation tv fails when it exceeds limit by more than
// three times its noise (and so exceeds limit too).
func beyondNoise(tv, noise, limit float64) bool { return tv > limit+3*noise }

// gibbsWarning is the warning of a Gibbs check, "" when it passes.
func gibbsWarning(a *GibbsAxis, axes int) string {
	if a == nil || !beyondNoise(a.TV, a.Noise, GibbsTV) {
		return ""
	}
	msg := fmt.Sprintf("the samples are not at equilibrium along coordinate %d: an exact Gibbs update of it moves their histogram by total variation %.2f (noise %.2f; %d coordinates checked)",
		a.Axis, a.TV, a.Noise, axes)
	if a.Updated > a.Sampled {
		msg += fmt.Sprintf("; [%.3g, %.3g] should hold about %.1f%% of the samples and holds %.1f%%", a.Bin[0], a.Bin[1], 100*a.Updated, 100*a.Sampled)
	}
	return msg + ": the sampler may have collapsed onto some modes, and the weights cannot show it; refine the samples with Gibbs sweeps, which cross barriers along a coordinate (adjoint sample --refine 2 --refine-method gibbs; refine x 2 method gibbs), or train again with a Gibbs sweep for each new sample of the replay buffer (--refine-buffer 1 --refine-buffer-method gibbs; refine_buffer 1, refine_buffer_method gibbs), which kept manywell32 from collapsing"
}

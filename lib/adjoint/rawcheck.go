package adjoint

import (
	"fmt"
	"math"
	"sort"
)

// RawTV is the total variation, over RawBins quantile bins, between the samples' unweighted and
// importance-weighted distributions of one statistic above which RawCheck warns (when it also
// exceeds RawTV plus three times its noise).
const RawTV = 0.1

// RawBins is the number of bins (of equal unweighted mass) of RawCheck.
const RawBins = 16

// RawMinESS is the effective sample size below which RawCheck is not made: the weighted
// histogram is then too noisy, and the ESS warning already says the weights are poor.
const RawMinESS = 50

// rawMaxDim bounds the coordinates RawCheck compares one by one.
const rawMaxDim = 64

// RawAxis compares the unweighted distribution of one statistic of the samples (the energy, or
// a coordinate) with its importance-weighted distribution. When the weights are right, a
// difference beyond the noise says that the raw samples are not the target, though the weighted
// estimates may be.
type RawAxis struct {
	Name         string  // "energy" or "coordinate j"
	TV           float64 // total variation over RawBins bins of equal unweighted mass
	Noise        float64 // expected TV of exactly weighted samples of this ESS: ½ Σ_b sqrt(2 p_b(1−p_b) / (π·ESS))
	RawMean      float64 // the unweighted mean of the statistic
	WeightedMean float64 // the importance-weighted mean
}

// Biased reports whether the axis exceeds RawTV by more than three times its noise.
func (a RawAxis) Biased() bool { return beyondNoise(a.TV, a.Noise, RawTV) }

// RawCheck compares, for the energy and (for one-particle systems of at most 64 dimensions)
// each coordinate, the samples' unweighted distribution with their importance-weighted one, and
// returns the axes in that order. It returns nil when the ESS is below RawMinESS or fewer than
// 4·RawBins samples have a finite statistic and a usable weight.
func (sm *Samples) RawCheck() []RawAxis {
	if sm == nil || sm.N == 0 || len(sm.LogW) != sm.N || sm.ESS < RawMinESS {
		return nil
	}
	w, _, _ := scaledWeights(sm.LogW)
	names := []string{"energy"}
	vals := []func(i int) float64{func(i int) float64 { return sm.Energy[i] }}
	nd := sm.Particles * sm.SpatialDim
	if sm.Particles == 1 && nd <= rawMaxDim && len(sm.X) == sm.N*nd {
		for j := 0; j < nd; j++ {
			names = append(names, fmt.Sprintf("coordinate %d", j))
			vals = append(vals, func(i int) float64 { return sm.X[i*nd+j] })
		}
	}
	var out []RawAxis
	for k, val := range vals {
		if sm.Defensive > 0 {
			if a, ok := rawAxisMixed(names[k], val, w, sm.N-sm.Defensive, sm.N, sm.ESS); ok {
				out = append(out, a)
			}
			continue
		}
		if a, ok := rawAxis(names[k], val, w, sm.N, sm.ESS); ok {
			out = append(out, a)
		}
	}
	return out
}

// rawAxis bins the statistic val(i) of n samples at its unweighted quantiles and compares the
// bins' unweighted and weighted masses (weights w, unnormalised, zero for unusable ones).
func rawAxis(name string, val func(int) float64, w []float64, n int, ess float64) (RawAxis, bool) {
	type pt struct{ v, w float64 }
	pts := make([]pt, 0, n)
	var wsum float64
	for i := 0; i < n; i++ {
		if v := val(i); !math.IsNaN(v) && !math.IsInf(v, 0) {
			pts = append(pts, pt{v, w[i]})
			wsum += w[i]
		}
	}
	m := len(pts)
	if m < 4*RawBins || !(wsum > 0) {
		return RawAxis{}, false
	}
	sort.Slice(pts, func(a, b int) bool { return pts[a].v < pts[b].v })
	a := RawAxis{Name: name}
	for _, p := range pts {
		a.RawMean += p.v / float64(m)
		a.WeightedMean += p.v * p.w / wsum
	}
	for b := 0; b < RawBins; b++ {
		lo, hi := b*m/RawBins, (b+1)*m/RawBins
		// samples tied with the bin's edge go to the bin where the value starts
		for lo > 0 && lo < m && pts[lo].v == pts[lo-1].v {
			lo++
		}
		for hi < m && hi > 0 && pts[hi].v == pts[hi-1].v {
			hi++
		}
		if hi <= lo {
			continue
		}
		var wb float64
		for _, p := range pts[lo:hi] {
			wb += p.w
		}
		raw := float64(hi-lo) / float64(m)
		a.TV += 0.5 * math.Abs(raw-wb/wsum)
		a.Noise += meanAbsNormal(raw*(1-raw)/ess) / 2
	}
	return a, true
}

// rawWarning returns the warning for the most biased axis, "" when none is biased.
func rawWarning(axes []RawAxis) string {
	worst := -1
	for i, a := range axes {
		if a.Biased() && (worst < 0 || a.TV > axes[worst].TV) {
			worst = i
		}
	}
	if worst < 0 {
		return ""
	}
	a := axes[worst]
	return fmt.Sprintf("the raw samples differ from their importance-weighted distribution in %s (total variation %.2f over %d quantile bins, noise %.2f; mean %.4g unweighted against %.4g weighted): "+
		"the unweighted samples are not the target; use the weights, resample (--resample, sample … resample), refine with MCMC, or train longer",
		a.Name, a.TV, RawBins, a.Noise, a.RawMean, a.WeightedMean)
}

// rawAxisMixed is rawAxis for a defensive draw (Samples.Defensive): the unweighted masses are
// those of the model's rows (the first nModel), the weighted ones those of all n rows, in bins
// at the model rows' quantiles (the first and last bins open-ended).
func rawAxisMixed(name string, val func(int) float64, w []float64, nModel, n int, ess float64) (RawAxis, bool) {
	var mv []float64
	for i := 0; i < nModel; i++ {
		if v := val(i); !math.IsNaN(v) && !math.IsInf(v, 0) {
			mv = append(mv, v)
		}
	}
	m := len(mv)
	if m < 4*RawBins {
		return RawAxis{}, false
	}
	sort.Float64s(mv)
	edges := make([]float64, RawBins-1) // bin b is [edges[b−1], edges[b])
	for b := range edges {
		edges[b] = mv[(b+1)*m/RawBins]
	}
	a := RawAxis{Name: name}
	rawN, wb := make([]float64, RawBins), make([]float64, RawBins)
	var wsum float64
	for i := 0; i < n; i++ {
		v := val(i)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		b := sort.SearchFloat64s(edges, v)
		for b < len(edges) && edges[b] == v {
			b++
		}
		if i < nModel {
			rawN[b]++
			a.RawMean += v / float64(m)
		}
		wb[b] += w[i]
		wsum += w[i]
		a.WeightedMean += v * w[i]
	}
	if !(wsum > 0) {
		return RawAxis{}, false
	}
	a.WeightedMean /= wsum
	for b := range RawBins {
		raw := rawN[b] / float64(m)
		a.TV += 0.5 * math.Abs(raw-wb[b]/wsum)
		a.Noise += meanAbsNormal(raw*(1-raw)/ess) / 2
	}
	return a, true
}

// Package metrics measures how close generated samples are to reference samples: the energy
// W2 and the geometric W2 of the Adjoint Sampling paper (exact optimal transport after
// particle matching and Kabsch alignment), interatomic-distance histograms and their W2, the
// effective sample size of importance weights, and an evaluation report that renders itself.
package metrics

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// W2OneD returns the exact Wasserstein-2 distance between the empirical distributions of a and
// b on the real line (uniform weights). With equal sizes it is the RMS difference of the
// sorted lists; otherwise the quantile functions are integrated exactly. The inputs are not
// modified. Non-finite values are an error.
func W2OneD(a, b []float64) (float64, error) {
	if len(a) == 0 || len(b) == 0 {
		return 0, fmt.Errorf("metrics: 1-D W2 of an empty list (%d and %d values)", len(a), len(b))
	}
	if !allFinite(a) || !allFinite(b) {
		return 0, fmt.Errorf("metrics: 1-D W2: non-finite values")
	}
	sa := append([]float64(nil), a...)
	sb := append([]float64(nil), b...)
	sort.Float64s(sa)
	sort.Float64s(sb)
	if len(sa) == len(sb) {
		s := 0.0
		for i, v := range sa {
			t := v - sb[i]
			s += t * t
		}
		return math.Sqrt(s / float64(len(sa))), nil
	}
	// Walk the merged breakpoints k/na and l/nb of the two quantile functions.
	na, nb := float64(len(sa)), float64(len(sb))
	i, j := 0, 0
	t, s := 0.0, 0.0
	for i < len(sa) && j < len(sb) {
		ta := float64(i+1) / na
		tb := float64(j+1) / nb
		next := min(ta, tb)
		diff := sa[i] - sb[j]
		s += diff * diff * (next - t)
		t = next
		if ta <= tb {
			i++
		}
		if tb <= ta {
			j++
		}
	}
	return math.Sqrt(s), nil
}

// EnergyW2 is the energy W2 of the paper: the 1-D W2 between two lists of energies.
func EnergyW2(gen, ref []float64) (float64, error) { return W2OneD(gen, ref) }

// PairDistances returns all interatomic distances |x_i − x_j| (i < j) of every configuration
// in x (n particles × d coordinates each), pooled into one list.
func PairDistances(x []float64, n, d int) []float64 {
	dim := n * d
	if dim < 1 {
		return nil
	}
	b := len(x) / dim
	out := make([]float64, 0, b*n*(n-1)/2)
	for c := range b {
		PairSquares(x[c*dim:(c+1)*dim], n, d, func(s float64) { out = append(out, math.Sqrt(s)) })
	}
	return out
}

// PairSquares calls fn with |x_i − x_j|² for every pair i < j of one configuration cfg
// (n particles × d coordinates).
func PairSquares(cfg []float64, n, d int, fn func(s float64)) {
	for i := range n {
		for j := i + 1; j < n; j++ {
			s := 0.0
			for k := range d {
				t := cfg[i*d+k] - cfg[j*d+k]
				s += t * t
			}
			fn(s)
		}
	}
}

// DistanceW2 returns the 1-D W2 between the pooled interatomic distances of two sample sets.
func DistanceW2(x, y []float64, n, d int) (float64, error) {
	return W2OneD(PairDistances(x, n, d), PairDistances(y, n, d))
}

// ShortPairFractions classifies every configuration of x (n particles × d coordinates each) by
// how many of its n(n−1)/2 pairs are closer than cutoff and returns the fraction of
// configurations in each class (index k: k short pairs). With cutoff at the barrier of a
// double-well pair potential (r = 4 for DW-4), the classes are the metastable arrangements, and
// the fractions show whether a sampler puts the right mass in each: a sampler can match the
// pair-distance histogram and still weight the arrangements wrongly.
func ShortPairFractions(x []float64, n, d int, cutoff float64) ([]float64, error) {
	classes, err := shortPairClasses(x, n, d, cutoff)
	if err != nil {
		return nil, err
	}
	return classFractions(classes, n*(n-1)/2+1), nil
}

// shortPairClasses checks its input as ShortPairFractions does and returns ShortPairs of
// every configuration of x.
func shortPairClasses(x []float64, n, d int, cutoff float64) ([]int, error) {
	dim := n * d
	if n < 2 || d < 1 {
		return nil, fmt.Errorf("metrics: short pairs need at least 2 particles (got %d × %d)", n, d)
	}
	if !(cutoff > 0) || math.IsInf(cutoff, 0) {
		return nil, fmt.Errorf("metrics: short-pair cutoff %g must be positive and finite", cutoff)
	}
	if len(x) == 0 || len(x)%dim != 0 {
		return nil, fmt.Errorf("metrics: short pairs: %d numbers is not a positive multiple of the dimension %d", len(x), dim)
	}
	out := make([]int, len(x)/dim)
	for c := range out {
		out[c] = ShortPairs(x[c*dim:(c+1)*dim], n, d, cutoff)
	}
	return out, nil
}

// classFractions returns the fraction of classes in each of k classes (index: class).
func classFractions(classes []int, k int) []float64 {
	out := make([]float64, k)
	for _, c := range classes {
		out[c]++
	}
	for i := range out {
		out[i] /= float64(len(classes))
	}
	return out
}

// EnergyGapByClass splits the gap in mean energy between generated configurations (energies
// eg, classes cg) and reference ones (er, cr) into the part that comes from how the
// configurations are shared among the classes and the part from the energies within them:
//
//	shares = Σ_{k in ref} (p_k − q_k)(Ē_ref,k − Ē_ref) + Σ_{k not in ref} p_k (Ē_gen,k − Ē_ref)
//	within = Σ_{k in ref} p_k (Ē_gen,k − Ē_ref,k)
//
// with p_k and q_k the generated and reference fractions of class k and Ē the mean energies
// (of a class, or of all reference configurations). shares + within = Ē_gen − Ē_ref exactly.
// Generated classes the reference never visits count as shares. With DW-4's short pairs as
// classes, shares is the error of the arrangements' weights and within that of the wells'
// widths; with LJ contacts (a cutoff of 1.25), shares is the heat of missing contacts.
// Empty inputs give zeros.
func EnergyGapByClass(eg, er []float64, cg, cr []int) (shares, within float64) {
	if len(eg) == 0 || len(er) == 0 || len(eg) != len(cg) || len(er) != len(cr) {
		return 0, 0
	}
	classes := max(slices.Max(cg), slices.Max(cr)) + 1
	if min(slices.Min(cg), slices.Min(cr)) < 0 {
		return 0, 0
	}
	// counts and energy sums per class, in class order (a fixed order of summation)
	gn, gs := make([]float64, classes), make([]float64, classes)
	rn, rs := make([]float64, classes), make([]float64, classes)
	refMean := 0.0
	for i, e := range er {
		rn[cr[i]]++
		rs[cr[i]] += e
		refMean += e
	}
	refMean /= float64(len(er))
	for i, e := range eg {
		gn[cg[i]]++
		gs[cg[i]] += e
	}
	ng, nr := float64(len(eg)), float64(len(er))
	for k := range classes {
		p := gn[k] / ng
		switch {
		case rn[k] > 0:
			eref := rs[k] / rn[k]
			if gn[k] > 0 {
				within += p * (gs[k]/gn[k] - eref)
			}
			shares += (p - rn[k]/nr) * (eref - refMean)
		case gn[k] > 0:
			shares += p * (gs[k]/gn[k] - refMean)
		}
	}
	return shares, within
}

// ShortPairs is the number of pairs of one configuration (n particles × d coordinates) closer
// than cutoff: its class in ShortPairFractions.
func ShortPairs(cfg []float64, n, d int, cutoff float64) int {
	k := 0
	c2 := cutoff * cutoff
	PairSquares(cfg, n, d, func(s float64) {
		if s < c2 {
			k++
		}
	})
	return k
}

// Histogram is a normalised histogram (a density: Σ Density·width = 1 over the range).
type Histogram struct {
	Edges   []float64 // bin edges, len(Density)+1
	Density []float64 // density per bin
	Outside int       // values that fell outside [Edges[0], Edges[last]]
}

// NewHistogram bins values into bins equal bins over [lo, hi].
func NewHistogram(values []float64, bins int, lo, hi float64) (*Histogram, error) {
	if bins < 1 || !(hi > lo) {
		return nil, fmt.Errorf("metrics: histogram needs bins ≥ 1 and hi > lo (got %d, [%g, %g])", bins, lo, hi)
	}
	h := &Histogram{Edges: make([]float64, bins+1), Density: make([]float64, bins)}
	w := (hi - lo) / float64(bins)
	for i := range h.Edges {
		h.Edges[i] = lo + float64(i)*w
	}
	in := 0
	for _, v := range values {
		if !(v >= lo && v <= hi) {
			h.Outside++
			continue
		}
		k := min(int((v-lo)/w), bins-1)
		h.Density[k]++
		in++
	}
	if in > 0 {
		for k := range h.Density {
			h.Density[k] /= float64(in) * w
		}
	}
	return h, nil
}

// ESS returns the effective sample size (Σw)²/Σw² of importance weights given by their logs,
// computed stably (shifted by the largest log-weight). −Inf log-weights are zero weights; NaN
// is an error; +Inf entries share all the weight.
func ESS(logw []float64) (float64, error) {
	if len(logw) == 0 {
		return 0, fmt.Errorf("metrics: ESS of no weights")
	}
	m := math.Inf(-1)
	nInf := 0
	for i, v := range logw {
		if math.IsNaN(v) {
			return 0, fmt.Errorf("metrics: ESS: log-weight %d is NaN", i)
		}
		if math.IsInf(v, 1) {
			nInf++
		}
		m = max(m, v)
	}
	if nInf > 0 {
		return float64(nInf), nil
	}
	if math.IsInf(m, -1) {
		return 0, fmt.Errorf("metrics: ESS: all weights are zero")
	}
	s1, s2 := 0.0, 0.0
	for _, v := range logw {
		w := math.Exp(v - m)
		s1 += w
		s2 += w * w
	}
	return s1 * s1 / s2, nil
}

// NormalizedESS returns ESS/len(logw), in (0, 1].
func NormalizedESS(logw []float64) (float64, error) {
	e, err := ESS(logw)
	if err != nil {
		return 0, err
	}
	return e / float64(len(logw)), nil
}

// DropNonFinite returns the configurations of x (dim numbers each) that contain only finite
// numbers, and how many were dropped. x is not modified.
func DropNonFinite(x []float64, dim int) (kept []float64, dropped int) {
	if dim < 1 {
		return nil, 0
	}
	kept = make([]float64, 0, len(x))
	for off := 0; off+dim <= len(x); off += dim {
		if allFinite(x[off : off+dim]) {
			kept = append(kept, x[off:off+dim]...)
		} else {
			dropped++
		}
	}
	return kept, dropped
}

// Mean returns the mean and the standard deviation (n−1 denominator) of v.
func Mean(v []float64) (mean, sd float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	if len(v) > 1 {
		for _, x := range v {
			sd += (x - mean) * (x - mean)
		}
		sd = math.Sqrt(sd / float64(len(v)-1))
	}
	return mean, sd
}

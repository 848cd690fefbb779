package adjoint

import (
	"math"
	"sort"
)

// ParetoK estimates the shape k of the upper tail of importance weights: the tail of the
// weights' distribution is fitted by a generalised Pareto distribution, P(w > u + y | w > u) =
// (1 + k·y/σ)^(−1/k), whose shape says how many moments the weights have (finite variance for
// k < ½, a finite mean only for k < 1). This is the diagnostic of Pareto smoothed importance
// sampling (Vehtari, Simpson, Gelman, Yao and Gabry, JMLR 25, 2024): above about 0.7 the
// weighted estimates and log Z converge so slowly that they cannot be trusted at any practical
// sample size, even when the Kish ESS looks healthy, because the weights that would correct
// them are rare and mostly not drawn.
//
// The tail is the M = ⌈min(N/5, 3√N)⌉ largest usable weights (N the usable count); the
// exceedances over the next weight are fitted by the empirical Bayes estimate of Zhang and
// Stephens (Technometrics 51, 2009), and k is then shrunk toward ½ as if by ten prior
// observations, k ← (M·k + 10·½)/(M + 10), as the paper does. The result is NaN when fewer than
// 5 weights form the tail (N < 25) or when no weight is positive, and +Inf when more than a
// quarter of the tail equals its threshold while the top of the tail does not (a handful of
// weights dominate everything else). For weights p(x)/q(x) of a target N(0, 1) and a proposal
// N(0, s²) with s < 1, the exact shape is 1 − s².
func ParetoK(logw []float64) float64 {
	l := make([]float64, 0, len(logw))
	for _, v := range logw {
		if usable(v) && !math.IsInf(v, -1) {
			l = append(l, v)
		}
	}
	n := len(l)
	m := int(math.Ceil(math.Min(0.2*float64(n), 3*math.Sqrt(float64(n)))))
	if m < 5 || m >= n {
		return math.NaN()
	}
	sort.Float64s(l)
	top := l[n-1]
	cut := math.Exp(l[n-m-1] - top)
	x := make([]float64, m) // exceedances, ascending, scaled by the largest weight
	for i := range x {
		x[i] = math.Exp(l[n-m+i]-top) - cut
	}
	return paretoShrink(gpdShape(x), m)
}

// paretoShrink is the weakly informative prior of the paper: k pulled toward ½ with the weight of
// ten observations against m.
func paretoShrink(k float64, m int) float64 {
	if math.IsInf(k, 0) || math.IsNaN(k) {
		return k
	}
	return (float64(m)*k + 10*0.5) / float64(m+10)
}

// gpdShape fits the shape of a generalised Pareto distribution with location 0 to ascending
// exceedances x by Zhang and Stephens' estimate: the profile likelihood of b = −k/σ on a grid
// of m = 30 + ⌊√n⌋ points, averaged with the likelihood as weight, then k = −mean(log(1 − b·x)).
// (The sign is that of Vehtari et al.: positive k is a heavy tail.)
func gpdShape(x []float64) float64 {
	n := len(x)
	xmax := x[n-1]
	xq := x[int(math.Floor(float64(n)/4+0.5))-1] // the first quartile
	if xmax <= 0 {
		return math.NaN() // no spread in the tail
	}
	if xq <= 0 {
		return math.Inf(1)
	}
	const prior = 3
	g := 30 + int(math.Sqrt(float64(n)))
	theta := make([]float64, g)
	ll := make([]float64, g)
	kOf := func(th float64) float64 {
		var s float64
		for _, v := range x {
			s += math.Log1p(-th * v)
		}
		return s / float64(n)
	}
	llMax := math.Inf(-1)
	for j := range theta {
		th := 1/xmax + (1-math.Sqrt(float64(g)/(float64(j)+0.5)))/(prior*xq)
		theta[j] = th
		k := kOf(th) // E[log(1 − θx)]; the profile log-likelihood is n(log(−θ/k) − k − 1)
		ll[j] = float64(n) * (math.Log(-th/k) - k - 1)
		if math.IsNaN(ll[j]) {
			ll[j] = math.Inf(-1)
		}
		llMax = math.Max(llMax, ll[j])
	}
	if math.IsInf(llMax, -1) {
		return math.NaN()
	}
	var sw, st float64
	for j, th := range theta {
		w := math.Exp(ll[j] - llMax)
		sw += w
		st += w * th
	}
	return kOf(st / sw)
}

// ParetoKThreshold is the shape above which Diagnostics.Warnings calls the weights' tail too
// heavy for N samples: min(1 − 1/log₁₀ N, 0.7), the paper's limit (below it the estimates'
// error still falls about as 1/√N; at 0.7 and above, not at any practical N).
func ParetoKThreshold(n int) float64 {
	if n < 10 {
		return 0
	}
	return math.Min(1-1/math.Log10(float64(n)), 0.7)
}

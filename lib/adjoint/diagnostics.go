package adjoint

import (
	"fmt"
	"math"
	"strings"

	"adjoint/lib/display"
)

// Warning thresholds of Diagnostics.Warnings.
const (
	// MinESSFraction is the ESS / N below which the weights are called degenerate.
	MinESSFraction = 0.01
	// MaxWeightShare is the share of the total weight above which one sample dominates.
	MaxWeightShare = 0.1
)

// Diagnostics summarise the importance weights of a sample toward exp(−E/τ).
//
// The log weights are those of Samples.LogW: for a sample X_1 drawn by the discretised
// controlled SDE,
//
//	log w = Σ_k [−u_k·ξ_k √Δt − ½‖u_k‖² Δt] − E(X_1)/τ − log p_1^base(X_1),
//
// the Girsanov log-ratio of the base chain's path measure to the controlled chain's, plus the
// log-ratio of the unnormalised target to the base chain's terminal marginal p_1^base. Their
// expectation is exactly E[w] = Z = ∫ exp(−E(x)/τ) dx over the system's state space, for the
// discretisation that drew the samples (no time-step bias): on R^{n·d}; on a periodic box, the
// torus (one period of each coordinate, p_1^base the wrapped normal); with translation symmetry,
// the zero-centre-of-mass subspace {x : Σ_i x_i = 0} of dimension (n−1)·d, measured by its own
// (n−1)·d-dimensional volume (so Z = n^{−d/2} ∫_{R^{n·d}} exp(−E/τ) δ(x̄) dx, x̄ the mean particle
// position). Log weights of −Inf (an energy of +Inf) are zero weights and count; NaN and +Inf
// log weights cannot be used: they are left out of every estimate and counted in NonFinite.
type Diagnostics struct {
	N           int     // samples
	Used        int     // samples whose log weight is usable (not NaN, not +Inf)
	NonFinite   int     // samples whose energy or log weight is NaN or ±Inf
	ESS         float64 // Kish effective sample size (Σw)²/Σw² of the usable weights
	ESSFraction float64 // ESS / N
	// LogZ estimates log Z by the log of the mean weight, log((1/Used) Σ w_i) (log-mean-exp of
	// the log weights): the mean weight is unbiased for Z, its log is biased low by about
	// LogZSE²/2.
	LogZ float64
	// LogZSE is the standard error of LogZ by the delta method, sqrt(s²/Used)/w̄ with w̄ and s²
	// the sample mean and variance of the weights (NaN with fewer than two usable weights).
	LogZSE   float64
	MaxShare float64 // the largest normalised weight, max w / Σw (NaN when no weight is positive)
	// ParetoK is the shape of the weights' upper tail (ParetoK; NaN with fewer than 25 positive
	// weights or none spread). Above ParetoKThreshold(Used) the weighted estimates and log Z are
	// not to be trusted whatever the ESS says: the weights that would correct them are too rare
	// to be drawn.
	ParetoK float64
}

// LogZEstimator names the estimator of Diagnostics.LogZ and its standard error.
const LogZEstimator = "log-mean-exp of the log weights, delta-method se"

// Diagnose computes the diagnostics of log importance weights logw and the energies of the same
// samples (energy may be nil; it only adds its non-finite values to the count).
func Diagnose(logw, energy []float64) Diagnostics { return diagnose(logw, energy, true) }

// diagnose is Diagnose; tail false leaves ParetoK NaN (ESS alone needs no sorted tail fit).
func diagnose(logw, energy []float64, tail bool) Diagnostics {
	d := Diagnostics{N: len(logw), ESS: 0, LogZ: math.NaN(), LogZSE: math.NaN(), MaxShare: math.NaN(), ParetoK: math.NaN()}
	for i, l := range logw {
		if math.IsNaN(l) || math.IsInf(l, 0) || (i < len(energy) && (math.IsNaN(energy[i]) || math.IsInf(energy[i], 0))) {
			d.NonFinite++
		}
	}
	w, mx, used := scaledWeights(logw)
	d.Used = used
	if used == 0 {
		return d
	}
	if math.IsInf(mx, -1) { // every usable weight is zero
		d.LogZ = math.Inf(-1)
		return d
	}
	var s, s2 float64
	for _, v := range w {
		s += v
		s2 += v * v
	}
	mean := s / float64(used)
	d.ESS = s * s / s2
	d.ESSFraction = d.ESS / float64(d.N)
	d.LogZ = mx + math.Log(mean)
	d.MaxShare = 1 / s // the largest scaled weight is 1
	if tail {
		d.ParetoK = ParetoK(logw)
	}
	if used > 1 {
		var ss float64
		for i, v := range w {
			if usable(logw[i]) {
				ss += (v - mean) * (v - mean)
			}
		}
		d.LogZSE = math.Sqrt(ss/float64(used-1)/float64(used)) / mean
	}
	return d
}

// usable reports whether a log weight can enter the estimates (not NaN, not +Inf).
func usable(l float64) bool { return !math.IsNaN(l) && !math.IsInf(l, 1) }

// scaledWeights returns w_i = exp(logw_i − max) for the usable log weights (0 for the others),
// the maximum usable log weight and the number of usable ones.
func scaledWeights(logw []float64) (w []float64, mx float64, used int) {
	mx = math.Inf(-1)
	for _, l := range logw {
		if usable(l) {
			used++
			mx = math.Max(mx, l)
		}
	}
	w = make([]float64, len(logw))
	if math.IsInf(mx, -1) {
		return w, mx, used
	}
	for i, l := range logw {
		if usable(l) {
			w[i] = math.Exp(l - mx)
		}
	}
	return w, mx, used
}

// Warnings says, one sentence each, what makes estimates from these weights untrustworthy and
// what to try: ESS below MinESSFraction of the samples, one weight above MaxWeightShare of the
// total, a tail shape ParetoK above ParetoKThreshold when neither of those fired (the case the
// ESS hides), no usable weight, non-finite energies or weights. It is empty for healthy weights.
func (d Diagnostics) Warnings() []string {
	var out []string
	switch {
	case d.N == 0:
		return []string{"no samples"}
	case d.Used == 0:
		return []string{fmt.Sprintf("none of the %d log weights is usable (all NaN or +Inf): check the energy for NaN or −Inf values; retrain if the network diverged", d.N)}
	case math.IsInf(d.LogZ, -1):
		return []string{fmt.Sprintf("all %d weights are zero (log weight −Inf): the samples miss the target's support; train longer or use a wider schedule", d.Used)}
	}
	if d.ESSFraction < MinESSFraction {
		out = append(out, fmt.Sprintf("ESS %.1f is %.2g%% of the %d samples (below %g%%): the sampler covers the target poorly; train longer, use a wider schedule (larger σ_max), or refine with MCMC; resampling to equal weights gives copies, not more information",
			d.ESS, 100*d.ESSFraction, d.N, 100*MinESSFraction))
	}
	if d.MaxShare > MaxWeightShare {
		out = append(out, fmt.Sprintf("one sample holds %.0f%% of the total weight (above %g%%): weighted estimates and log Z rest on it; draw more samples, train longer, or refine with MCMC (resampling would copy that sample many times)",
			100*d.MaxShare, 100*MaxWeightShare))
	}
	if th := ParetoKThreshold(d.Used); len(out) == 0 && d.ParetoK > th {
		out = append(out, fmt.Sprintf("the weights' tail is heavy (Pareto k̂ %.2f, above %.2f): ESS and log Z look better than they are, because the few large weights that would correct the estimates are mostly not drawn; train longer, add defensive draws (--defensive 0.2) or a wider schedule, and compare log Z between independent draws",
			d.ParetoK, th))
	}
	if d.NonFinite > 0 {
		out = append(out, fmt.Sprintf("%d of %d samples have a non-finite energy or log weight (NaN and +Inf log weights are left out of the estimates, −Inf ones weigh zero); check the energy near those configurations",
			d.NonFinite, d.N))
	}
	return out
}

// String is the diagnostics in five lines: ESS, log Z with its standard error and estimator,
// the largest weight's share, the tail shape and the non-finite count.
func (d Diagnostics) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ESS %.1f of %d (%.4f, Kish)\n", d.ESS, d.N, d.ESSFraction)
	fmt.Fprintf(&b, "log Z %.4f ± %.4f (%s)\n", d.LogZ, d.LogZSE, LogZEstimator)
	fmt.Fprintf(&b, "max weight share %.4f\n", d.MaxShare)
	if math.IsNaN(d.ParetoK) {
		fmt.Fprintf(&b, "Pareto k̂ n/a (tail shape: too few positive weights, or none spread, to fit)\n")
	} else {
		fmt.Fprintf(&b, "Pareto k̂ %.2f (tail shape; above %.2f the estimates are unreliable)\n", d.ParetoK, ParetoKThreshold(d.Used))
	}
	fmt.Fprintf(&b, "non-finite energies or weights %d\n", d.NonFinite)
	return b.String()
}

// Table lists the diagnostics and their warnings.
func (d Diagnostics) Table() *display.Table {
	t := &display.Table{Caption: "importance weights", Header: []string{"quantity", "value"}}
	t.AddRow("samples (usable weights)", fmt.Sprintf("%d (%d)", d.N, d.Used))
	t.AddRow("ESS (Kish) / fraction", fmt.Sprintf("%.1f / %.4f", d.ESS, d.ESSFraction))
	t.AddRow("log Z ± se", fmt.Sprintf("%.4f ± %.4f", d.LogZ, d.LogZSE))
	t.AddRow("log Z estimator", LogZEstimator)
	t.AddRow("max weight share", fmt.Sprintf("%.4f", d.MaxShare))
	t.AddRow("Pareto k̂ (tail shape)", fmtK(d.ParetoK))
	t.AddRow("non-finite energies or weights", d.NonFinite)
	for _, w := range d.Warnings() {
		t.AddRow("warning", w)
	}
	return t
}

// MIMEBundle renders the diagnostics table.
func (d Diagnostics) MIMEBundle() display.Bundle { return d.Table().MIMEBundle() }

// Diagnostics computes the diagnostics of the samples' log weights and energies.
func (sm *Samples) Diagnostics() Diagnostics { return Diagnose(sm.LogW, sm.Energy) }

// fmtK formats a tail shape: two decimals, "n/a" when it could not be fitted.
func fmtK(k float64) string {
	if math.IsNaN(k) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", k)
}

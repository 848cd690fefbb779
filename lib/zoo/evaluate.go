package zoo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"adjoint/lib/display"
	"adjoint/lib/energy"
	"adjoint/lib/metrics"
	"adjoint/lib/sde"
)

// CoverageFraction is the share of its exact mass a region must hold among the unweighted
// samples to count as covered.
const CoverageFraction = 0.25

// CoverableMass is the smallest exact mass of a region that coverage counts (so that the
// many-well's classes of vanishing probability do not enter it).
const CoverableMass = 0.005

// EvalOptions tunes Evaluate.
type EvalOptions struct {
	// W2N is the number of samples (drawn at random) compared with as many exact samples by the
	// exact W2; 0 means 1000 (or all, when fewer); negative skips W2.
	W2N  int
	Seed uint64 // seed of the subsampling and of the exact samples
	// Floor also computes the W2 between two independent exact sets of the same size (the
	// noise floor of the W2).
	Floor bool
	// Defensive is the number of rows at the end of x drawn from a defensive proposal rather
	// than the sampler (adjoint.Samples.Defensive). They enter the weighted columns and log Z,
	// which are taken against the mixture; the unweighted columns (masses, coverage, TV, W2,
	// P(x>0), the marginal) describe the other rows, the sampler's own.
	Defensive int
}

// RegionMass compares one mode's or basin's mass in the samples with the exact one.
type RegionMass struct {
	Label      string   `json:"label"`
	Exact      float64  `json:"exact"`
	Unweighted float64  `json:"unweighted"`
	Weighted   *float64 `json:"weighted,omitempty"`
}

// Marginal compares a one-dimensional marginal of the samples with its exact law.
type Marginal struct {
	Coordinate string   `json:"coordinate"`
	ExactMean  float64  `json:"exact_mean"`
	ExactSD    float64  `json:"exact_sd"`
	Mean       float64  `json:"mean"`
	SD         float64  `json:"sd"`
	KS         float64  `json:"ks"` // Kolmogorov–Smirnov distance of the empirical CDF
	W1         float64  `json:"w1"` // Wasserstein-1 distance to the exact marginal
	MeanW      *float64 `json:"weighted_mean,omitempty"`
	SDW        *float64 `json:"weighted_sd,omitempty"`
	KSW        *float64 `json:"weighted_ks,omitempty"`
	W1W        *float64 `json:"weighted_w1,omitempty"`
}

// Report is the evaluation of samples (with optional log importance weights) against a zoo
// target's exact answers. Its JSON form is what `adjoint eval NAME` prints.
type Report struct {
	Target  string `json:"target"`
	N       int    `json:"n"`       // samples used
	Dropped int    `json:"dropped"` // samples with non-finite coordinates or energies
	// Defensive is EvalOptions.Defensive: the last rows, counted in N, that only the weighted
	// columns use.
	Defensive int `json:"defensive,omitempty"`
	// Regions compares mode or basin masses: unweighted (sample fractions) and weighted
	// (self-normalised importance weights).
	Regions []RegionMass `json:"regions"`
	// Coverage is the number of regions of exact mass ≥ CoverableMass that hold at least
	// CoverageFraction of their exact mass among the unweighted samples; CoverageOf is the
	// number of such regions.
	Coverage   int `json:"coverage"`
	CoverageOf int `json:"coverage_of"`
	// TV and TVWeighted are the total-variation distances ½ Σ |m − m_exact| over the regions.
	TV         float64  `json:"tv"`
	TVWeighted *float64 `json:"weighted_tv,omitempty"`
	// LogZ is the log-mean-exp of the log weights, an estimate of the exact LogZExact; LogZError
	// is their difference. ESS is the effective sample size (Σw)²/Σw².
	LogZExact float64  `json:"log_z_exact"`
	LogZ      *float64 `json:"log_z,omitempty"`
	LogZError *float64 `json:"log_z_error,omitempty"`
	ESS       *float64 `json:"ess,omitempty"`
	// W2 is the exact Wasserstein-2 distance between W2N unweighted samples and as many exact
	// samples (minimum-image distances on a torus); W2Floor that between two exact sets.
	W2      *float64 `json:"w2,omitempty"`
	W2Floor *float64 `json:"w2_floor,omitempty"`
	W2N     int      `json:"w2_n,omitempty"`
	// PPositive (manywell32) is P(x > 0) of each copy's first coordinate; PPositiveExact the
	// exact value; PPositiveMAE the mean absolute error over the copies (and weighted).
	PPositiveExact float64   `json:"p_positive_exact,omitempty"`
	PPositive      []float64 `json:"p_positive,omitempty"`
	PPositiveW     []float64 `json:"weighted_p_positive,omitempty"`
	PPositiveMAE   *float64  `json:"p_positive_mae,omitempty"`
	PPositiveMAEW  *float64  `json:"weighted_p_positive_mae,omitempty"`
	// DistinctModes (manywell32) is the number of distinct sign patterns among the samples;
	// ExpectedModes the expected number among as many exact samples.
	DistinctModes int     `json:"distinct_modes,omitempty"`
	ExpectedModes float64 `json:"expected_distinct_modes,omitempty"`
	// Marginal (funnel10) compares the scale coordinate's marginal with N(0, 9).
	Marginal *Marginal `json:"marginal,omitempty"`
	Seconds  float64   `json:"seconds"`
}

// Evaluate compares samples x (row-major, the target's dimension each) and, when logw is not nil,
// their log importance weights toward exp(−E/τ) (one per sample, as adjoint.Samples.LogW) with
// the target's exact answers. Samples with non-finite coordinates or energies are dropped; a
// non-finite log weight counts as a zero weight. With opt.Defensive, the unweighted columns
// leave out the last opt.Defensive rows (see EvalOptions).
func (t *Target) Evaluate(x, logw []float64, opt EvalOptions) (*Report, error) {
	if opt.Defensive != 0 {
		return t.evaluateDefensive(x, logw, opt)
	}
	start := time.Now()
	ex, err := t.Exact()
	if err != nil {
		return nil, err
	}
	sys, err := t.System()
	if err != nil {
		return nil, err
	}
	dim := sys.Dim()
	if len(x) == 0 || len(x)%dim != 0 {
		return nil, fmt.Errorf("zoo: evaluate %s: %d numbers are not a positive multiple of the dimension %d", t.Name, len(x), dim)
	}
	b := len(x) / dim
	if logw != nil && len(logw) != b {
		return nil, fmt.Errorf("zoo: evaluate %s: %d log weights for %d samples", t.Name, len(logw), b)
	}
	r := &Report{Target: t.Name, LogZExact: ex.LogZ}
	// drop non-finite samples
	e := make([]float64, b)
	sys.Energy.EnergyGrad(x, e, nil)
	var xs, lw []float64
	for i := range b {
		row := x[i*dim : (i+1)*dim]
		ok := !math.IsNaN(e[i]) && !math.IsInf(e[i], 0)
		for _, v := range row {
			ok = ok && !math.IsNaN(v) && !math.IsInf(v, 0)
		}
		if !ok {
			r.Dropped++
			continue
		}
		xs = append(xs, row...)
		if logw != nil {
			lw = append(lw, logw[i])
		}
	}
	n := len(xs) / dim
	r.N = n
	if n == 0 {
		return nil, fmt.Errorf("zoo: evaluate %s: no usable samples (%d dropped)", t.Name, r.Dropped)
	}
	if sys.Periodic() {
		for i := range xs {
			xs[i] = sde.WrapValue(xs[i], 2*math.Pi)
		}
	}
	// self-normalised weights
	var w []float64
	if logw != nil {
		w = make([]float64, n)
		mx := math.Inf(-1)
		for _, v := range lw {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				mx = math.Max(mx, v)
			}
		}
		var s, s2 float64
		for i, v := range lw {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				w[i] = math.Exp(v - mx)
			}
			s += w[i]
			s2 += w[i] * w[i]
		}
		if s > 0 {
			for i := range w {
				w[i] /= s
			}
			lz := mx + math.Log(s/float64(b)) // dropped samples count as zero weight
			le := lz - ex.LogZ
			ess := s * s / s2
			r.LogZ, r.LogZError, r.ESS = &lz, &le, &ess
		} else {
			w = nil // no finite weight: weighted fields stay empty
		}
	}
	// regions
	k := len(ex.Masses)
	un := make([]float64, k)
	var wt []float64
	if w != nil {
		wt = make([]float64, k)
	}
	resp := make([]float64, k)
	for i := range n {
		t.assign(xs[i*dim:(i+1)*dim], resp)
		for c, v := range resp {
			un[c] += v / float64(n)
			if w != nil {
				wt[c] += v * w[i]
			}
		}
	}
	var tvw float64
	for c := range k {
		rm := RegionMass{Label: ex.Regions[c], Exact: ex.Masses[c], Unweighted: un[c]}
		r.TV += 0.5 * math.Abs(un[c]-ex.Masses[c])
		if w != nil {
			v := wt[c]
			rm.Weighted = &v
			tvw += 0.5 * math.Abs(v-ex.Masses[c])
		}
		if ex.Masses[c] >= CoverableMass {
			r.CoverageOf++
			if un[c] >= CoverageFraction*ex.Masses[c] {
				r.Coverage++
			}
		}
		r.Regions = append(r.Regions, rm)
	}
	if w != nil {
		r.TVWeighted = &tvw
	}
	switch t.Name {
	case "manywell32":
		t.manywellStats(r, ex, xs, w, dim)
	case "funnel10":
		r.Marginal = funnelMarginal(xs, w, dim)
	}
	if opt.W2N >= 0 {
		if err := t.w2(r, xs, opt, dim, sys.Periodic()); err != nil {
			return nil, err
		}
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

// evaluateDefensive is Evaluate with opt.Defensive rows at the end of x: the unweighted
// columns come from the other rows, the weighted ones from all rows.
func (t *Target) evaluateDefensive(x, logw []float64, opt EvalOptions) (*Report, error) {
	sys, err := t.System()
	if err != nil {
		return nil, err
	}
	dim := sys.Dim()
	b := len(x) / dim
	k := opt.Defensive
	if len(x)%dim != 0 || k < 0 || k >= b {
		return nil, fmt.Errorf("zoo: evaluate %s: %d defensive rows of %d samples: need 0 ≤ rows < samples", t.Name, k, b)
	}
	if logw == nil {
		return nil, fmt.Errorf("zoo: evaluate %s: defensive rows need the log weights", t.Name)
	}
	opt.Defensive = 0
	own, err := t.Evaluate(x[:(b-k)*dim], nil, opt)
	if err != nil {
		return nil, fmt.Errorf("%w (the sampler's own rows)", err)
	}
	opt.W2N, opt.Floor = -1, false
	all, err := t.Evaluate(x, logw, opt)
	if err != nil {
		return nil, err
	}
	own.N, own.Dropped, own.Defensive = all.N, all.Dropped, k
	own.LogZ, own.LogZError, own.ESS, own.TVWeighted = all.LogZ, all.LogZError, all.ESS, all.TVWeighted
	for c := range own.Regions {
		own.Regions[c].Weighted = all.Regions[c].Weighted
	}
	own.PPositiveW, own.PPositiveMAEW = all.PPositiveW, all.PPositiveMAEW
	if own.Marginal != nil && all.Marginal != nil {
		m, a := own.Marginal, all.Marginal
		m.MeanW, m.SDW, m.KSW, m.W1W = a.MeanW, a.SDW, a.KSW, a.W1W
	}
	own.Seconds += all.Seconds
	return own, nil
}

// gmm40 is the mixture whose responsibilities split the gmm40 samples over its modes.
var gmm40 = energy.NewGMM40()

// assign writes the share of configuration x in each region into r (one-hot except for gmm40,
// whose shares are the posterior responsibilities).
func (t *Target) assign(x, r []float64) {
	clear(r)
	switch t.Name {
	case "gmm40":
		gmm40.Responsibilities(x, r)
	case "funnel10":
		c := sort.SearchFloat64s(FunnelBands, x[0]) // first edge ≥ v
		if c < len(FunnelBands) && FunnelBands[c] == x[0] {
			c++ // bands are closed on the left
		}
		r[c] = 1
	case "manywell32":
		pos := 0
		for i := 0; i < len(x); i += 2 {
			if x[i] > 0 {
				pos++
			}
		}
		r[pos] = 1
	default:
		r[t.q.label[t.q.gridNode(x[0], x[1])]] = 1
	}
}

func (t *Target) manywellStats(r *Report, ex *Exact, xs, w []float64, dim int) {
	copies := dim / 2
	n := len(xs) / dim
	r.PPositiveExact = ex.PPositive
	r.PPositive = make([]float64, copies)
	if w != nil {
		r.PPositiveW = make([]float64, copies)
	}
	seen := map[uint32]bool{}
	for i := range n {
		row := xs[i*dim : (i+1)*dim]
		var pat uint32
		for c := range copies {
			if row[2*c] > 0 {
				pat |= 1 << c
				r.PPositive[c] += 1 / float64(n)
				if w != nil {
					r.PPositiveW[c] += w[i]
				}
			}
		}
		seen[pat] = true
	}
	r.DistinctModes = len(seen)
	var mae, maew float64
	for c := range copies {
		mae += math.Abs(r.PPositive[c]-ex.PPositive) / float64(copies)
		if w != nil {
			maew += math.Abs(r.PPositiveW[c]-ex.PPositive) / float64(copies)
		}
	}
	r.PPositiveMAE = &mae
	if w != nil {
		r.PPositiveMAEW = &maew
	}
	// expected distinct patterns among n exact samples: Σ_k C(16, k) (1 − (1 − p_k)^n)
	p := ex.PPositive
	for k := 0; k <= copies; k++ {
		pk := math.Exp(float64(k)*math.Log(p) + float64(copies-k)*math.Log1p(-p))
		lc, _ := math.Lgamma(float64(copies + 1))
		a, _ := math.Lgamma(float64(k + 1))
		bb, _ := math.Lgamma(float64(copies - k + 1))
		r.ExpectedModes += math.Exp(lc-a-bb) * -math.Expm1(float64(n)*math.Log1p(-pk))
	}
}

// funnelMarginal compares the scale coordinate with N(0, 9).
func funnelMarginal(xs, w []float64, dim int) *Marginal {
	n := len(xs) / dim
	v := make([]float64, n)
	for i := range n {
		v[i] = xs[i*dim]
	}
	m := &Marginal{Coordinate: "v (x[0]) ~ N(0, 9)", ExactMean: 0, ExactSD: 3}
	u := make([]float64, n)
	for i := range u {
		u[i] = 1 / float64(n)
	}
	m.Mean, m.SD, m.KS, m.W1 = marginalStats(v, u, 3)
	if w != nil {
		a, b, c, d := marginalStats(v, w, 3)
		m.MeanW, m.SDW, m.KSW, m.W1W = &a, &b, &c, &d
	}
	return m
}

// marginalStats returns the weighted mean and sd of v (weights summing to 1) and the KS and W1
// distances of its weighted empirical CDF to N(0, s²).
func marginalStats(v, w []float64, s float64) (mean, sd, ks, w1 float64) {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	for i, x := range v {
		mean += w[i] * x
	}
	for i, x := range v {
		sd += w[i] * (x - mean) * (x - mean)
	}
	sd = math.Sqrt(sd)
	// KS: the sup is attained at the sample points (just before or after each jump)
	var f float64
	for _, i := range idx {
		c := normalCDF(v[i] / s)
		ks = math.Max(ks, math.Abs(c-f))
		f += w[i]
		ks = math.Max(ks, math.Abs(c-f))
	}
	// W1 = ∫|F_n − F|: between consecutive sample points F_n is constant; integrate the exact
	// CDF part by Simpson on fine sub-intervals, and the tails in closed form.
	phi := func(x float64) float64 { return math.Exp(-0.5*x*x/(s*s)) / (s * math.Sqrt(2*math.Pi)) }
	// tail below the smallest point: ∫_{−∞}^{a} F = a F(a) + s² φ(a)
	a := v[idx[0]]
	w1 += a*normalCDF(a/s) + s*s*phi(a)
	f = 0
	for k, i := range idx {
		f += w[i]
		lo := v[i]
		if k+1 == len(idx) {
			// tail above the largest point: ∫_{b}^{∞} (1 − F) = s² φ(b) − b (1 − F(b))
			w1 += s*s*phi(lo) - lo*(1-normalCDF(lo/s))
			break
		}
		hi := v[idx[k+1]]
		if hi <= lo {
			continue
		}
		const m = 16
		h := (hi - lo) / m
		g := func(x float64) float64 { return math.Abs(f - normalCDF(x/s)) }
		sum := g(lo) + g(hi)
		for j := 1; j < m; j++ {
			c := 2.0
			if j%2 == 1 {
				c = 4
			}
			sum += c * g(lo+float64(j)*h)
		}
		w1 += sum * h / 3
	}
	return mean, sd, ks, w1
}

// w2 fills the W2 fields.
func (t *Target) w2(r *Report, xs []float64, opt EvalOptions, dim int, periodic bool) error {
	n := len(xs) / dim
	m := opt.W2N
	if m == 0 {
		m = 1000
	}
	m = min(m, n)
	rng := rand.New(rand.NewPCG(opt.Seed, 0x77327a))
	sub := make([]float64, 0, m*dim)
	for _, i := range rng.Perm(n)[:m] {
		sub = append(sub, xs[i*dim:(i+1)*dim]...)
	}
	ref, err := t.ExactSamples(m, opt.Seed^0x5eed)
	if err != nil {
		return err
	}
	d, err := w2Points(sub, ref, dim, periodic)
	if err != nil {
		return fmt.Errorf("zoo: %s W2: %w", t.Name, err)
	}
	r.W2, r.W2N = &d, m
	if opt.Floor {
		ref2, err := t.ExactSamples(m, opt.Seed^0xf1007)
		if err != nil {
			return err
		}
		f, err := w2Points(ref2, ref, dim, periodic)
		if err != nil {
			return fmt.Errorf("zoo: %s W2 floor: %w", t.Name, err)
		}
		r.W2Floor = &f
	}
	return nil
}

// w2Points is the exact W2 between equally large point sets, with minimum-image distances on
// the torus (−π, π]^dim when periodic.
func w2Points(x, y []float64, dim int, periodic bool) (float64, error) {
	if !periodic {
		return metrics.W2(x, y, dim)
	}
	m := len(x) / dim
	c := make([]float64, m*m)
	for i := range m {
		for j := range m {
			var s float64
			for k := range dim {
				d := math.Abs(x[i*dim+k] - y[j*dim+k])
				d = math.Min(d, 2*math.Pi-d)
				s += d * d
			}
			c[i*m+j] = s
		}
	}
	_, total, err := metrics.Assign(c, m)
	if err != nil {
		return 0, err
	}
	return math.Sqrt(math.Max(total, 0) / float64(m)), nil
}

// Table returns the report as a display table.
func (r *Report) Table() *display.Table {
	tb := &display.Table{Caption: "zoo evaluation " + r.Target, Header: []string{"quantity", "samples", "weighted", "exact"}}
	opt := func(p *float64) any {
		if p == nil {
			return ""
		}
		return *p
	}
	tb.AddRow("samples used (dropped)", fmt.Sprintf("%d (%d)", r.N, r.Dropped), "", "")
	if r.Defensive > 0 {
		tb.AddRow("defensive rows (weighted columns only)", r.Defensive, "", "")
	}
	if r.LogZ != nil {
		tb.AddRow("log Z", "", *r.LogZ, r.LogZExact)
		tb.AddRow("log Z error", "", *r.LogZError, "")
		tb.AddRow("ESS", "", *r.ESS, "")
	} else {
		tb.AddRow("log Z", "", "", r.LogZExact)
	}
	const maxRows = 40
	for i, g := range r.Regions {
		if i == maxRows {
			tb.AddRow(fmt.Sprintf("(%d more regions)", len(r.Regions)-maxRows), "", "", "")
			break
		}
		tb.AddRow(g.Label, g.Unweighted, opt(g.Weighted), g.Exact)
	}
	tb.AddRow("coverage", fmt.Sprintf("%d of %d", r.Coverage, r.CoverageOf), "", "")
	tb.AddRow("TV distance", r.TV, opt(r.TVWeighted), 0.0)
	if r.PPositive != nil {
		tb.AddRow("P(x > 0), mean over copies", meanOf(r.PPositive), meanOrEmpty(r.PPositiveW), r.PPositiveExact)
		tb.AddRow("P(x > 0) mean abs error", opt(r.PPositiveMAE), opt(r.PPositiveMAEW), 0.0)
		tb.AddRow("distinct modes visited", r.DistinctModes, "", r.ExpectedModes)
	}
	if m := r.Marginal; m != nil {
		tb.AddRow("mean of "+m.Coordinate, m.Mean, opt(m.MeanW), m.ExactMean)
		tb.AddRow("sd", m.SD, opt(m.SDW), m.ExactSD)
		tb.AddRow("KS distance", m.KS, opt(m.KSW), 0.0)
		tb.AddRow("W1 distance", m.W1, opt(m.W1W), 0.0)
	}
	if r.W2 != nil {
		tb.AddRow(fmt.Sprintf("W2 (%d vs %d exact)", r.W2N, r.W2N), *r.W2, "", opt(r.W2Floor))
	}
	return tb
}

func meanOf(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func meanOrEmpty(v []float64) any {
	if v == nil {
		return ""
	}
	return meanOf(v)
}

// MIMEBundle renders the report as a table.
func (r *Report) MIMEBundle() display.Bundle { return r.Table().MIMEBundle() }

// String renders the report as plain text.
func (r *Report) String() string { return strings.TrimRight(r.Table().String(), "\n") }

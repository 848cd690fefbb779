package viz

import (
	"errors"
	"fmt"
	"math"

	"adjoint/lib/metrics"

	"gonum.org/v1/plot"
)

// EnergyHist draws the normalised histograms of the energies of generated samples and of a
// reference set (ref may be nil) on shared bins: x "Energy E(x)", y "Density".
func EnergyHist(gen, ref []float64, opt Options) (*Figure, error) {
	g, gd := finite(gen)
	r, rd := finite(ref)
	if len(g) == 0 {
		return nil, fmt.Errorf("viz.EnergyHist: no finite sample energies (%d given)", len(gen))
	}
	if len(ref) > 0 && len(r) == 0 {
		return nil, fmt.Errorf("viz.EnergyHist: no finite reference energies (%d given)", len(ref))
	}
	lo, hi := rangeAgainst(opt, g, r)
	bins := opt.bins(60)
	p := newPlot(opt.title("Energy histogram"), opt.xlabel("Energy E(x)"), opt.ylabel("Density"))
	var bs []*binner
	var cap note
	cap.add("Energy histogram of %d samples", len(gen))
	if len(r) > 0 {
		rb := newBinner(lo, hi, bins)
		for _, v := range r {
			rb.add(v)
		}
		if err := addHist(p, rb, refColor, opt.label(1, "Reference")); err != nil {
			return nil, err
		}
		bs = append(bs, rb)
		cap.add("reference of %d", len(ref))
		cap.addIf(rb.outside > 0, "%s outside the plotted range", plural(rb.outside, "reference value", "reference values"))
		cap.addIf(rd > 0, "%s dropped", plural(rd, "non-finite reference value", "non-finite reference values"))
	}
	gb := newBinner(lo, hi, bins)
	for _, v := range g {
		gb.add(v)
	}
	if err := addHist(p, gb, sampleColor, opt.label(0, "Samples")); err != nil {
		return nil, err
	}
	p.X.Min, p.X.Max = lo, hi
	placeLegend(p, append(bs, gb)...)
	cap.add("%d bins on [%.4g, %.4g]", bins, lo, hi)
	cap.addIf(gb.outside > 0, "%s outside the plotted range", plural(gb.outside, "sample", "samples"))
	cap.addIf(gd > 0, "%s dropped", plural(gd, "non-finite sample", "non-finite samples"))
	return newFigure(opt, cap.String(), []*plot.Plot{p}), nil
}

// configs checks that x holds whole configurations of per numbers and returns their count.
func configs(fn string, x []float64, per int, what string) (int, error) {
	if per <= 0 {
		return 0, fmt.Errorf("%s: %d numbers per configuration", fn, per)
	}
	if len(x)%per != 0 {
		return 0, fmt.Errorf("%s: %s has %d numbers, not a multiple of %d", fn, what, len(x), per)
	}
	return len(x) / per, nil
}

// pairDistances calls fn with every pair distance of every configuration of x whose coordinates
// are all finite (stride: every stride-th configuration) and returns the number of
// configurations skipped as non-finite.
func pairDistances(x []float64, n, d, stride int, fn func(r float64)) (skipped int) {
	per := n * d
	for c := 0; c+per <= len(x); c += per * stride {
		cfg := x[c : c+per]
		ok := true
		for _, v := range cfg {
			if !isFinite(v) {
				ok = false
				break
			}
		}
		if !ok {
			skipped++
			continue
		}
		metrics.PairSquares(cfg, n, d, func(s float64) { fn(math.Sqrt(s)) })
	}
	return skipped
}

// DistanceHist draws the normalised histograms of the interatomic distances |x_i − x_j| pooled
// over all pairs of particles of all configurations, for generated samples and a reference (ref
// may be nil): the standard DW-4 and LJ-n figure. gen and ref hold configurations of particles·dim
// numbers each; configurations with a non-finite coordinate are dropped.
func DistanceHist(gen, ref []float64, particles, dim int, opt Options) (*Figure, error) {
	const fn = "viz.DistanceHist"
	if particles < 2 || dim < 1 {
		return nil, fmt.Errorf("%s: need at least 2 particles in at least 1 dimension, got %d in %d", fn, particles, dim)
	}
	per := particles * dim
	ng, err := configs(fn, gen, per, "samples")
	if err != nil {
		return nil, err
	}
	nr, err := configs(fn, ref, per, "reference")
	if err != nil {
		return nil, err
	}
	if ng == 0 {
		return nil, errors.New(fn + ": no samples")
	}
	// The range comes from a bounded subsample of the distances.
	pairs := particles * (particles - 1) / 2
	sub := func(x []float64, nc int) []float64 {
		stride := max(1, nc*pairs/100000)
		var out []float64
		pairDistances(x, particles, dim, stride, func(r float64) { out = append(out, r) })
		return out
	}
	gs, rs := sub(gen, ng), sub(ref, nr)
	if len(gs) == 0 {
		return nil, fmt.Errorf("%s: all %d sample configurations have non-finite coordinates", fn, ng)
	}
	lo, hi := rangeAgainst(opt, gs, rs)
	if opt.XMin >= opt.XMax {
		lo = math.Max(lo, 0)
	}
	bins := opt.bins(80)
	p := newPlot(opt.title("Interatomic distances"), opt.xlabel("Interatomic distance r"), opt.ylabel("Density"))
	var bs []*binner
	var cap note
	cap.add("Interatomic-distance histogram of %d sample configurations (%d particles in %d-D, %d pairs each)", ng, particles, dim, pairs)
	if nr > 0 {
		rb := newBinner(lo, hi, bins)
		skip := pairDistances(ref, particles, dim, 1, rb.add)
		if rb.n == 0 {
			return nil, fmt.Errorf("%s: all %d reference configurations have non-finite coordinates", fn, nr)
		}
		if err := addHist(p, rb, refColor, opt.label(1, "Reference")); err != nil {
			return nil, err
		}
		bs = append(bs, rb)
		cap.add("reference of %d", nr)
		cap.addIf(skip > 0, "%s dropped", plural(skip, "non-finite reference configuration", "non-finite reference configurations"))
		cap.addIf(rb.outside > 0, "%s outside the plotted range", plural(rb.outside, "reference distance", "reference distances"))
	}
	gb := newBinner(lo, hi, bins)
	skip := pairDistances(gen, particles, dim, 1, gb.add)
	if err := addHist(p, gb, sampleColor, opt.label(0, "Samples")); err != nil {
		return nil, err
	}
	p.X.Min, p.X.Max = lo, hi
	placeLegend(p, append(bs, gb)...)
	cap.add("%d bins on [%.4g, %.4g]", bins, lo, hi)
	cap.addIf(skip > 0, "%s dropped", plural(skip, "non-finite sample configuration", "non-finite sample configurations"))
	cap.addIf(gb.outside > 0, "%s outside the plotted range", plural(gb.outside, "sample distance", "sample distances"))
	return newFigure(opt, cap.String(), []*plot.Plot{p}), nil
}

// Marginals draws one normalised histogram per coordinate of samples (configurations of dim
// numbers), against the reference's when ref is not nil, in a grid of panels (at most opt.Count
// coordinates, 16 by default, taken from the first). Labels[2+i] names coordinate i.
func Marginals(samples []float64, dim int, ref []float64, opt Options) (*Figure, error) {
	const fn = "viz.Marginals"
	ng, err := configs(fn, samples, dim, "samples")
	if err != nil {
		return nil, err
	}
	nr, err := configs(fn, ref, dim, "reference")
	if err != nil {
		return nil, err
	}
	if ng == 0 {
		return nil, errors.New(fn + ": no samples")
	}
	k := min(dim, opt.count(16))
	cols := min(k, 4)
	rows := (k + cols - 1) / cols
	if opt.Height <= 0 {
		w, _ := opt.size()
		opt.Height = max(DefaultHeight*2/3, min(w*rows*3/(4*cols), 1400)) + 30
	}
	column := func(x []float64, n, i int) []float64 {
		out := make([]float64, n)
		for c := range n {
			out[c] = x[c*dim+i]
		}
		return out
	}
	var grid [][]*plot.Plot
	var cap note
	cap.add("Marginal histograms of %d of %d coordinates, %d samples", k, dim, ng)
	if nr > 0 {
		cap.add("reference of %d", nr)
	}
	dropped, outside := 0, 0
	for i := range k {
		g, gd := finite(column(samples, ng, i))
		r, rd := finite(column(ref, nr, i))
		dropped += gd + rd
		ylabel := ""
		if i%cols == 0 {
			ylabel = opt.ylabel("Density")
		}
		p := newPlot("", opt.label(2+i, fmt.Sprintf("x%d", i)), ylabel)
		p.X.Label.TextStyle.Font.Size = 10
		p.Y.Label.TextStyle.Font.Size = 10
		p.X.Tick.Label.Font.Size = 8
		p.Y.Tick.Label.Font.Size = 8
		if len(g) > 0 {
			lo, hi := rangeAgainst(opt, g, r)
			bins := opt.bins(40)
			if len(r) > 0 {
				rb := newBinner(lo, hi, bins)
				for _, v := range r {
					rb.add(v)
				}
				if err := addHist(p, rb, refColor, ""); err != nil {
					return nil, err
				}
				outside += rb.outside
			}
			gb := newBinner(lo, hi, bins)
			for _, v := range g {
				gb.add(v)
			}
			if err := addHist(p, gb, sampleColor, ""); err != nil {
				return nil, err
			}
			outside += gb.outside
			p.X.Min, p.X.Max = lo, hi
		}
		if i%cols == 0 {
			grid = append(grid, nil)
		}
		grid[len(grid)-1] = append(grid[len(grid)-1], p)
	}
	cap.addIf(outside > 0, "%s outside the plotted ranges", plural(outside, "value", "values"))
	cap.addIf(dropped > 0, "%s dropped", plural(dropped, "non-finite value", "non-finite values"))
	f := newFigure(opt, cap.String(), grid...)
	f.title = opt.title("Marginals")
	leg := plot.NewLegend()
	leg.Top = true
	leg.TextStyle.Font.Size = 10
	leg.ThumbnailWidth = 14
	leg.Add(opt.label(0, "Samples"), histThumb{fill: withAlpha(sampleColor, 80), line: thinLine(sampleColor)})
	if nr > 0 {
		leg.Add(opt.label(1, "Reference"), histThumb{fill: withAlpha(refColor, 80), line: thinLine(refColor)})
	}
	f.legend = &leg
	return f, nil
}

// WeightHist draws the histogram of self-normalised importance log-weights, shifted so that 0 is
// the uniform weight 1/N (x = log(N·w̃ᵢ)), with the effective sample size ESS = 1/Σw̃ᵢ² in the
// title and legend.
func WeightHist(logw []float64, opt Options) (*Figure, error) {
	lw, dropped := finite(logw)
	if len(lw) == 0 {
		return nil, fmt.Errorf("viz.WeightHist: no finite log-weights (%d given)", len(logw))
	}
	lse := logSumExp(lw)
	n := float64(len(lw))
	rel := make([]float64, len(lw))
	for i, v := range lw {
		rel[i] = v - lse + math.Log(n)
	}
	ess := effectiveSampleSize(lw)
	lo, hi := robustRange(opt, rel)
	b := newBinner(lo, hi, opt.bins(60))
	for _, v := range rel {
		b.add(v)
	}
	title := opt.title(fmt.Sprintf("Importance weights (ESS %.4g of %d, %.1f%%)", ess, len(lw), 100*ess/n))
	p := newPlot(title, opt.xlabel("Normalised log-weight log(N·w)"), opt.ylabel("Density"))
	if err := addHist(p, b, sampleColor, fmt.Sprintf("%s, ESS/N = %.3f", opt.label(0, "Samples"), ess/n)); err != nil {
		return nil, err
	}
	p.X.Min, p.X.Max = lo, hi
	placeLegend(p, b)
	var cap note
	cap.add("Importance-weight histogram of %d samples: ESS %.4g (%.1f%%)", len(lw), ess, 100*ess/n)
	cap.add("max normalised weight %.3g", math.Exp(maxOf(lw)-lse))
	cap.addIf(b.outside > 0, "%s outside the plotted range", plural(b.outside, "weight", "weights"))
	cap.addIf(dropped > 0, "%s dropped", plural(dropped, "non-finite log-weight", "non-finite log-weights"))
	return newFigure(opt, cap.String(), []*plot.Plot{p}), nil
}

// effectiveSampleSize returns 1/Σw̃ᵢ² = (Σwᵢ)²/Σwᵢ² for finite log-weights.
func effectiveSampleSize(logw []float64) float64 {
	twice := make([]float64, len(logw))
	for i, v := range logw {
		twice[i] = 2 * v
	}
	return math.Exp(2*logSumExp(logw) - logSumExp(twice))
}

func maxOf(xs []float64) float64 {
	m := math.Inf(-1)
	for _, v := range xs {
		m = math.Max(m, v)
	}
	return m
}

func logSumExp(xs []float64) float64 {
	m := maxOf(xs)
	if math.IsInf(m, 0) {
		return m
	}
	s := 0.0
	for _, v := range xs {
		s += math.Exp(v - m)
	}
	return m + math.Log(s)
}

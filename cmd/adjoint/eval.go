package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"

	"adjoint/dsl"
	"adjoint/lib/energy"
	"adjoint/lib/metrics"
	"adjoint/lib/npy"
	"adjoint/lib/refdata"
)

func init() {
	register("eval", "compare samples with reference samples; prints one JSON line of metrics", runEval)
}

// maxNonFinite is the fraction of generated configurations with non-finite coordinates or
// energy above which eval fails (unless --allow-nonfinite).
const maxNonFinite = 0.01

// evalResult is the JSON line of `adjoint eval`: the report against the reference (--ref, or
// the built-in test split), and for DW-4 the comparison with the built-in exact samples.
type evalResult struct {
	*metrics.Report
	Ref string `json:"ref"`
	// Fractions of configurations with exactly two and three short pairs (DW-4's arrangements;
	// see metrics.ShortPairFractions), for the samples and the reference.
	ShortPairs2    *float64 `json:"short_pairs_2,omitempty"`
	ShortPairs3    *float64 `json:"short_pairs_3,omitempty"`
	RefShortPairs2 *float64 `json:"ref_short_pairs_2,omitempty"`
	RefShortPairs3 *float64 `json:"ref_short_pairs_3,omitempty"`
	// Against the exact samples (DW-4 only).
	ExactRef         string    `json:"exact_ref,omitempty"`
	ExactEnergyW2    *float64  `json:"exact_energy_w2,omitempty"`
	ExactGeometricW2 *float64  `json:"exact_geometric_w2,omitempty"`
	ExactDistanceW2  *float64  `json:"exact_distance_w2,omitempty"`
	ExactMeanEnergy  *float64  `json:"exact_ref_mean_energy,omitempty"`
	ExactShortPairs  []float64 `json:"exact_short_pairs,omitempty"`
	ExactShortPairs2 *float64  `json:"exact_short_pairs_2,omitempty"`
	ExactShortPairs3 *float64  `json:"exact_short_pairs_3,omitempty"`
	// The gap in mean energy to the exact samples, split into the arrangements' shares and
	// the energies within them (metrics.EnergyGapByClass).
	ExactEnergyGapShares *float64 `json:"exact_energy_gap_shares,omitempty"`
	ExactEnergyGapWithin *float64 `json:"exact_energy_gap_within,omitempty"`
	ExactDroppedRef      *int     `json:"exact_ref_dropped,omitempty"`
	ExactSeconds         *float64 `json:"exact_seconds,omitempty"`
}

// frac returns f[k], or nil when the class is not in f.
func frac(f []float64, k int) *float64 {
	if len(f) == 0 {
		return nil
	}
	v := 0.0
	if k < len(f) {
		v = f[k]
	}
	return &v
}

func runEval(args []string) error {
	if handled, err := zooEval(args); handled { // zoo targets (zoo.go)
		return err
	}
	fs := newFlagSet("eval", "SYSTEM SAMPLES.npy [--ref REF.npy] [-n 2000] [--seed S] [--exact=false] [--allow-nonfinite]")
	ref := fs.String("ref", "", "reference samples (.npy); default: the built-in test split of dw4 or lj13 (lib/refdata)")
	n := fs.Int("n", dsl.DefaultEvalSamples, "samples drawn at random from each set")
	seed := fs.Uint64("seed", 0, "seed of the subsampling")
	cutoff := fs.Float64("pair-cutoff", -1, "also report the fractions of configurations by number of pairs closer than this (0: none; default 4 for dw4, the barrier of its pair potential, else none)")
	exact := fs.Bool("exact", true, "dw4: also compare with the built-in exact samples (exact_* fields)")
	allowNonFinite := fs.Bool("allow-nonfinite", false, "evaluate even when more than 1% of the samples have non-finite coordinates or energy (they are dropped)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fs.Usage()
		return fmt.Errorf("%w: need SYSTEM (%s), SAMPLES.npy and, but for dw4 and lj13, --ref REF.npy", errUsage, systemSpecHelp)
	}
	if *n < 1 {
		return fmt.Errorf("%w: -n must be at least 1", errUsage)
	}
	sys, err := resolveSystem(pos[0])
	if err != nil {
		return err
	}
	out := evalResult{Ref: *ref}
	builtin := ""
	if *ref == "" {
		if builtin, err = refdata.Test(sys.Name); err != nil {
			fs.Usage()
			return fmt.Errorf("%w: no built-in reference for %s: give --ref REF.npy", errUsage, sys.Name)
		}
		out.Ref = "builtin:" + builtin
	}
	gen, err := loadSamples(pos[1], sys, "samples")
	if err != nil {
		return err
	}
	if err := checkNonFinite(os.Stderr, sys, gen, "samples", *allowNonFinite); err != nil {
		return err
	}
	var refData []float64
	if builtin != "" {
		refData, err = builtinSamples(builtin, sys)
	} else {
		refData, err = loadSamples(*ref, sys, "reference")
	}
	if err != nil {
		return err
	}
	if err := checkNonFinite(os.Stderr, sys, refData, "reference", true); err != nil {
		return err
	}
	if *cutoff < 0 {
		*cutoff = dsl.EvalDefaults(sys).PairCutoff
	}
	ctx, done := progressToStderr()
	defer done()
	opt := metrics.EvalOptions{N: *n, Seed: *seed, PairCutoff: *cutoff}
	if out.Report, err = metrics.EvaluateContext(ctx, sys, gen, refData, opt); err != nil {
		return err
	}
	out.ShortPairs2, out.ShortPairs3 = frac(out.ShortPairs, 2), frac(out.ShortPairs, 3)
	out.RefShortPairs2, out.RefShortPairs3 = frac(out.RefShortPairs, 2), frac(out.RefShortPairs, 3)
	if *exact {
		if err := evalExact(ctx, &out, sys, gen, opt); err != nil {
			return err
		}
	}
	return emitJSON(out)
}

// evalExact adds the comparison with the built-in exact samples of sys, when there are any.
// The same seed draws the same generated subsample as the main comparison.
func evalExact(ctx context.Context, out *evalResult, sys *energy.System, gen []float64, opt metrics.EvalOptions) error {
	name, err := refdata.Exact(sys.Name)
	if err != nil {
		return nil // no exact samples for this system
	}
	x, err := builtinSamples(name, sys)
	if err != nil {
		return err
	}
	r, err := metrics.EvaluateContext(ctx, sys, gen, x, opt)
	if err != nil {
		return fmt.Errorf("against the exact samples: %w", err)
	}
	out.ExactRef = "builtin:" + name
	out.ExactEnergyW2, out.ExactGeometricW2 = &r.EnergyW2, &r.GeometricW2
	if r.DistanceW2 > 0 {
		out.ExactDistanceW2 = &r.DistanceW2
	}
	out.ExactMeanEnergy, out.ExactDroppedRef, out.ExactSeconds = &r.MeanEnergyRef, &r.DroppedRef, &r.Seconds
	out.ExactShortPairs = r.RefShortPairs
	out.ExactShortPairs2, out.ExactShortPairs3 = frac(r.RefShortPairs, 2), frac(r.RefShortPairs, 3)
	out.ExactEnergyGapShares, out.ExactEnergyGapWithin = r.EnergyGapShares, r.EnergyGapWithin
	return nil
}

// builtinSamples returns the configurations of an embedded reference file, checked against sys.
func builtinSamples(name string, sys *energy.System) ([]float64, error) {
	a, err := refdata.Load(name)
	if err != nil {
		return nil, err
	}
	if err := checkShape(a, sys, "built-in reference "+name); err != nil {
		return nil, err
	}
	return a.Data, nil
}

// checkShape checks that an array holds configurations of sys: B×dim or B×n×d.
func checkShape(a *npy.Array, sys *energy.System, what string) error {
	n, d := sys.Energy.Particles(), sys.Energy.SpatialDim()
	_, cols := a.Rows()
	if len(a.Shape) == 2 && cols == n*d || len(a.Shape) == 3 && a.Shape[1] == n && a.Shape[2] == d {
		return nil
	}
	return fmt.Errorf("%s has shape %v; %s needs B×%d (or B×%d×%d)", what, a.Shape, sys.Name, n*d, n, d)
}

// checkNonFinite counts the configurations of x with a non-finite coordinate or energy, which
// the evaluation drops; it reports them on w and fails when they are more than maxNonFinite of
// all, unless allow.
func checkNonFinite(w io.Writer, sys *energy.System, x []float64, what string, allow bool) error {
	dim := sys.Dim()
	rows := len(x) / dim
	kept, bad := metrics.DropNonFinite(x, dim)
	if k := len(kept) / dim; k > 0 {
		e := make([]float64, k)
		sys.Energy.EnergyGrad(kept, e, nil)
		for _, v := range e {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				bad++
			}
		}
	}
	if bad == 0 {
		return nil
	}
	fmt.Fprintf(w, "eval: %d of %d configurations of the %s have non-finite coordinates or energy: dropped\n", bad, rows, what)
	if !allow && float64(bad) > maxNonFinite*float64(rows) {
		return fmt.Errorf("%d of %d configurations of the %s (%.1f%%) are non-finite, more than %g%%; --allow-nonfinite evaluates the rest",
			bad, rows, what, 100*float64(bad)/float64(rows), 100*maxNonFinite)
	}
	return nil
}

package main

import (
	"fmt"

	"adjoint/dsl"
	"adjoint/lib/energy"
	"adjoint/lib/metrics"
)

func init() {
	register("eval", "compare samples with reference samples; prints one JSON line of metrics", runEval)
}

func runEval(args []string) error {
	fs := newFlagSet("eval", "SYSTEM SAMPLES.npy --ref REF.npy [-n 2000] [--seed S]")
	ref := fs.String("ref", "", "reference samples (.npy), e.g. ../shared/data/test_split_DW4.npy")
	n := fs.Int("n", dsl.DefaultEvalSamples, "samples drawn at random from each set")
	seed := fs.Uint64("seed", 0, "seed of the subsampling")
	cutoff := fs.Float64("pair-cutoff", -1, "also report the fractions of configurations by number of pairs closer than this (0: none; default 4 for dw4, the barrier of its pair potential, else none)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || *ref == "" {
		fs.Usage()
		return fmt.Errorf("%w: need SYSTEM (dw4, lj13, lj55), SAMPLES.npy and --ref REF.npy", errUsage)
	}
	if *n < 1 {
		return fmt.Errorf("%w: -n must be at least 1", errUsage)
	}
	sys, err := energy.Benchmark(pos[0])
	if err != nil {
		return err
	}
	gen, err := loadSamples(pos[1], sys, "samples")
	if err != nil {
		return err
	}
	refData, err := loadSamples(*ref, sys, "reference")
	if err != nil {
		return err
	}
	if *cutoff < 0 {
		*cutoff = dsl.EvalDefaults(sys).PairCutoff
	}
	ctx, done := progressToStderr()
	defer done()
	r, err := metrics.EvaluateContext(ctx, sys, gen, refData, metrics.EvalOptions{N: *n, Seed: *seed, PairCutoff: *cutoff})
	if err != nil {
		return err
	}
	return emitJSON(r)
}

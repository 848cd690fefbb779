package main

import (
	"fmt"

	"adjoint/lib/energy"
	"adjoint/lib/metrics"
)

func init() {
	register("eval", "compare samples with reference samples; prints one JSON line of metrics", runEval)
}

func runEval(args []string) error {
	fs := newFlagSet("eval", "SYSTEM SAMPLES.npy --ref REF.npy [-n 2000] [--seed S]")
	ref := fs.String("ref", "", "reference samples (.npy), e.g. ../shared/data/test_split_DW4.npy")
	n := fs.Int("n", 2000, "samples drawn at random from each set")
	seed := fs.Uint64("seed", 0, "seed of the subsampling")
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
	ctx, done := progressToStderr()
	defer done()
	r, err := metrics.EvaluateContext(ctx, sys, gen, refData, metrics.EvalOptions{N: *n, Seed: *seed})
	if err != nil {
		return err
	}
	return emitJSON(r)
}

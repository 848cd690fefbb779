package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"

	"adjoint/lib/display"
	"adjoint/lib/energy"
	"adjoint/lib/metrics"
	"adjoint/lib/npy"
)

func init() {
	register("eval", "compare samples with reference samples; prints one JSON line of metrics", runEval)
}

// progressToStderr sends library progress to stderr (stdout carries the JSON result) and
// cancels the library work on Ctrl-C. The returned function restores the previous state.
func progressToStderr() (context.Context, func()) {
	restore := display.SetSink(display.NewTerminalSink(os.Stderr))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	prev := display.Context()
	display.SetContext(ctx)
	return ctx, func() {
		stop()
		display.SetContext(prev)
		restore()
	}
}

// loadSamples reads an .npy file of configurations for sys: B×dim or B×n×d.
func loadSamples(path string, sys *energy.System, what string) ([]float64, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s file %s does not exist", what, path)
		}
		return nil, fmt.Errorf("%s file: %w", what, err)
	}
	a, err := npy.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s file: %w", what, err)
	}
	n, d := sys.Energy.Particles(), sys.Energy.SpatialDim()
	_, cols := a.Rows()
	ok := len(a.Shape) == 2 && cols == n*d || len(a.Shape) == 3 && a.Shape[1] == n && a.Shape[2] == d
	if !ok {
		return nil, fmt.Errorf("%s file %s has shape %v; %s needs B×%d (or B×%d×%d)", what, path, a.Shape, sys.Name, n*d, n, d)
	}
	return a.Data, nil
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

package main

import (
	"fmt"
	"os"
	"strings"

	"adjoint/lib/adjoint"
	"adjoint/lib/npy"
	"adjoint/lib/zoo"
)

// The zoo targets (lib/zoo) on the command line. `adjoint train NAME` needs nothing here: the
// names resolve through energy.Benchmark and their defaults through adjoint.DefaultConfig.
// `adjoint eval NAME SAMPLES.npy [--weights LOGW.npy]` compares samples with the exact answers
// (zooEval), and `adjoint zoo [NAME]` prints the exact answers.

func init() {
	register("zoo", "list the zoo targets, or print one target's exact answers as JSON", runZoo)
}

// zooEval runs `adjoint eval` for a zoo target; handled is false when args do not name one, or
// when they give --ref (then the general comparison with reference samples runs).
func zooEval(args []string) (handled bool, err error) {
	if len(args) == 0 || !zoo.Known(args[0]) {
		return false, nil
	}
	for _, a := range args {
		if a == "--ref" || a == "-ref" || strings.HasPrefix(a, "--ref=") || strings.HasPrefix(a, "-ref=") {
			return false, nil // against reference samples: the general evaluator
		}
	}
	fs := newFlagSet("eval", "ZOO-TARGET SAMPLES.npy [--weights LOGW.npy [--defensive-rows K]] [--w2-n 1000] [--floor] [--seed S]")
	weights := fs.String("weights", "", "log importance weights of the samples (.npy, one per sample, as adjoint sample --weights writes)")
	w2n := fs.Int("w2-n", 0, "samples compared with as many exact samples by the exact W2 (0: 1000; negative: skip)")
	floor := fs.Bool("floor", false, "also report the W2 between two exact sets of the same size (noise floor)")
	seed := fs.Uint64("seed", 0, "seed of the subsampling and of the exact samples")
	table := fs.Bool("table", false, "also print the report as a table on stderr")
	defensive := fs.Int("defensive-rows", 0, "the last K samples are draws of the defensive Student-t (adjoint sample --defensive says how many): they enter only the weighted columns")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return true, err
	}
	if len(pos) != 2 {
		fs.Usage()
		return true, fmt.Errorf("%w: need a zoo target and SAMPLES.npy", errUsage)
	}
	t, err := zoo.Lookup(pos[0])
	if err != nil {
		return true, err
	}
	sys, err := t.System()
	if err != nil {
		return true, err
	}
	x, err := loadSamples(pos[1], sys, "samples")
	if err != nil {
		return true, err
	}
	var logw []float64
	if *weights != "" {
		a, err := npy.ReadFile(*weights)
		if err != nil {
			return true, fmt.Errorf("weights file: %w", err)
		}
		if len(a.Data) != len(x)/sys.Dim() {
			return true, fmt.Errorf("weights file %s has %d numbers for %d samples", *weights, len(a.Data), len(x)/sys.Dim())
		}
		logw = a.Data
	}
	if *defensive != 0 && logw == nil {
		return true, fmt.Errorf("%w: --defensive-rows needs --weights", errUsage)
	}
	r, err := t.Evaluate(x, logw, zoo.EvalOptions{W2N: *w2n, Seed: *seed, Floor: *floor, Defensive: *defensive})
	if err != nil {
		return true, err
	}
	if *table {
		fmt.Fprintln(os.Stderr, r.String())
	}
	if logw != nil { // what adjoint sample says of the same weights: ESS, weight share, tail shape
		printWarnings(os.Stderr, adjoint.Diagnose(logw, nil).Warnings())
	}
	return true, emitJSON(r)
}

func runZoo(args []string) error {
	fs := newFlagSet("zoo", "[NAME]")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	switch len(pos) {
	case 0:
		for _, n := range zoo.Names() {
			t, _ := zoo.Lookup(n)
			fmt.Printf("%-14s %s\n", n, t.Description)
		}
		return nil
	case 1:
		t, err := zoo.Lookup(pos[0])
		if err != nil {
			return err
		}
		ex, err := t.Exact()
		if err != nil {
			return err
		}
		return emitJSON(ex)
	}
	fs.Usage()
	return fmt.Errorf("%w: at most one target", errUsage)
}

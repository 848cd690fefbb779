package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"adjoint/lib/adjoint"
	"adjoint/lib/mcmc"
)

func init() {
	register("sample", "draw samples from a trained checkpoint into an .npy file (prints the weight diagnostics)", runSample)
}

func runSample(args []string) error {
	fs := newFlagSet("sample", "CHECKPOINT -n N -o SAMPLES.npy [--weights LOGW.npy] [--seed S] [--last-params] [--device cpu|cuda] [--defensive A] [--resample] [--refine K [--refine-method mala|hmc|gibbs]]")
	n := fs.Int("n", 2000, "number of samples")
	out := fs.String("o", "", "samples file to write (.npy, N × n·d float32)")
	wout := fs.String("weights", "", "also write the log importance weights of the written samples (.npy, N float64; all 0 with --resample)")
	steps := fs.Int("steps", 0, "integration steps (default: the checkpoint's sampling steps: --sample-steps of its training, else its training steps)")
	var integ adjoint.Integrator
	fs.TextVar(&integ, "integrator", adjoint.IntegratorEM, "SDE discretisation: em or kappa (default: the checkpoint's)")
	refine := fs.Int("refine", 0, "after sampling (and resampling), make this many MCMC moves on the true energy from each sample (equal weights afterwards)")
	refineMethod := fs.String("refine-method", mcmc.MALA, "the moves of --refine: mala, hmc, or gibbs (sweeps of exact one-coordinate moves, which cross barriers along a coordinate; systems without translation symmetry)")
	seed := fs.Uint64("seed", 0, "seed of the sampling noise, resampling and refinement (default: the checkpoint's random state and training seed, so a repeated call draws the same samples)")
	defensive := fs.Float64("defensive", 0, "(default: the checkpoint's) draw this share of the samples from a broad Student-t and weigh all against the mixture, so that tails the SDE misses enter log Z and the weights (the last rows; systems without translation symmetry or box)")
	last := fs.Bool("last-params", false, "sample with the network's last parameters rather than their average (checkpoints trained with --ema; the paired comparison of docs/validation.md)")
	resample := fs.Bool("resample", false, "resample systematically by the importance weights: the output represents the target, equally weighted")
	device := addDeviceFlag(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		fs.Usage()
		return fmt.Errorf("%w: need CHECKPOINT and -o SAMPLES.npy", errUsage)
	}
	if *n < 1 {
		return fmt.Errorf("%w: -n must be at least 1", errUsage)
	}
	if m := *refineMethod; m != mcmc.MALA && m != mcmc.HMC && m != mcmc.Gibbs {
		return fmt.Errorf("%w: --refine-method %q: mala, hmc or gibbs", errUsage, m)
	}
	if *refine < 0 || (*refine > 0 && *wout != "" && !*resample) {
		return fmt.Errorf("%w: --refine K needs K ≥ 0, and refined samples have no path weights to write (add --resample, or drop --weights)", errUsage)
	}
	if err := checkOutputs("samples file", *out, "weights file", *wout); err != nil {
		return err
	}
	var in *adjoint.Integrator
	if flagGiven(fs, "integrator") {
		in = &integ
	}
	s, err := loadForSampling(pos[0], *steps, in)
	if err != nil {
		return err
	}
	if *last {
		s.UseAverage(false)
	}
	dev, err := openDevice(*device, os.Stderr)
	if err != nil {
		return err
	}
	if err := moveToDevice(s, dev, os.Stderr); err != nil {
		return err
	}
	if flagGiven(fs, "defensive") {
		if err := s.SetDefensive(*defensive); err != nil {
			return fmt.Errorf("%w: --defensive: %v", errUsage, err)
		}
	}
	rseed := uint64(s.Config().Seed)
	if flagGiven(fs, "seed") {
		s.Reseed(*seed)
		rseed = *seed
	}
	_, restore := progressToStderr()
	defer restore()
	sm, err := s.Sample(*n)
	if err != nil {
		return err
	}
	tab := sm.Table()
	tab.Caption = "" // the warnings follow on their own lines
	fmt.Fprintln(os.Stderr, tab.String())
	d := sm.Diagnostics()
	printDiagnostics(os.Stdout, os.Stderr, d)
	printWarnings(os.Stderr, sm.Coverage.Warnings())
	if m := sm.RawWarning(); m != "" && !*resample {
		fmt.Fprintf(os.Stderr, "warning: %s\n", m)
	}
	if sm.Defensive > 0 && !*resample && *refine == 0 {
		fmt.Fprintf(os.Stderr, "the last %d of the %d rows are draws of the defensive Student-t, not of the model (adjoint eval NAME %s --weights W.npy --defensive-rows %d keeps them out of the unweighted columns)\n", sm.Defensive, sm.N, *out, sm.Defensive)
	}
	if *resample {
		// nothing is written when resampling fails
		if sm, err = sm.Resample(rseed); err != nil {
			return fmt.Errorf("--resample: %w", err)
		}
		fmt.Fprintf(os.Stderr, "resampled %d samples by their weights (systematic): equally weighted\n", sm.N)
	}
	if *refine > 0 {
		var res *mcmc.Result
		sys := s.Config().System
		if sm, res, err = refineSamples(context.Background(), sm, sys, *refine, *refineMethod, rseed); err != nil {
			return err
		}
		what := "moves"
		if *refineMethod == mcmc.Gibbs {
			what = "sweeps"
		}
		fmt.Fprintf(os.Stderr, "refined %d samples by %d %s %s on the true energy (acceptance %.3f, %d energy evaluations)\n", sm.N, *refine, strings.ToUpper(*refineMethod), what, res.Accept, res.Evals)
		if cov, err := adjoint.CheckCoverage(sys, sm.X, s.Config().Seed); err == nil && cov.Skipped == "" {
			ws := cov.Warnings()
			for _, w := range ws {
				fmt.Fprintf(os.Stderr, "warning: after refining: %s\n", w)
			}
			if len(ws) == 0 {
				fmt.Fprintln(os.Stderr, "the refined samples pass the coverage checks")
			}
		}
	}
	if err := sm.SaveNPY(*out); err != nil {
		return err
	}
	if *wout != "" {
		if err := sm.SaveWeightsNPY(*wout); err != nil {
			return err
		}
	}
	return nil
}

// loadForSampling loads a checkpoint and overrides its integration steps (0: keep) and
// integrator (nil: keep).
func loadForSampling(path string, steps int, in *adjoint.Integrator) (*adjoint.Sampler, error) {
	s, err := loadSampler(path)
	if err != nil {
		return nil, err
	}
	if steps != 0 {
		if err := s.SetSteps(steps); err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	if in != nil {
		if err := s.SetIntegrator(*in); err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	return s, nil
}

// printDiagnostics writes the weight diagnostics to out and each warning as a "warning: …" line
// to warn.
func printDiagnostics(out, warn io.Writer, d adjoint.Diagnostics) {
	fmt.Fprint(out, d.String())
	printWarnings(warn, d.Warnings())
}

// printWarnings writes each message to w as a "warning: …" line.
func printWarnings(w io.Writer, msgs []string) {
	for _, m := range msgs {
		fmt.Fprintf(w, "warning: %s\n", m)
	}
}

// flagGiven reports whether the flag name was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

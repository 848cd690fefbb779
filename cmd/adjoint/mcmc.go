package main

import (
	"fmt"

	"adjoint/lib/energy"
	"adjoint/lib/mcmc"
	"adjoint/lib/npy"
)

func init() {
	register("mcmc", "draw reference samples with many MALA/HMC chains, or refine given samples; writes .npy, prints one JSON line", runMCMC)
}

// mcmcSummary is the JSON line of `adjoint mcmc`.
type mcmcSummary struct {
	System     string           `json:"system"`
	Output     string           `json:"output"`
	N          int              `json:"n"`
	Method     string           `json:"method"`
	Chains     int              `json:"chains"`
	Burn       int              `json:"burn"`
	Thin       int              `json:"thin"`
	Seed       uint64           `json:"seed"`
	Refined    string           `json:"refined,omitempty"` // the input samples of --refine
	Steps      int              `json:"steps,omitempty"`   // moves per sample of --refine
	MeanEnergy float64          `json:"mean_energy"`
	SDEnergy   float64          `json:"sd_energy"`
	Accept     float64          `json:"accept"`
	MeanStep   float64          `json:"mean_step"`
	Evals      int64            `json:"energy_evals"`
	Seconds    float64          `json:"seconds"`
	Identities *mcmc.Identities `json:"identities,omitempty"`
}

func runMCMC(args []string) error {
	fs := newFlagSet("mcmc", "SYSTEM|FILE.adj[:NAME] -n N -o FILE.npy [--seed S] [--chains C] [--burn B] [--thin T] [--method mala|hmc]\n"+
		"       adjoint mcmc SYSTEM|FILE.adj[:NAME] --refine SAMPLES.npy [--steps K] -o FILE.npy [--method mala|hmc|gibbs]")
	n := fs.Int("n", 10000, "samples to write")
	out := fs.String("o", "", "output .npy file (N × dim)")
	seed := fs.Uint64("seed", 0, "random seed")
	chains := fs.Int("chains", 1000, "parallel chains")
	burn := fs.Int("burn", 2000, "warm-up steps per chain (annealing and step adaptation)")
	thin := fs.Int("thin", 100, "steps between kept samples of a chain")
	method := fs.String("method", mcmc.HMC, "mala or hmc; with --refine also gibbs (sweeps of exact one-coordinate moves, which cross barriers along a coordinate)")
	leapfrog := fs.Int("leapfrog", 10, "leapfrog steps per HMC move")
	anneal := fs.Float64("anneal", 3, "start temperature as a multiple of the system's, lowered to 1 over the first half of the warm-up")
	target := fs.Float64("accept", 0, "target acceptance during warm-up (0: 0.57 MALA, 0.65 HMC)")
	dtype := fs.String("dtype", npy.Float32, "dtype of the output: float32 or float64")
	check := fs.Int("check", 2000, "samples used for the identity checks (0: none)")
	refine := fs.String("refine", "", "refine the samples of this .npy file (B × dim) instead of sampling: --steps moves from each on the true energy")
	steps := fs.Int("steps", 100, "with --refine: moves per sample (the first half adapt the step size)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		fs.Usage()
		return fmt.Errorf("%w: need SYSTEM (dw4, lj13, lj55, FILE.adj or FILE.adj:NAME) and -o FILE.npy", errUsage)
	}
	if *n < 1 || *chains < 1 || *burn < 1 || *thin < 1 {
		return fmt.Errorf("%w: -n, --chains, --burn and --thin must be positive", errUsage)
	}
	if *dtype != npy.Float32 && *dtype != npy.Float64 {
		return fmt.Errorf("%w: --dtype must be float32 or float64", errUsage)
	}
	if err := checkOutputs("output", *out); err != nil {
		return err
	}
	sys, err := resolveSystem(pos[0])
	if err != nil {
		return err
	}
	ctx, done := progressToStderr()
	defer done()
	if *refine != "" {
		if *steps < 1 {
			return fmt.Errorf("%w: --steps must be positive", errUsage)
		}
		x, err := loadSamples(*refine, sys, "samples to refine")
		if err != nil {
			return err
		}
		res, err := mcmc.Refine(ctx, sys, x, *steps, mcmc.RefineOptions{Method: *method, Leapfrog: *leapfrog, TargetAccept: *target, Seed: *seed})
		if err != nil {
			return err
		}
		return writeMCMC(sys, res, mcmcSummary{Refined: *refine, Steps: *steps, Seed: *seed}, *out, *dtype, *check)
	}
	res, err := mcmc.SampleContext(ctx, sys, mcmc.Options{Method: *method, Samples: *n, Chains: min(*chains, *n),
		Burn: *burn, Thin: *thin, Leapfrog: *leapfrog, AnnealFrom: *anneal, TargetAccept: *target, Seed: *seed})
	if err != nil {
		return err
	}
	return writeMCMC(sys, res, mcmcSummary{Burn: *burn, Thin: *thin, Seed: *seed}, *out, *dtype, *check)
}

// writeMCMC writes the samples of res to out and prints the summary s completed from res, with
// the identities checked on the first check samples (none when check is 0).
func writeMCMC(sys *energy.System, res *mcmc.Result, s mcmcSummary, out, dtype string, check int) error {
	if err := npy.WriteFile(out, []int{res.N, res.Dim}, res.Samples, dtype); err != nil {
		return err
	}
	s.System, s.Output, s.N, s.Method, s.Chains = sys.Name, out, res.N, res.Method, res.Chains
	s.Accept, s.MeanStep, s.Evals, s.Seconds = res.Accept, res.MeanStep, res.Evals, res.Seconds
	s.MeanEnergy, s.SDEnergy = res.MeanEnergy()
	if check > 0 {
		var err error
		if s.Identities, err = mcmc.CheckIdentities(sys, res.Samples, check); err != nil {
			return err
		}
	}
	return emitJSON(s)
}

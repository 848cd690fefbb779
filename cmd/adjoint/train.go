package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"adjoint/dsl"
	"adjoint/lib/adjoint"
	"adjoint/lib/energy"
	"adjoint/lib/sde"
)

func init() {
	register("train", "train an adjoint sampler (a benchmark, a zoo target or FILE.adj[:NAME]) and write a checkpoint", runTrain)
}

// trainFlags are the training flags shared by train and demo.
type trainFlags struct {
	minutes                                                float64
	epochs                                                 int
	net                                                    adjoint.NetKind
	layers, hidden, batch, trainBatch, buffer, grads       int
	steps, sampleSteps, every, prefill, diagEvery          int
	refineBuffer, rbCandidates                             int
	refineMethod                                           string
	lr, clip, lrFinal, tanhRange, reweight, ema, defensive float64
	timeSampling                                           adjoint.TimeSampling
	netTime                                                adjoint.NetTime
	integrator                                             adjoint.Integrator
	seed                                                   int64
	noBase, langevin, mixTarget                            bool
	sigma                                                  scheduleFlag
}

// scheduleFlag is --sigma: a noise schedule written as a DSL sde writes it, parsed when the
// flag is read so that a bad schedule is an error before anything runs.
type scheduleFlag struct {
	text  string
	sched sde.Schedule
}

func (f *scheduleFlag) String() string { return f.text }

// Set parses geometric(MIN, MAX), constant(S), a number, or a formula of t (sigma(t) = …).
func (f *scheduleFlag) Set(v string) error {
	v = strings.TrimSpace(v)
	decl := "sigma = " + v
	if _, err := strconv.ParseFloat(v, 64); err != nil && !strings.HasPrefix(v, "geometric(") && !strings.HasPrefix(v, "constant(") {
		decl = "sigma(t) = " + v
	}
	sched, err := dsl.ScheduleFromSource("sigma", "sde sigma { "+decl+" }")
	if err != nil {
		var de *dsl.Error
		var re *dsl.RuntimeError
		switch {
		case errors.As(err, &de):
			err = errors.New(de.Msg)
		case errors.As(err, &re):
			err = re.Err
		}
		return fmt.Errorf("%s (write geometric(MIN, MAX), constant(S) or a formula of t)", err)
	}
	f.text, f.sched = v, sched
	return nil
}

func (t *trainFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&t.minutes, "minutes", 0, "train for this many minutes (wall clock)")
	fs.IntVar(&t.epochs, "epochs", 0, "train for this many epochs (default: the configuration's, unless --minutes)")
	fs.TextVar(&t.net, "net", adjoint.NetAuto, "controller network: egnn or mlp (auto: from the system's symmetries)")
	fs.IntVar(&t.layers, "layers", 0, "network layers")
	fs.IntVar(&t.hidden, "hidden", 0, "network hidden width")
	fs.Float64Var(&t.tanhRange, "tanh-range", 0, "EGNN coordinate range: bounds the pair force the network can express (default 15, the paper's)")
	fs.IntVar(&t.batch, "batch", 0, "new samples per epoch")
	fs.IntVar(&t.trainBatch, "train-batch", 0, "samples per gradient step")
	fs.IntVar(&t.buffer, "buffer", 0, "replay buffer capacity")
	fs.IntVar(&t.grads, "grad-steps", 0, "gradient steps per epoch")
	fs.Float64Var(&t.lr, "lr", 0, "Adam learning rate")
	fs.Float64Var(&t.ema, "ema", 0, "sample with an exponential moving average of the parameters, this decay per gradient step (default 0.999 for dw4, lj13 and lj55; 0: none, the paper's)")
	fs.Float64Var(&t.defensive, "defensive", 0, "samples drawn after training (and by adjoint sample) take this share from a broad Student-t, weighed against the mixture (0: none)")
	fs.Float64Var(&t.reweight, "reweight", 0, "draw the regression's buffered samples by their importance weights, tempered to keep this ESS fraction (0: uniform, the paper's)")
	fs.Float64Var(&t.lrFinal, "lr-final", 0, "anneal the learning rate to this along a cosine over the run (0: constant)")
	fs.TextVar(&t.netTime, "net-time", adjoint.NetTimeT, "the network's time input: t (the paper's) or kappa (½(t + κ(t)/κ(1)), which spreads the early times where most noise enters)")
	fs.TextVar(&t.timeSampling, "time-sampling", adjoint.TimeUniform, "how gradient steps draw t: uniform (the paper's), kappa (half uniform in κ(t)/κ(1)) or sigma2 (all uniform in κ(t)/κ(1))")
	fs.TextVar(&t.integrator, "integrator", adjoint.IntegratorEM, "SDE discretisation: em (the paper's, σ at the left end) or kappa (steps matched to κ increments)")
	fs.Float64Var(&t.clip, "clip", 0, "per-particle clipping norm of ∇E")
	fs.IntVar(&t.steps, "steps", 0, "Euler–Maruyama steps")
	fs.IntVar(&t.sampleSteps, "sample-steps", 0, "integration steps when the trained model draws samples (0: --steps; default 800 for dw4 and lj13)")
	fs.Var(&t.sigma, "sigma", "noise schedule σ(t), as a DSL sde writes it: geometric(MIN, MAX), constant(S) or a formula of t (default: the system's)")
	fs.Int64Var(&t.seed, "seed", 0, "random seed")
	fs.IntVar(&t.every, "checkpoint-every", 50, "epochs between checkpoints")
	fs.IntVar(&t.diagEvery, "diagnose-every", 0, "epochs between importance-weight diagnostics (batch ESS) of the generated batch (0: 10, negative: none)")
	fs.IntVar(&t.refineBuffer, "refine-buffer", 0, "MCMC steps on the true energy for each new sample before it enters the replay buffer (0: none, the paper's)")
	fs.StringVar(&t.refineMethod, "refine-buffer-method", "mala", "the MCMC of --refine-buffer: mala, hmc or gibbs")
	fs.IntVar(&t.prefill, "prefill", 0, "fill the buffer with this many base-process samples first")
	fs.BoolVar(&t.noBase, "no-base-correction", false, "drop the base-marginal correction (teaching)")
	fs.BoolVar(&t.langevin, "langevin", false, "add the energy's force c(t)·(−∇g(x)) to the control, c rising to 1 as the remaining noise shrinks, the network learning the rest (one energy gradient per state and step; off: the paper's)")
	fs.IntVar(&t.rbCandidates, "rb-candidates", 0, "average each regression row's target over this many more buffered end states, weighted by the bridge's likelihood: the same regression with less variance early in the trajectory (0: each row its own target, the paper's)")
	fs.BoolVar(&t.mixTarget, "mix-target", false, "regress on c(t)·(−∇g(X_1)) + (1 − c(t))·(X_1 − X_t)/(κ(1) − κ(t)): the energy's and the denoising form of the optimal control, each weighted where it is quiet (off: −∇g(X_1), the paper's)")
}

// apply overrides the configuration with the flags that were given.
func (t *trainFlags) apply(fs *flag.FlagSet, cfg *adjoint.Config) {
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "net":
			cfg.Net.Kind = t.net
		case "layers":
			cfg.Net.Layers = t.layers
		case "hidden":
			cfg.Net.Hidden = t.hidden
		case "tanh-range":
			cfg.Net.TanhRange = t.tanhRange
		case "batch":
			cfg.Batch = t.batch
		case "train-batch":
			cfg.TrainBatch = t.trainBatch
		case "buffer":
			cfg.Buffer = t.buffer
		case "grad-steps":
			cfg.GradSteps = t.grads
		case "lr":
			cfg.LR = t.lr
		case "clip":
			cfg.ClipNorm = t.clip
		case "lr-final":
			cfg.LRFinal = t.lrFinal
		case "reweight":
			cfg.Reweight = t.reweight
		case "ema":
			cfg.EMA = t.ema
		case "defensive":
			cfg.Defensive = t.defensive
		case "integrator":
			cfg.Integrator = t.integrator
		case "time-sampling":
			cfg.TimeSampling = t.timeSampling
		case "net-time":
			cfg.NetTime = t.netTime
		case "steps":
			cfg.Steps = t.steps
		case "sample-steps":
			cfg.SampleSteps = t.sampleSteps
		case "sigma":
			cfg.Schedule = t.sigma.sched
		case "seed":
			cfg.Seed = t.seed
		case "prefill":
			cfg.PrefillBase = t.prefill
		case "refine-buffer":
			cfg.RefineBuffer = t.refineBuffer
		case "refine-buffer-method":
			cfg.RefineMethod = t.refineMethod
		case "no-base-correction":
			cfg.NoBaseCorrection = t.noBase
		case "langevin":
			cfg.Langevin = t.langevin
		case "mix-target":
			cfg.MixTarget = t.mixTarget
		case "rb-candidates":
			cfg.RBCandidates = t.rbCandidates
		}
	})
}

// options returns the limits of the training call.
func (t *trainFlags) options() (adjoint.TrainOptions, error) {
	if t.minutes < 0 || t.epochs < 0 {
		return adjoint.TrainOptions{}, fmt.Errorf("%w: --minutes and --epochs must not be negative", errUsage)
	}
	return adjoint.TrainOptions{Epochs: t.epochs, Duration: time.Duration(t.minutes * float64(time.Minute)), CheckpointEvery: t.every, DiagnoseEvery: t.diagEvery}, nil
}

// configFor returns the default configuration of a benchmark name or a FILE.adj specification.
func configFor(spec string) (adjoint.Config, error) {
	if strings.HasSuffix(spec, ".adj") {
		return trainConfigOf(spec)
	}
	if isAdjSpec(spec) { // FILE.adj:NAME: the defaults for the named system, as for a script's last
		sys, err := adjSystem(spec)
		if err != nil {
			return adjoint.Config{}, err
		}
		cfg, ch, err := adjoint.DefaultsFor(sys, adjoint.DefaultConfig(sys).Seed)
		if err != nil {
			return adjoint.Config{}, fmt.Errorf("defaults for system %s: %w", sys.Name, err)
		}
		fmt.Fprintln(os.Stderr, adjoint.ChoicesTable(sys.Name, ch).String())
		return cfg, nil
	}
	sys, err := energy.Benchmark(spec)
	if err != nil {
		return adjoint.Config{}, fmt.Errorf("unknown system %q (%s)", spec, systemSpecHelp)
	}
	return adjoint.DefaultConfig(sys), nil
}

// newSamplerFor builds a fresh sampler for a benchmark or FILE.adj specification with the
// flags given on the command line.
func newSamplerFor(spec string, fs *flag.FlagSet, tf *trainFlags) (*adjoint.Sampler, error) {
	cfg, err := configFor(spec)
	if err != nil {
		return nil, err
	}
	tf.apply(fs, &cfg)
	return adjoint.NewSampler(cfg)
}

// paperSampler builds a fresh sampler for one of the paper's benchmarks from its published
// configuration (adjoint.PaperConfig) with the flags given on the command line.
func paperSampler(spec string, fs *flag.FlagSet, tf *trainFlags) (*adjoint.Sampler, error) {
	sys, err := energy.Benchmark(spec)
	if err != nil || !slices.Contains([]string{"dw4", "lj13", "lj55"}, sys.Name) {
		return nil, fmt.Errorf("%w: --paper: the paper's configurations are those of dw4, lj13 and lj55, not %q", errUsage, spec)
	}
	cfg := adjoint.PaperConfig(sys)
	tf.apply(fs, &cfg)
	return adjoint.NewSampler(cfg)
}

// resumeFrom loads the checkpoint to resume: its system is a benchmark, a zoo target or rebuilt
// from the source it recorded; a FILE.adj specification supplies its system and schedule
// (needed for a sigma(t) formula, which the checkpoint records by name only).
func resumeFrom(spec, checkpoint string) (*adjoint.Sampler, error) {
	opt := dsl.LoadOptions()
	if strings.HasSuffix(spec, ".adj") {
		cfg, err := trainConfigOf(spec)
		if err != nil {
			return nil, err
		}
		opt.System, opt.Schedule = cfg.System, cfg.Schedule
	}
	return adjoint.LoadCheckpoint(checkpoint, opt)
}

func runTrain(args []string) error {
	fs := newFlagSet("train", "SYSTEM|FILE.adj[:NAME] [--minutes M | --epochs E] [flags] -o CHECKPOINT")
	var tf trainFlags
	tf.register(fs)
	out := fs.String("o", "", "checkpoint to write (required)")
	resume := fs.Bool("resume", false, "continue from the checkpoint given with -o (its configuration wins)")
	paper := fs.Bool("paper", false, "dw4, lj13, lj55: start from the paper's configuration (EGNN 5×128, lr 1e-4, buffer 10 000, uniform time sampling, no average) instead of the defaults; other flags still apply")
	device := addDeviceFlag(fs)
	after := addSampleFlags(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		fs.Usage()
		return fmt.Errorf("%w: need a system and -o CHECKPOINT", errUsage)
	}
	if err := after.check(); err != nil {
		return err
	}
	opt, err := tf.options()
	if err != nil {
		return err
	}
	opt.Checkpoint = *out
	if err := checkOutputs("checkpoint", *out, "samples file", *after.out); err != nil {
		return err
	}
	dev, err := openDevice(*device, os.Stderr)
	if err != nil {
		return err
	}
	newSampler := func() (*adjoint.Sampler, error) { return newSamplerFor(pos[0], fs, &tf) }
	if *paper {
		if *resume {
			return fmt.Errorf("%w: --paper starts a run; a resumed run keeps its checkpoint's configuration", errUsage)
		}
		newSampler = func() (*adjoint.Sampler, error) { return paperSampler(pos[0], fs, &tf) }
	}
	if *resume {
		newSampler = func() (*adjoint.Sampler, error) { return resumeFrom(pos[0], *out) }
	}
	s, err := newSampler()
	if err != nil {
		return err
	}
	if err := moveToDevice(s, dev, os.Stderr); err != nil {
		return err
	}
	ctx, restore := progressToStderr()
	defer restore()
	st, settings := startTable(s, opt, settingOrigins(fs, pos[0], *resume, s.Config()))
	fmt.Fprintln(os.Stderr, st.String())
	fmt.Fprintln(os.Stderr, settings.String())
	rep, err := s.Train(ctx, opt)
	if rep != nil {
		fmt.Fprintln(os.Stderr, rep.Table().String())
	}
	if err != nil && !errors.Is(err, ctx.Err()) {
		return err
	}
	fmt.Fprintf(os.Stderr, "checkpoint: %s (epoch %d)\n", *out, s.Epoch())
	if err != nil {
		return nil
	}
	return after.run(s)
}

package adjoint

// Setting is one trainer setting as every door spells it: the Go field of Config (or of
// TrainOptions), the command-line flag of adjoint train (kebab-case), the setting of a DSL
// sampler or train statement (snake_case), its default and one line of documentation. The
// command line and the DSL are checked against Settings by tests, so that a setting cannot
// exist in one door and not the others.
type Setting struct {
	Field   string // Go field: "LR", "Net.Layers"; "TrainOptions.CheckpointEvery" for a call option
	Flag    string // adjoint train flag, without dashes
	Script  string // DSL name: a sampler setting, "net(layers)" for an argument of net, or for a TrainOptions field an option of a train statement's block
	Default string // the default, in words when it depends on the system
	Doc     string // one line
}

var settings = []Setting{
	{"Net.Kind", "net", "net", "egnn for systems with rotation and permutation symmetry, else mlp", "controller network: egnn or mlp"},
	{"Net.Layers", "layers", "net(layers)", "3; 5 for lj55 (the paper's)", "network layers (message passing or hidden)"},
	{"Net.Hidden", "hidden", "net(hidden)", "64 for dw4, 32 for lj13, 128 for lj55 (the paper's), 64 otherwise", "network hidden width"},
	{"Net.TanhRange", "tanh-range", "tanh_range", "15 (the paper's)", "EGNN coordinate range: bounds the pair force the network can express"},
	{"Batch", "batch", "batch", "512 for dw4, 128 for lj13, 200 for lj55, 256 otherwise", "new samples per epoch"},
	{"TrainBatch", "train-batch", "train_batch", "256 for dw4, else the batch", "samples per gradient step"},
	{"Buffer", "buffer", "buffer", "2560 for dw4, 10000 for lj13 and lj55, 5000 otherwise", "replay buffer capacity"},
	{"GradSteps", "grad-steps", "grad_steps", "100 for dw4 and lj55, 50 otherwise", "gradient steps per epoch"},
	{"LR", "lr", "lr", "1e-3 for dw4, 5e-4 for lj13, 1e-4 for lj55, 1e-3 otherwise", "Adam learning rate"},
	{"LRFinal", "lr-final", "lr_final", "1e-4 for dw4, 0 (constant) otherwise", "anneal the learning rate to this along a cosine over the run"},
	{"NetTime", "net-time", "net_time", "t (the paper's)", "the network's time input: t, or kappa for ½(t + κ(t)/κ(1)), which spreads the early times where most noise enters"},
	{"TimeSampling", "time-sampling", "time_sampling", "kappa for dw4, uniform (the paper's) otherwise", "how gradient steps draw t: uniform, kappa (half uniform in κ(t)/κ(1)) or sigma2 (all uniform in κ(t)/κ(1): t drawn ∝ σ(t)², each time weighed as in the path's KL)"},
	{"Integrator", "integrator", "integrator", "em (the paper's)", "SDE discretisation: em (σ at the left end) or kappa (steps matched to κ increments)"},
	{"ClipNorm", "clip", "clip", "100", "per-particle clipping norm of ∇E"},
	{"Steps", "steps", "steps", "100 for dw4, 200 for lj13, 999 for lj55, else the sde's or 100", "Euler–Maruyama steps"},
	{"SampleSteps", "sample-steps", "sample_steps", "800 for dw4 and lj13, 0 (the training steps) otherwise", "integration steps when the trained model draws samples (0: steps); a finer grid removes discretisation error"},
	{"Seed", "seed", "seed", "1", "random seed"},
	{"Epochs", "epochs", "epochs", "5000 (DW-4), 4000 (LJ), 200", "epochs of a full run (the learning-rate schedule spans them)"},
	{"PrefillBase", "prefill", "prefill", "0", "fill the buffer with this many base-process samples first"},
	{"Reweight", "reweight", "reweight", "0.5 for dw4, 0 (uniform draws, the paper's) otherwise", "draw buffered samples by importance weight, tempered to keep this ESS fraction"},
	{"RefineBuffer", "refine-buffer", "refine_buffer", "0 (the model's samples as they are, the paper's)", "MCMC steps on the true energy for each new sample before it enters the buffer"},
	{"RefineMethod", "refine-buffer-method", "refine_buffer_method", "mala", "the MCMC of refine_buffer: mala, hmc or gibbs"},
	{"EMA", "ema", "ema", "0.999 for dw4, lj13 and lj55, 0 (none, the paper's) otherwise", "sample with an exponential moving average of the parameters, this decay per gradient step"},
	{"Defensive", "defensive", "defensive", "0 (none)", "draw this share of samples from a broad Student-t, weighing all against the mixture (tails the SDE misses)"},
	{"Langevin", "langevin", "langevin", "false (the network is the whole control, the paper's)", "add the energy's force c(t)·(−∇g(x)) to the control, c rising to 1 as the remaining noise shrinks; the network learns the rest"},
	{"MixTarget", "mix-target", "mix_target", "true for dw4, false (−∇g(X_1), the paper's) otherwise", "regress on a mix of the energy's and the denoising form of the optimal control, each weighted where it is quiet (same mean at the target, less variance)"},
	{"RBCandidates", "rb-candidates", "rb_candidates", "0 (each row regresses on its own end state's target, the paper's)", "average each regression row's target over this many more buffered end states, weighted by the bridge's likelihood (same mean, less variance early)"},
	{"NoBaseCorrection", "no-base-correction", "no_base_correction", "false", "drop the base-marginal correction (teaching)"},
	{"TrainOptions.CheckpointEvery", "checkpoint-every", "checkpoint_every", "50", "epochs between checkpoints"},
	{"TrainOptions.DiagnoseEvery", "diagnose-every", "diagnose_every", "10", "epochs between importance-weight diagnostics of the generated batch (0: 10; negative: none)"},
}

// Settings returns the table of trainer settings, in the order help texts list them.
func Settings() []Setting { return append([]Setting(nil), settings...) }

// Package adjoint is the Adjoint Sampling trainer (Havens et al., ICML 2025): it learns the
// control of the SDE dX = σ(t)² v_θ(X, t) dt + σ(t) dW, X_0 = 0, whose terminal law is the
// Boltzmann density exp(−E/τ), by Reciprocal Adjoint Matching: samples from the current model
// are pushed with their terminal adjoint −∇g(X_1), g = E/τ + log p_1^base, into a replay buffer;
// each gradient step draws t ~ U[0, 1] and X_t from the base bridge to a buffered X_1 and
// regresses v_θ(X_t, t) onto −∇g(X_1). Sampling returns importance weights from the path measure
// (Girsanov) and the effective sample size.
package adjoint

import (
	"fmt"
	"math"

	"adjoint/lib/energy"
	"adjoint/lib/mcmc"
	"adjoint/lib/nn"
	"adjoint/lib/sde"
)

// NetConfig chooses the controller network.
type NetConfig struct {
	Kind   NetKind // NetEGNN or NetMLP; NetAuto (the zero value) picks the EGNN for systems with rotation and permutation symmetry, the MLP otherwise
	Layers int     // message-passing layers (EGNN) or hidden layers (MLP)
	Hidden int     // hidden width
	// TanhRange is the EGNN's total coordinate range: each layer moves a particle by at most
	// tanh(·)·TanhRange/Layers per neighbour and unit direction (0: the paper's 15). It bounds
	// the pair force the network can express, about TanhRange·r/(r+1) (see docs/validation.md).
	TanhRange float64 `json:",omitempty"`
}

// Config is a training configuration.
type Config struct {
	System   *energy.System
	Schedule sde.Schedule
	Steps    int // Euler–Maruyama steps over [0, 1] (DW-4 199, LJ 999)
	// SampleSteps, when positive, is the number of integration steps of Sampler.Sample (the
	// samples, weights and log Z a trained model hands out) in place of Steps, which training
	// keeps. The learned control is a function of continuous time, so a finer grid only removes
	// discretisation error: on DW-4, 800 steps in place of 100 lowered the raw mean energy by
	// 0.11 (10 000 samples) and energy W2 against exact samples from 0.45 to 0.33
	// (docs/validation.md, "DW-4: a finer grid for sampling").
	SampleSteps int
	Net         NetConfig
	// Model, when set, is the controller network to train instead of one built from Net
	// (checkpoints reload it with nn.Load).
	Model nn.Model
	// Device is where NewSampler puts the EGNN it builds: DeviceCPU, or DeviceCUDA the GPU
	// that cuda.Default selects (parameters, optimiser state and activations stay there). With
	// no usable GPU the network stays on the CPU and the sampler's table says why. Checkpoints
	// do not keep it: Load gives a CPU network, and Sampler.ToDevice moves it.
	Device     Device
	Batch      int     // new samples per epoch
	TrainBatch int     // samples per gradient step
	Buffer     int     // replay buffer capacity (FIFO)
	GradSteps  int     // gradient steps per epoch
	LR         float64 // Adam learning rate
	Epochs     int     // epochs of a full run (Train with no limits runs up to it)
	ClipNorm   float64 // per-particle clipping of ∇E, which also bounds the control (see boundControl; ≤ 0: none)
	Seed       int64
	// PrefillBase, when positive, fills the buffer with that many base-process samples (u = 0)
	// before the first epoch, as the conformer configuration does; the synthetic benchmark
	// configurations start from an empty buffer (0).
	PrefillBase int
	// Integrator chooses the discretisation of the SDE: IntegratorEM (the zero value) is the
	// paper's Euler–Maruyama with σ at the left end of each step; IntegratorKappa matches each
	// step's noise and drift to the base increment κ(t_{k+1}) − κ(t_k)
	// (sde.Space.IntegrateKappa), so the uncontrolled chain has exactly the base marginals on
	// the grid.
	Integrator Integrator
	// TimeSampling chooses how gradient steps draw t: TimeUniform (the zero value) is the
	// paper's t ~ U[0, 1]; TimeKappa draws half of each batch uniformly in γ = κ(t)/κ(1) instead
	// (the other half stays uniform in t), TimeSigma2 every row. The regression's minimiser is the same at every t, so
	// this only moves effort: under a geometric schedule κ reaches 90% of κ(1) by t ≈ 0.16, so
	// uniform t spends most steps where σ(t) is tiny and the control barely moves the samples.
	TimeSampling TimeSampling
	// NetTime chooses the time input of the network: NetTimeT (the zero value, the paper's) feeds
	// it t; NetTimeKappa feeds it ½(t + κ(t)/κ(1)), which spreads the early part of a geometric
	// schedule, where most of the noise enters, over half the input range.
	NetTime NetTime `json:",omitempty"`
	// LRFinal, when positive, anneals the learning rate from LR down to LRFinal along a half
	// cosine over the run's Epochs (so a resumed run follows the same curve), or over the
	// duration of a training call limited by time.
	LRFinal float64
	// NoBaseCorrection drops the base-marginal correction log p_1^base from the terminal cost,
	// which makes the sampler target exp(−E/τ)·p_1^base instead of exp(−E/τ) (for teaching).
	NoBaseCorrection bool
	// Reweight, when positive, draws the regression's buffered samples by their importance
	// weights instead of uniformly: each sample keeps the log weight it had when generated
	// (Girsanov path terms and exp(−E/τ)/p_1^base, against the model of its own epoch), and
	// gradient steps draw slot j with probability ∝ w_j^β, with β ∈ [0, 1] the largest that keeps
	// the tempered weights' effective sample size at least Reweight × the buffer's fill. With
	// β = 1 the buffer stands for the target itself, so the regression's minimiser is the optimal
	// control rather than a step of the fixed-point iteration toward it; the tempering keeps a
	// few heavy weights from taking the batch over early on. 0 (the paper's): uniform draws.
	Reweight float64 `json:",omitempty"`
	// RefineBuffer, when positive, moves each new sample this many MCMC steps (RefineMethod) on
	// the true energy before it enters the replay buffer, so that the regression's terminal states
	// are nearer the target than the model's own: with X_1 drawn from the target the regression's
	// minimiser is the optimal control itself. The importance weights, ESS and log Z of the model's
	// samples are unaffected (they weigh the model's own paths); the moves' energy evaluations
	// count as training's. 0 (the paper's): the model's samples as they are.
	RefineBuffer int `json:",omitempty"`
	// RefineMethod is the MCMC method of RefineBuffer: "mala" (the default), "hmc", or "gibbs"
	// (sweeps of exact one-coordinate moves; systems without translation symmetry).
	RefineMethod string `json:",omitempty"`
	// EMA, when positive, keeps an exponential moving average of the network's parameters with
	// this decay per gradient step (nn.Averaged, with a warm-up for short runs); training goes
	// on with the parameters, and sampling (Sample, Control, DiagnoseTraining, checkpoints
	// sampled later) uses the average. The last parameters of a run carry the noise of its last
	// few hundred Adam steps; the average does not (docs/validation.md, "DW-4: an average of
	// the parameters"). Networks that keep no average (the GPU EGNN) sample with their
	// parameters, and the start table says so. 0: the parameters as they are (the paper's).
	EMA float64 `json:",omitempty"`
	// Defensive, when positive, makes Sample draw this share of its samples from a broad
	// Student-t and weigh all against the mixture (Sampler.SetDefensive), so that tails the SDE
	// cuts off enter log Z and the weights, and a proposal that misses them shows it in its ESS.
	// Training is unaffected. Systems without translation symmetry or periodic box. 0: none.
	Defensive float64 `json:",omitempty"`
	// Langevin, when set, puts the energy's own force into the control: u(x, t) =
	// σ(t)(v_θ(x, t) + c(t)·(−∇g(x))) with −∇g = −(clip(∇E)/τ + ∇log p_1^base) the terminal
	// regression target evaluated at the current state and c(t) = 1/(1 + a·(κ(1) − κ(t))), a the
	// curvature of g: for a Gaussian exp(−g) of curvature a, c(t)·(−∇g) is the optimal control
	// exactly; c is small while the noise still to come is wide against the energy's features
	// and 1 at the end. a is measured before the first epoch on base-process samples and again
	// every epoch on the replay buffer (the mean squared force component, which near the target
	// is its Fisher information and so its mean curvature, less 1/κ(1)); checkpoints keep it. The
	// network learns the rest: its regression target is −∇g(X_1) − c(t)·(−∇g(X_t)). This is the
	// gradient-informed parametrisation of path-integral and diffusion samplers (PIS-Grad,
	// Zhang & Chen 2022; DDS, Vargas et al. 2023). It costs one energy gradient per state per
	// integration step and per regression row, where the paper evaluates the energy at the
	// terminal states only. false (the paper's): the network is the whole control.
	Langevin bool `json:",omitempty"`
	// MixTarget, when set, regresses the network on a lower-variance target with the same
	// conditional mean at the target: c(t)·(−∇g(X_1)) + (1 − c(t))·(X_1 − X_t)/(κ(1) − κ(t)),
	// with c(t) = 1/(1 + a·(κ(1) − κ(t))) and a the curvature of g (measured as under Langevin,
	// on the replay buffer the rows come from, again whenever it changes). The second term is the denoising form of the optimal
	// control, ∇log h(x, t) = E[(X_1 − x)/(κ(1) − κ(t)) | X_t = x]; the first is the paper's
	// (the energy's form). Under the target's path measure both have the optimal control as
	// their conditional mean, so any mix of them does; this c makes the target exact, with no
	// variance, for a Gaussian exp(−g) of curvature a. The energy's form is noisy early, where
	// the end state is far from decided, the denoising form late, so the mix weighs each where
	// it is quiet. Under a buffer that is not yet the target the denoising form pulls toward the
	// buffer's own law, so the iteration toward the target is damped at early times: it serves
	// a buffer drawn by importance weight (Reweight). dw4's defaults set it (docs/validation.md,
	// "DW-4: a mixed regression target"); on LJ-13 without reweighting it fails. Systems
	// without periodic box, with the base correction. false (the paper's): −∇g(X_1).
	MixTarget bool `json:",omitempty"`
	// RBCandidates, when positive, averages each regression row's target over the buffered end
	// states that could have produced its bridge state (Rao–Blackwellization). Besides the row's
	// own end state X_1^j it takes RBCandidates more, drawn as training draws rows (uniformly, or
	// by the tempered importance weights), and weights each by the bridge's likelihood
	// N(X_t; γ(t)·X_1^k, v(t)). Given the candidates and X_t these are the exact odds that the row
	// came from each, so the averaged target has the same conditional mean given X_t as the row's
	// own (the regression's minimiser is unchanged) and less variance. It matters early in the
	// trajectory, where X_t says little about X_1 and the target's own scatter dominates the
	// loss; late, the likelihood singles out the row's own end state and nothing changes. Rows
	// whose remaining base variance is below 1% of κ(1) keep their own target. Systems without
	// periodic box. 0 (the paper's): each row regresses on its own end state's target.
	RBCandidates int `json:",omitempty"`
}

// DefaultEMA is the parameter average of dw4's, lj13's and lj55's defaults (Config.EMA): a
// horizon of about 1000 gradient steps, 10 to 20 epochs. In paired DW-4 runs (two seeds, the
// same training) it lowered geometric W2 against exact samples from 0.62 and 0.69 to 0.49 and 0.46,
// and energy W2 from 0.81 and 1.79 to 0.60 and 0.82; in paired LJ-13 runs (two seeds, 60
// minutes) energy W2 against the test split from 8.4 and 13.6 to 7.1 and 7.3
// (docs/validation.md).
const DefaultEMA = 0.999

// DefaultSampleSteps is the Config.SampleSteps of dw4's and lj13's defaults: eight and four
// times their 100 and 200 training steps. For 2000 samples on 2 cores it costs about 37 s for
// dw4 (5 s on 100 steps) and 3 minutes for lj13, and it cools the raw samples
// (Config.SampleSteps; docs/validation.md).
const DefaultSampleSteps = 800

// DefaultConfig returns the configuration `adjoint train SYSTEM` starts from. For lj55 it is the
// paper's (PaperConfig) with the parameter average (DefaultEMA), which won every paired
// comparison on dw4 and lj13 for one update of a parameter copy per gradient step (lj55 itself
// not yet measured). For dw4 it is the recipe measured best at equal compute on
// CPU (docs/validation.md, "DW-4: the default recipe"): the paper's configuration with an EGNN
// 3×64, 100 integration steps, lr 1e-3 annealed to 1e-4, a buffer of 2560 drawn by tempered
// importance weights (Reweight 0.5), time sampling kappa, a parameter average (DefaultEMA) and
// the mixed regression target (MixTarget; docs/validation.md, "DW-4: a mixed regression
// target"), 256 rows per gradient step (docs/validation.md, "DW-4: more updates per minute"),
// sampling on a grid of DefaultSampleSteps. For lj13 it is the CPU recipe
// (docs/validation.md, "LJ-13: the CPU default"): the paper's with an EGNN 3×32, 200
// integration steps, batch and training batch 128, 50 gradient steps per epoch, lr 5e-4, a
// parameter average (DefaultEMA; docs/validation.md, "LJ-13: an average of the parameters")
// and sampling on a grid of DefaultSampleSteps. PaperConfig (`--paper`) gives the paper's
// configuration of all three. Other systems get smaller defaults (geometric schedule
// 1e-3…1.5, 100 steps, an MLP 3×64, batch 256, buffer 5000, 50 gradient steps per epoch, lr
// 1e-3, 200 epochs); the zoo targets (energy.ZooNames) get their own (docs/zoo.md).
func DefaultConfig(sys *energy.System) Config {
	c := PaperConfig(sys)
	if sys == nil {
		return c
	}
	switch sys.Name {
	case "dw4":
		c.Net = NetConfig{Kind: NetEGNN, Layers: 3, Hidden: 64}
		c.Steps, c.Buffer, c.LR, c.LRFinal, c.TrainBatch = 100, 2560, 1e-3, 1e-4, 256
		c.TimeSampling, c.Reweight, c.EMA, c.MixTarget = TimeKappa, 0.5, DefaultEMA, true
		c.SampleSteps = DefaultSampleSteps
	case "lj13":
		c.Net = NetConfig{Kind: NetEGNN, Layers: 3, Hidden: 32}
		c.Steps, c.Batch, c.TrainBatch, c.GradSteps, c.LR = 200, 128, 128, 50, 5e-4
		c.EMA, c.SampleSteps = DefaultEMA, DefaultSampleSteps
	case "lj55":
		c.EMA = DefaultEMA
	}
	return c
}

// PaperConfig returns the paper's configuration for the benchmarks dw4, lj13 and lj55 (by
// System.Name; ALGORITHM §4–§9: EGNN 5×128, lr 1e-4, batch 512, buffer 10 000, 100 gradient
// steps per epoch, 199 or 999 integration steps), and DefaultConfig for every other system.
func PaperConfig(sys *energy.System) Config {
	c := Config{
		System: sys, Steps: 100, Net: NetConfig{Kind: NetMLP, Layers: 3, Hidden: 64},
		Batch: 256, TrainBatch: 256, Buffer: 5000, GradSteps: 50, LR: 1e-3, Epochs: 200,
		ClipNorm: 100, Seed: 1,
	}
	smax := 1.5
	name := ""
	if sys != nil {
		name = sys.Name
	}
	switch name {
	case "dw4":
		c.Steps, c.Epochs = 199, 5000
	case "lj13", "lj55":
		smax = 2
		c.Steps, c.Epochs = 999, 4000
	}
	switch name {
	case "dw4", "lj13", "lj55":
		c.Net = NetConfig{Kind: NetEGNN, Layers: 5, Hidden: 128}
		c.Batch, c.TrainBatch, c.Buffer, c.GradSteps, c.LR = 512, 512, 10000, 100, 1e-4
		if name == "lj55" {
			c.Batch, c.TrainBatch = 200, 200
		}
	}
	c.Schedule, _ = sde.Geometric(1e-3, smax)
	zooDefaults(&c, sys) // the zoo targets (zoo_defaults.go)
	return c
}

// space returns the state space of the configuration's system.
func space(sys *energy.System) sde.Space {
	return sde.Space{
		Particles: sys.Energy.Particles(), SpatialDim: sys.Energy.SpatialDim(),
		Translation: sys.Symmetry.Translation, Box: sys.Box,
	}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.System == nil {
		return fmt.Errorf("adjoint: config has no system")
	}
	if err := c.System.Validate(); err != nil {
		return fmt.Errorf("adjoint: %w", err)
	}
	if err := space(c.System).Validate(); err != nil {
		return fmt.Errorf("adjoint: system %q: %w", c.System.Name, err)
	}
	if c.Schedule == nil {
		return fmt.Errorf("adjoint: config has no schedule")
	}
	if k1 := c.Schedule.Kappa(1); !(k1 > 0) || math.IsInf(k1, 0) {
		return fmt.Errorf("adjoint: schedule %s has κ(1) = %g", c.Schedule.Name(), k1)
	}
	checks := []struct {
		name string
		v    int
		min  int
	}{{"Steps", c.Steps, 1}, {"Batch", c.Batch, 1}, {"TrainBatch", c.TrainBatch, 1}, {"Buffer", c.Buffer, 1}, {"GradSteps", c.GradSteps, 0}, {"Epochs", c.Epochs, 0}, {"PrefillBase", c.PrefillBase, 0}, {"SampleSteps", c.SampleSteps, 0}}
	for _, ch := range checks {
		if ch.v < ch.min {
			return fmt.Errorf("adjoint: %s is %d, must be at least %d", ch.name, ch.v, ch.min)
		}
	}
	if !(c.LR > 0) || math.IsInf(c.LR, 0) {
		return fmt.Errorf("adjoint: learning rate %g must be positive", c.LR)
	}
	if err := checkName(integratorNames, int(c.Integrator), "integrator"); err != nil {
		return err
	}
	if err := checkName(netTimeNames, int(c.NetTime), "network time input"); err != nil {
		return err
	}
	if err := checkName(timeSamplingNames, int(c.TimeSampling), "time sampling"); err != nil {
		return err
	}
	if c.LRFinal < 0 || math.IsNaN(c.LRFinal) || math.IsInf(c.LRFinal, 0) {
		return fmt.Errorf("adjoint: final learning rate %g must be positive (or 0: constant)", c.LRFinal)
	}
	if c.RefineBuffer < 0 {
		return fmt.Errorf("adjoint: refine_buffer %d must be at least 0", c.RefineBuffer)
	}
	if m := c.RefineMethod; m != "" && m != mcmc.MALA && m != mcmc.HMC && m != mcmc.Gibbs {
		return fmt.Errorf("adjoint: refine method %q: mala, hmc or gibbs", m)
	}
	if c.RefineMethod == mcmc.Gibbs && c.System.Symmetry.Translation && c.System.Energy.Particles() > 1 {
		return fmt.Errorf("adjoint: refine method gibbs moves one coordinate at a time, which system %q (translation symmetry) does not allow; use mala or hmc", c.System.Name)
	}
	if c.RefineBuffer > 0 && c.Reweight > 0 {
		return fmt.Errorf("adjoint: reweight and refine_buffer do not combine: refined samples have no importance weights")
	}
	if c.MixTarget && (c.System.Periodic() || c.NoBaseCorrection) {
		return fmt.Errorf("adjoint: the mixed regression target needs a system without periodic box and the base correction (%s)", c.System.Name)
	}
	if c.RBCandidates < 0 {
		return fmt.Errorf("adjoint: rb_candidates %d must be 0 (off) or a count of candidate end states", c.RBCandidates)
	}
	if c.RBCandidates > 0 && c.System.Periodic() {
		return fmt.Errorf("adjoint: rb_candidates averages over Euclidean bridges, which system %q (periodic box) does not have", c.System.Name)
	}
	if err := c.checkDefensive(c.Defensive); err != nil {
		return err
	}
	if !(c.EMA >= 0 && c.EMA < 1) {
		return fmt.Errorf("adjoint: ema %g must be a decay in [0, 1) (0: no average, the paper's)", c.EMA)
	}
	if !(c.Reweight >= 0 && c.Reweight <= 1) {
		return fmt.Errorf("adjoint: reweight %g must be an ESS fraction in [0, 1] (0: uniform draws, the paper's)", c.Reweight)
	}
	if math.IsNaN(c.ClipNorm) {
		return fmt.Errorf("adjoint: clip norm is NaN")
	}
	if err := checkName(deviceNames, int(c.Device), "device"); err != nil {
		return err
	}
	return c.validateNet()
}

// validateNet checks the network: the given model's dimension, or the network to build.
func (c *Config) validateNet() error {
	if c.Model != nil {
		if c.Model.Dim() != c.System.Dim() {
			return fmt.Errorf("adjoint: model dimension %d, system dimension %d", c.Model.Dim(), c.System.Dim())
		}
		return nil
	}
	if err := checkName(netKindNames, int(c.Net.Kind), "network kind"); err != nil {
		return err
	}
	if c.Net.Layers < 1 || c.Net.Hidden < 1 {
		return fmt.Errorf("adjoint: network %d layers × %d hidden", c.Net.Layers, c.Net.Hidden)
	}
	if r := c.Net.TanhRange; !(r >= 0) || math.IsInf(r, 0) {
		return fmt.Errorf("adjoint: EGNN tanh range %g must be positive (0: the default 15)", r)
	}
	return nil
}

// checkDefensive checks a defensive share for the configuration's system (Config.Defensive).
func (c *Config) checkDefensive(alpha float64) error {
	if !(alpha >= 0 && alpha < 1) {
		return fmt.Errorf("adjoint: defensive share %g must be in [0, 1) (0: none)", alpha)
	}
	if alpha > 0 && (c.System.Symmetry.Translation || c.System.Periodic()) {
		return fmt.Errorf("adjoint: defensive sampling needs a system without translation symmetry or periodic box (%s has one)", c.System.Name)
	}
	return nil
}

package adjoint

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"adjoint/lib/energy"
	"adjoint/lib/nn"
	"adjoint/lib/sde"
)

// Sampler is a trained (or training) adjoint sampler: the configuration, the controller network,
// the replay buffer and the random stream. One Sampler is used from one goroutine at a time.
type Sampler struct {
	cfg     Config
	space   sde.Space
	counter *energy.Counter
	model   nn.Model
	netNote string // how the network was chosen (fallbacks are noted here)
	pcg     *rand.PCG
	rng     *rand.Rand
	kappa1  float64
	times   timeSampler

	buf buffer

	epoch      int       // epochs completed
	steps      int       // gradient steps taken
	losses     []float64 // mean loss of each completed epoch
	trainEvals int64     // energy evaluations made by training
	// langevinEvals counts the evaluations of the Langevin term (Config.Langevin), training's
	// and sampling's; runEpoch adds its epoch's share to trainEvals
	langevinEvals int64
	// langevinA is the curvature scale of the Langevin term (langevinCurvature), measured before
	// the first epoch (langevinSet) and kept in checkpoints
	langevinA   float64
	langevinSet bool
	// bufA is the curvature of the replay buffer (bufferCurvature), which the Langevin term and
	// the mixed regression target use; bufASet says it was measured on the buffer as it is now:
	// every change of the buffer clears it, and the next use measures it again
	bufA       float64
	bufASet    bool
	wall       time.Duration // training wall time, all calls together
	lastEnergy float64       // mean energy of the latest generated batch
	nonFinite  int64         // non-finite energies among the samples training evaluated
	batchDiag  *Diagnostics  // of the current epoch's batch when it is diagnosed, else nil
	lastDiag   *Diagnostics  // of the latest diagnosed batch
	// reweightBeta is the tempering exponent of the buffer's draw distribution under
	// Config.Reweight (buffer.temper).
	reweightBeta float64
	// refineStep is the MCMC step size the latest refined batch adapted to (Config.RefineBuffer;
	// 0 before the first), refineAccept its acceptance.
	refineStep, refineAccept float64
	// swapped is set while the network holds its parameter average (averaged); lastParams
	// makes sampling use the last parameters all the same (UseAverage).
	swapped, lastParams bool
}

// NewSampler builds a sampler with a fresh network for the configuration.
func NewSampler(cfg Config) (*Sampler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	model, note := cfg.Model, describe(cfg.Model)
	if model == nil {
		var err error
		model, note, err = buildModel(cfg)
		if err != nil {
			return nil, fmt.Errorf("adjoint: network for %q: %w", cfg.System.Name, err)
		}
	}
	return newSampler(cfg, model, note), nil
}

// describe names a user-supplied network for the report: its own description when it has one
// (nn.DeviceEGNN says its size and GPU), else "user-supplied network".
func describe(m nn.Model) string {
	if d, ok := m.(interface{ Describe() string }); ok {
		return d.Describe()
	}
	return "user-supplied network"
}

// samplerStream is the PCG stream of a sampler's random numbers; the seed picks the state.
const samplerStream = 0x9e3779b97f4a7c15

func newSampler(cfg Config, model nn.Model, note string) *Sampler {
	pcg := rand.NewPCG(uint64(cfg.Seed), samplerStream)
	s := &Sampler{
		cfg: cfg, space: space(cfg.System), counter: energy.NewCounter(cfg.System.Energy),
		model: model, netNote: note, pcg: pcg, rng: rand.New(pcg), kappa1: cfg.Schedule.Kappa(1),
		times: newTimeSampler(cfg.TimeSampling, cfg.Schedule),
		buf:   newBuffer(cfg.Buffer, cfg.System.Dim()), lastEnergy: math.NaN(),
	}
	s.keepAverage()
	return s
}

// keepAverage starts (or, for a loaded network, continues) the parameter average of
// Config.EMA, or stops it when EMA is 0.
func (s *Sampler) keepAverage() {
	if a, ok := s.model.(nn.Averaged); ok {
		_ = a.SetAverage(s.cfg.EMA) // Validate keeps EMA in [0, 1)
	}
}

// UseAverage chooses whether sampling uses the network's parameter average (true, the default
// under Config.EMA) or its last parameters; training and the average itself are unaffected.
// Drawing both from one checkpoint compares them on the same training run.
func (s *Sampler) UseAverage(on bool) { s.lastParams = !on }

// Averaging describes the parameter average sampling uses (Config.EMA), for the start table.
func (s *Sampler) Averaging() string {
	if s.cfg.EMA == 0 {
		return "none: samples use the last parameters (the paper's)"
	}
	if s.lastParams {
		return fmt.Sprintf("decay %g kept, but samples use the last parameters (UseAverage(false))", s.cfg.EMA)
	}
	if _, ok := s.model.(nn.Averaged); !ok {
		return fmt.Sprintf("none: %s keeps no average, samples use its last parameters", s.netNote)
	}
	return fmt.Sprintf("decay %g per gradient step: samples use the average", s.cfg.EMA)
}

// averaged switches the network to its parameter average for sampling and returns the function
// that switches back; without an average, or inside another averaged call, both do nothing.
func (s *Sampler) averaged() func() {
	if s.swapped || s.lastParams {
		return func() {}
	}
	if a, ok := s.model.(nn.Averaged); ok && a.SwapAverage() {
		s.swapped = true
		return func() { a.SwapAverage(); s.swapped = false }
	}
	return func() {}
}

// Config returns the sampler's configuration.
func (s *Sampler) Config() Config { return s.cfg }

// Model returns the controller network.
func (s *Sampler) Model() nn.Model { return s.model }

// Network describes the controller network as the sampler's table shows it: kind and size, the
// GPU it runs on, or why it fell back, e.g. "egnn 5×128 on cuda: NVIDIA H200 (sm_90)".
func (s *Sampler) Network() string { return s.netNote }

// Epoch returns the number of completed training epochs.
func (s *Sampler) Epoch() int { return s.epoch }

// LossHistory returns the mean loss of every completed epoch.
func (s *Sampler) LossHistory() []float64 { return append([]float64(nil), s.losses...) }

// BufferLen returns the number of samples in the replay buffer.
func (s *Sampler) BufferLen() int { return s.buf.n }

// NonFiniteEnergies returns how many of the samples training evaluated (generated batches,
// base prefill, seeded configurations) had an energy that is NaN or infinite. Training keeps them
// (their clipped gradients still give targets) and reports the count.
func (s *Sampler) NonFiniteEnergies() int64 { return s.nonFinite }

// Reseed restarts the sampler's random stream from seed, so that the draws after it are
// repeatable and independent of those of another seed. Training continued afterwards uses the
// new stream too; a checkpoint records it.
func (s *Sampler) Reseed(seed uint64) { s.pcg.Seed(seed, samplerStream) }

// EnergyEvals returns the energy evaluations made so far (training and sampling).
func (s *Sampler) EnergyEvals() int64 { return s.counter.Count() }

// Control writes the learned control u(x, t) = σ(t) v_θ(x, t) (drift σ(t) u) of a batch of
// states into u.
func (s *Sampler) Control(x []float64, t float64, u []float64) error {
	defer s.averaged()()
	return s.control(context.Background())(x, t, u)
}

// SetModel replaces the controller network, e.g. with the same network moved to a GPU
// (nn.ToDevice) after loading a checkpoint. Its dimension must be the system's; training and
// sampling continue with it, and checkpoints save it.
func (s *Sampler) SetModel(m nn.Model) error {
	if m == nil {
		return fmt.Errorf("adjoint: no model")
	}
	if m.Dim() != s.cfg.System.Dim() {
		return fmt.Errorf("adjoint: model dimension %d, system dimension %d", m.Dim(), s.cfg.System.Dim())
	}
	s.model = m
	s.netNote = describe(m)
	s.keepAverage()
	return nil
}

// SetSteps changes the number of integration steps used from now on, in training and in
// sampling (it clears Config.SampleSteps), e.g. to sample a trained checkpoint on another grid
// than its own.
func (s *Sampler) SetSteps(steps int) error {
	if steps < 1 {
		return fmt.Errorf("adjoint: %d integration steps", steps)
	}
	s.cfg.Steps, s.cfg.SampleSteps = steps, 0
	return nil
}

// onSamplingGrid switches the integration steps to Config.SampleSteps (when set) for the
// duration of a draw; the returned function switches back.
func (s *Sampler) onSamplingGrid() func() {
	train := s.cfg.Steps
	if s.cfg.SampleSteps > 0 {
		s.cfg.Steps = s.cfg.SampleSteps
	}
	return func() { s.cfg.Steps = train }
}

// SetIntegrator switches the discretisation used from now on (see Config.Integrator), e.g. to
// sample a checkpoint with another integrator than it was trained with.
func (s *Sampler) SetIntegrator(in Integrator) error {
	if err := checkName(integratorNames, int(in), "integrator"); err != nil {
		return err
	}
	s.cfg.Integrator = in
	return nil
}

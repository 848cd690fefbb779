package adjoint

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"time"

	"adjoint/lib/display"
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

	buf buffer

	epoch      int           // epochs completed
	steps      int           // gradient steps taken
	losses     []float64     // mean loss of each completed epoch
	trainEvals int64         // energy evaluations made by training
	wall       time.Duration // training wall time, all calls together
	lastEnergy float64       // mean energy of the latest generated batch
	kinv       []float64     // t at γ = κ(t)/κ(1) = i/(len−1), for TimeSampling "kappa"
}

// kinvPoints is the size of the table that inverts γ(t) = κ(t)/κ(1).
const kinvPoints = 4097

// kappaInverse tabulates t(γ) on a uniform γ grid by bisection of the increasing κ.
func kappaInverse(sch sde.Schedule) []float64 {
	k1 := sch.Kappa(1)
	out := make([]float64, kinvPoints)
	for i := range out {
		g := float64(i) / float64(kinvPoints-1) * k1
		lo, hi := 0.0, 1.0
		for range 60 {
			mid := 0.5 * (lo + hi)
			if sch.Kappa(mid) < g {
				lo = mid
			} else {
				hi = mid
			}
		}
		out[i] = 0.5 * (lo + hi)
	}
	out[0], out[kinvPoints-1] = 0, 1
	return out
}

// timeAt maps a uniform draw u to the time of a gradient-step sample: u itself, or for
// TimeSampling "kappa" on odd batch rows, the t with κ(t)/κ(1) = u.
func (s *Sampler) timeAt(u float64, row int) float64 {
	if s.kinv == nil || row%2 == 0 {
		return u
	}
	f := u * float64(kinvPoints-1)
	i := min(int(f), kinvPoints-2)
	w := f - float64(i)
	return (1-w)*s.kinv[i] + w*s.kinv[i+1]
}

// buffer is the FIFO replay buffer of terminal states and regression targets −∇g(X_1).
type buffer struct {
	cap, dim int
	x, y     []float64 // n·dim each, ring storage
	n, next  int
}

func (b *buffer) push(x, y []float64) {
	for k := 0; k < len(x)/b.dim; k++ {
		if b.n < b.cap {
			b.x = append(b.x, x[k*b.dim:(k+1)*b.dim]...)
			b.y = append(b.y, y[k*b.dim:(k+1)*b.dim]...)
			b.n++
			b.next = b.n % b.cap
			continue
		}
		copy(b.x[b.next*b.dim:(b.next+1)*b.dim], x[k*b.dim:(k+1)*b.dim])
		copy(b.y[b.next*b.dim:(b.next+1)*b.dim], y[k*b.dim:(k+1)*b.dim])
		b.next = (b.next + 1) % b.cap
	}
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

func newSampler(cfg Config, model nn.Model, note string) *Sampler {
	pcg := rand.NewPCG(uint64(cfg.Seed), 0x9e3779b97f4a7c15)
	s := &Sampler{
		cfg: cfg, space: space(cfg.System), counter: energy.NewCounter(cfg.System.Energy),
		model: model, netNote: note, pcg: pcg, rng: rand.New(pcg), kappa1: cfg.Schedule.Kappa(1),
	}
	s.buf = buffer{cap: cfg.Buffer, dim: cfg.System.Dim()}
	s.lastEnergy = math.NaN()
	if cfg.TimeSampling == "kappa" {
		s.kinv = kappaInverse(cfg.Schedule)
	}
	return s
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

// EnergyEvals returns the energy evaluations made so far (training and sampling).
func (s *Sampler) EnergyEvals() int64 { return s.counter.Count() }

// Control writes the learned control u(x, t) = σ(t) v_θ(x, t) (drift σ(t) u) of a batch of
// states into u.
func (s *Sampler) Control(x []float64, t float64, u []float64) error {
	return s.control(context.Background())(x, t, u)
}

func (s *Sampler) control(ctx context.Context) sde.Control {
	var x32, t32, out []float32
	return func(x []float64, t float64, u []float64) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		nd := s.space.Dim()
		b := len(x) / nd
		if cap(x32) < len(x) {
			x32, out = make([]float32, len(x)), make([]float32, len(x))
		}
		x32, out = x32[:len(x)], out[:len(x)]
		if cap(t32) < b {
			t32 = make([]float32, b)
		}
		t32 = t32[:b]
		for i, v := range x {
			x32[i] = float32(v)
		}
		for i := range t32 {
			t32[i] = float32(t)
		}
		if err := s.model.Forward(x32, t32, out); err != nil {
			return err
		}
		sig := s.cfg.Schedule.Sigma(t)
		for i, v := range out {
			u[i] = sig * float64(v)
		}
		return nil
	}
}

// terminalTargets turns ∇E of a batch of terminal states x into the regression targets
// −∇g(x) = −(clip(∇E)/τ + ∇log p_1^base(x)), in place in g.
func (s *Sampler) terminalTargets(x, g []float64) error {
	nd := s.space.Dim()
	for k := 0; k < len(g)/nd; k++ {
		for _, v := range g[k*nd : (k+1)*nd] {
			if math.IsNaN(v) || (math.IsInf(v, 0) && !(s.cfg.ClipNorm > 0)) {
				return fmt.Errorf("energy gradient of sample %d is %g", k, v)
			}
		}
	}
	sde.ClipPerParticle(g, s.space.SpatialDim, s.cfg.ClipNorm)
	s.space.Project(g)
	tau := s.cfg.System.Tau()
	var score []float64
	if !s.cfg.NoBaseCorrection {
		score = make([]float64, len(x))
		s.space.BaseScore(x, s.kappa1, score)
	}
	for i := range g {
		v := g[i] / tau
		if score != nil {
			v += score[i]
		}
		g[i] = -v
	}
	return nil
}

// generate integrates the current model for n new terminal states.
func (s *Sampler) generate(ctx context.Context, n int, logw []float64) ([]float64, error) {
	x := make([]float64, n*s.space.Dim())
	if err := s.integrate(x, s.control(ctx), logw); err != nil {
		return nil, err
	}
	return x, nil
}

// integrate runs the configuration's integrator on x.
func (s *Sampler) integrate(x []float64, ctl sde.Control, logw []float64) error {
	if s.cfg.Integrator == "kappa" {
		return s.space.IntegrateKappa(s.rng, s.cfg.Schedule, s.cfg.Steps, x, ctl, logw)
	}
	return s.space.Integrate(s.rng, s.cfg.Schedule, s.cfg.Steps, x, ctl, logw)
}

// baseKappa is the terminal variance of the discretised base chain: κ(1) for the κ-matched
// integrator, Σ_k σ(t_k)² Δt for Euler–Maruyama.
func (s *Sampler) baseKappa() float64 {
	if s.cfg.Integrator == "kappa" {
		return s.kappa1
	}
	var kem float64
	dt := 1 / float64(s.cfg.Steps)
	for k := range s.cfg.Steps {
		sg := s.cfg.Schedule.Sigma(float64(k) * dt)
		kem += sg * sg * dt
	}
	return kem
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
	return nil
}

// SetSteps changes the number of integration steps used from now on, e.g. to sample a trained
// checkpoint on a finer grid than it was trained with.
func (s *Sampler) SetSteps(steps int) error {
	if steps < 1 {
		return fmt.Errorf("adjoint: %d integration steps", steps)
	}
	s.cfg.Steps = steps
	return nil
}

// SetIntegrator switches the discretisation used from now on ("em" or "kappa"; see
// Config.Integrator), e.g. to sample a checkpoint with another integrator than it was trained
// with.
func (s *Sampler) SetIntegrator(name string) error {
	c := s.cfg
	c.Integrator = name
	if err := c.Validate(); err != nil {
		return err
	}
	s.cfg.Integrator = name
	return nil
}

// prefill pushes Config.PrefillBase base-process samples (in batches of Config.Batch) into the
// buffer.
func (s *Sampler) prefill(ctx context.Context) error {
	nd := s.space.Dim()
	for done := 0; done < s.cfg.PrefillBase; done += s.cfg.Batch {
		b := min(s.cfg.Batch, s.cfg.PrefillBase-done)
		x := make([]float64, b*nd)
		if err := s.integrate(x, nil, nil); err != nil {
			return fmt.Errorf("prefill: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.addToBuffer(x, nil); err != nil {
			return fmt.Errorf("prefill: %w", err)
		}
	}
	return nil
}

// addToBuffer evaluates ∇E at the configurations x (counted as training evaluations), turns it
// into regression targets and pushes both into the replay buffer. The energies go to e when it
// is not nil.
func (s *Sampler) addToBuffer(x, e []float64) error {
	n := len(x) / s.space.Dim()
	if e == nil {
		e = make([]float64, n)
	}
	g := make([]float64, len(x))
	s.counter.EnergyGrad(x, e, g)
	s.trainEvals += int64(n)
	if err := s.terminalTargets(x, g); err != nil {
		return err
	}
	s.buf.push(x, g)
	return nil
}

// runEpoch generates a batch, fills the buffer and takes the gradient steps of one epoch.
// It returns the mean loss.
func (s *Sampler) runEpoch(ctx context.Context, afterStep func(loss float64) error) (float64, error) {
	ep := s.epoch + 1
	nd := s.space.Dim()
	if s.epoch == 0 && s.buf.n == 0 && s.cfg.PrefillBase > 0 {
		if err := s.prefill(ctx); err != nil {
			return 0, err
		}
	}
	x, err := s.generate(ctx, s.cfg.Batch, nil)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, fmt.Errorf("epoch %d: sampling: %w", ep, err)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("epoch %d: generated sample %d is not finite (the network diverged)", ep, i/nd)
		}
	}
	e := make([]float64, s.cfg.Batch)
	if err := s.addToBuffer(x, e); err != nil {
		return 0, fmt.Errorf("epoch %d: %w", ep, err)
	}
	var me float64
	var nf int
	for _, v := range e {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			me += v
			nf++
		}
	}
	s.lastEnergy = me / float64(max(nf, 1))

	sum, err := s.gradSteps(ctx, s.cfg.GradSteps, afterStep)
	if err != nil {
		var se *stepError
		if errors.As(err, &se) {
			return 0, fmt.Errorf("epoch %d %w", ep, err)
		}
		return 0, err
	}
	mean := sum / float64(max(s.cfg.GradSteps, 1))
	s.epoch++
	s.losses = append(s.losses, mean)
	return mean, nil
}

// stepError is a failed gradient step: the network's error or a loss that is not finite.
type stepError struct {
	step int // 1-based
	err  error
}

func (e *stepError) Error() string { return fmt.Sprintf("step %d: %v", e.step, e.err) }
func (e *stepError) Unwrap() error { return e.err }

// gradSteps takes n gradient steps on bridge draws from the replay buffer and returns the sum
// of their losses. A failed step is a *stepError; the context's error and afterStep's are
// returned as they are.
func (s *Sampler) gradSteps(ctx context.Context, n int, afterStep func(loss float64) error) (float64, error) {
	if s.buf.n == 0 {
		return 0, fmt.Errorf("adjoint: the replay buffer is empty")
	}
	nd := s.space.Dim()
	tb := s.cfg.TrainBatch
	xt := make([]float64, nd)
	x32 := make([]float32, tb*nd)
	y32 := make([]float32, tb*nd)
	t32 := make([]float32, tb)
	var sum float64
	for step := range n {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		for b := range tb {
			j := s.rng.IntN(s.buf.n)
			t := s.timeAt(s.rng.Float64(), b)
			s.space.Bridge(s.rng, s.cfg.Schedule, t, s.buf.x[j*nd:(j+1)*nd], xt)
			for i := range nd {
				x32[b*nd+i] = float32(xt[i])
				y32[b*nd+i] = float32(s.buf.y[j*nd+i])
			}
			t32[b] = float32(t)
		}
		loss, err := s.model.TrainStep(x32, t32, y32)
		if err != nil {
			return 0, &stepError{step + 1, err}
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return 0, &stepError{step + 1, fmt.Errorf("loss is %g", loss)}
		}
		s.steps++
		sum += loss
		if afterStep != nil {
			if err := afterStep(loss); err != nil {
				return 0, err
			}
		}
	}
	return sum, nil
}

// cosineLR is the learning rate at fraction f ∈ [0, 1] of a half-cosine from lr0 to lr1.
func cosineLR(lr0, lr1, f float64) float64 {
	f = min(max(f, 0), 1)
	return lr1 + (lr0-lr1)*0.5*(1+math.Cos(math.Pi*f))
}

// TrainOptions limit and report a training call.
type TrainOptions struct {
	Epochs          int           // epochs to run in this call (0: up to Config.Epochs in all, unless Duration is set)
	Duration        time.Duration // wall-clock limit (0: none); it also interrupts a running epoch, which then does not count
	Checkpoint      string        // path written atomically every CheckpointEvery epochs and at the end ("" none)
	CheckpointEvery int           // epochs between checkpoints (0: 50)
	Reporter        display.Reporter
}

// TrainEpochs trains for n epochs, reporting to the current display sink and stopping on the
// front end's cancellation.
func (s *Sampler) TrainEpochs(n int) (*TrainReport, error) {
	return s.Train(display.Context(), TrainOptions{Epochs: n})
}

// TrainFor trains for the wall-clock duration d, reporting to the current display sink and
// stopping on the front end's cancellation.
func (s *Sampler) TrainFor(d time.Duration) (*TrainReport, error) {
	return s.Train(display.Context(), TrainOptions{Duration: d})
}

func (s *Sampler) device() string {
	if d, ok := s.model.(interface{ Device() string }); ok {
		return d.Device()
	}
	return fmt.Sprintf("cpu (%d threads)", runtime.GOMAXPROCS(0))
}

// Train runs training epochs until the limits of opt, the context's cancellation (checked
// between gradient steps and between integration steps) or an error. On cancellation it returns
// the report so far and an error wrapping the context's error; the sampler stays usable (an
// interrupted epoch does not count). A non-finite loss, gradient or sample stops training with an
// error naming the epoch (and step); the checkpoint file then still holds the last good state.
func (s *Sampler) Train(ctx context.Context, opt TrainOptions) (*TrainReport, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	target := opt.Epochs
	if target <= 0 && opt.Duration <= 0 {
		target = max(s.cfg.Epochs-s.epoch, 0)
	}
	every := opt.CheckpointEvery
	if every <= 0 {
		every = 50
	}
	rep := opt.Reporter
	if rep == nil {
		rep = display.NewReporter("train " + s.cfg.System.Name)
	}
	r := &TrainReport{System: s.cfg.System.Name, StartEpoch: s.epoch}
	start := time.Now()
	evals0, steps0 := s.trainEvals, s.steps
	device := s.device()
	stepLoss := math.NaN()
	progress := func(done bool) display.Progress {
		el := time.Since(start)
		p := display.Progress{
			Task: "train " + s.cfg.System.Name, Device: device, Epoch: s.epoch, Step: s.steps,
			Elapsed: el, Done: done,
			Extra: map[string]float64{"energy": s.lastEnergy, "buffer": float64(s.buf.n)},
		}
		switch {
		case !done && !math.IsNaN(stepLoss):
			p.Loss = stepLoss
		case len(s.losses) > 0:
			p.Loss = s.losses[len(s.losses)-1]
		}
		if n := s.steps - steps0; n > 0 {
			p.EvalsPerStep = float64(s.trainEvals-evals0) / float64(n)
		}
		ran := s.epoch - r.StartEpoch
		if el > 0 {
			p.SamplesPerSec = float64(ran*s.cfg.Batch) / el.Seconds()
		}
		if target > 0 {
			p.Epochs = r.StartEpoch + target
			p.Steps = steps0 + target*s.cfg.GradSteps // steps of an epoch cut by a time limit count too
			if ran > 0 {
				p.ETA = time.Duration(float64(el) / float64(ran) * float64(target-ran))
			}
		} else if opt.Duration > 0 {
			p.ETA = max(opt.Duration-el, 0)
		}
		return p
	}
	finish := func(err error, save bool) (*TrainReport, error) {
		r.Epochs = s.epoch - r.StartEpoch
		r.Steps = s.steps - steps0
		r.TotalEpochs = s.epoch
		r.EnergyEvals = s.trainEvals - evals0
		if r.Steps > 0 {
			r.EvalsPerStep = float64(r.EnergyEvals) / float64(r.Steps)
		}
		r.Wall = time.Since(start)
		s.wall += r.Wall
		r.Losses = append([]float64(nil), s.losses[r.StartEpoch:]...)
		r.MeanEnergy = s.lastEnergy
		r.Device = device
		if save && opt.Checkpoint != "" {
			if cerr := s.Save(opt.Checkpoint); cerr != nil {
				err = fmt.Errorf("adjoint: checkpoint: %w", cerr)
			}
		}
		rep.Finish(progress(true))
		if err != nil {
			r.Stopped = err.Error()
			return r, err
		}
		return r, nil
	}
	if s.cfg.LRFinal > 0 {
		f := float64(s.epoch) / float64(max(s.cfg.Epochs, 1))
		if opt.Duration > 0 {
			f = 0
		}
		s.model.SetLearningRate(cosineLR(s.cfg.LR, s.cfg.LRFinal, f))
	}
	lastReport := time.Time{}
	// the time limit also interrupts a running epoch (large networks on a CPU can take minutes
	// per epoch); the interrupted epoch's samples and steps are kept but it does not count
	ectx := ctx
	if opt.Duration > 0 {
		var cancel context.CancelFunc
		ectx, cancel = context.WithTimeout(ctx, opt.Duration)
		defer cancel()
	}
	for {
		if target > 0 && s.epoch-r.StartEpoch >= target {
			break
		}
		if opt.Duration > 0 && ectx.Err() != nil {
			break
		}
		if target <= 0 && opt.Duration <= 0 {
			break
		}
		if err := ctx.Err(); err != nil {
			return finish(fmt.Errorf("adjoint: training stopped at epoch %d: %w", s.epoch, err), true)
		}
		stepInEpoch := 0
		_, err := s.runEpoch(ectx, func(loss float64) error {
			stepLoss = loss
			stepInEpoch++
			if s.cfg.LRFinal > 0 {
				var f float64
				if opt.Duration > 0 {
					f = float64(time.Since(start)) / float64(opt.Duration)
				} else {
					f = (float64(s.epoch) + float64(stepInEpoch)/float64(max(s.cfg.GradSteps, 1))) / float64(max(s.cfg.Epochs, 1))
				}
				s.model.SetLearningRate(cosineLR(s.cfg.LR, s.cfg.LRFinal, f))
			}
			if time.Since(lastReport) > 200*time.Millisecond {
				lastReport = time.Now()
				rep.Report(progress(false))
			}
			return nil
		})
		if err != nil {
			if ctx.Err() != nil {
				return finish(fmt.Errorf("adjoint: training stopped in epoch %d: %w", s.epoch+1, ctx.Err()), true)
			}
			if ectx.Err() != nil {
				r.Stopped = fmt.Sprintf("time limit reached in epoch %d (not counted)", s.epoch+1)
				break
			}
			// the checkpoint file keeps the last good state
			return finish(fmt.Errorf("adjoint: %w", err), false)
		}
		stepLoss = math.NaN() // the epoch's mean loss from here on
		rep.Report(progress(false))
		if opt.Checkpoint != "" && s.epoch%every == 0 {
			if err := s.Save(opt.Checkpoint); err != nil {
				return finish(fmt.Errorf("adjoint: checkpoint: %w", err), false)
			}
		}
	}
	return finish(nil, true)
}

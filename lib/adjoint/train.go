package adjoint

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"time"

	"adjoint/lib/display"
)

// TrainOptions limit and report a training call.
type TrainOptions struct {
	Epochs          int           // epochs to run in this call (0: up to Config.Epochs in all, unless Duration is set)
	Duration        time.Duration // wall-clock limit (0: none); it also interrupts a running epoch, which then does not count
	Checkpoint      string        // path written atomically every CheckpointEvery epochs and at the end ("" none)
	CheckpointEvery int           // epochs between checkpoints (0: 50)
	// DiagnoseEvery is the number of epochs between diagnostics of the importance weights of
	// an epoch's generated batch (0: 10; negative: none). The first epoch of a call is diagnosed
	// too. They cost no extra energy evaluations or random draws (a few dot products per
	// integration step) and go to the progress view and TrainReport.Diagnostics.
	DiagnoseEvery int
	Reporter      display.Reporter
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
	run := s.newTrainRun(opt)
	if run.lr.annealed() {
		s.model.SetLearningRate(run.lr.atStart(s.epoch))
	}
	// the time limit also interrupts a running epoch (large networks on a CPU can take minutes
	// per epoch); the interrupted epoch's samples and steps are kept but it does not count
	ectx := ctx
	if opt.Duration > 0 {
		var cancel context.CancelFunc
		ectx, cancel = context.WithTimeout(ctx, opt.Duration)
		defer cancel()
	}
	for run.more(ectx) {
		if err := ctx.Err(); err != nil {
			return run.finish(fmt.Errorf("adjoint: training stopped at epoch %d: %w", s.epoch, err), true)
		}
		stop, save, err := run.epoch(ctx, ectx)
		if err != nil {
			return run.finish(err, save)
		}
		if stop {
			break
		}
	}
	return run.finish(nil, true)
}

// trainRun is one Train call: its limits, its progress view and the counters it started from.
type trainRun struct {
	s          *Sampler
	opt        TrainOptions
	target     int // epochs to run (0: limited by time only)
	every      int // epochs between checkpoints
	diagEvery  int // epochs between diagnostics (0: none)
	nonFinite0 int64
	rep        display.Reporter
	r          *TrainReport
	lr         lrPolicy
	start      time.Time
	lastReport time.Time
	evals0     int64
	steps0     int
	device     string
	stepLoss   float64 // latest step's loss inside an epoch (NaN between epochs)
}

func (s *Sampler) newTrainRun(opt TrainOptions) *trainRun {
	run := &trainRun{
		s: s, opt: opt, target: opt.Epochs, every: opt.CheckpointEvery, rep: opt.Reporter,
		r:  &TrainReport{System: s.cfg.System.Name, StartEpoch: s.epoch},
		lr: newLRPolicy(s.cfg, opt.Duration), start: time.Now(),
		evals0: s.trainEvals, steps0: s.steps, device: s.device(), stepLoss: math.NaN(),
		diagEvery: opt.DiagnoseEvery, nonFinite0: s.nonFinite,
	}
	switch {
	case run.diagEvery == 0:
		run.diagEvery = 10
	case run.diagEvery < 0:
		run.diagEvery = 0
	}
	if run.target <= 0 && opt.Duration <= 0 {
		run.target = max(s.cfg.Epochs-s.epoch, 0)
	}
	if run.every <= 0 {
		run.every = 50
	}
	if run.rep == nil {
		run.rep = display.NewReporter("train " + s.cfg.System.Name)
	}
	return run
}

// more reports whether another epoch is due: the epoch target is not reached and the time limit
// (ectx) has not passed.
func (run *trainRun) more(ectx context.Context) bool {
	switch {
	case run.target > 0 && run.s.epoch-run.r.StartEpoch >= run.target:
		return false
	case run.opt.Duration > 0 && ectx.Err() != nil:
		return false
	}
	return run.target > 0 || run.opt.Duration > 0
}

// epoch runs one epoch under the time limit ectx, reports it and writes a due checkpoint. It
// stops the loop without an error when the time limit interrupted the epoch; save says whether
// an error leaves a state worth checkpointing.
func (run *trainRun) epoch(ctx, ectx context.Context) (stop, save bool, err error) {
	s := run.s
	stepInEpoch := 0
	ep := s.epoch + 1
	diagnose := run.diagEvery > 0 && (ep%run.diagEvery == 0 || s.epoch == run.r.StartEpoch)
	loss, err := s.runEpoch(ectx, diagnose, func(loss float64) error {
		run.stepLoss = loss
		stepInEpoch++
		if run.lr.annealed() {
			s.model.SetLearningRate(run.lr.atStep(s.epoch, stepInEpoch, time.Since(run.start)))
		}
		if time.Since(run.lastReport) > 200*time.Millisecond {
			run.lastReport = time.Now()
			run.rep.Report(run.progress(false))
		}
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return true, true, fmt.Errorf("adjoint: training stopped in epoch %d: %w", s.epoch+1, ctx.Err())
		}
		if ectx.Err() != nil {
			run.r.Stopped = fmt.Sprintf("time limit reached in epoch %d (not counted)", s.epoch+1)
			return true, true, nil
		}
		// the checkpoint file keeps the last good state
		return true, false, fmt.Errorf("adjoint: %w", err)
	}
	run.stepLoss = math.NaN() // the epoch's mean loss from here on
	if s.batchDiag != nil {
		run.r.Diagnostics = append(run.r.Diagnostics, EpochDiagnostics{Epoch: s.epoch, Loss: loss, Diagnostics: *s.batchDiag})
	}
	run.rep.Report(run.progress(false))
	if run.opt.Checkpoint != "" && s.epoch%run.every == 0 {
		if err := s.Save(run.opt.Checkpoint); err != nil {
			return true, false, fmt.Errorf("adjoint: checkpoint: %w", err)
		}
	}
	return false, true, nil
}

// progress is the report of the run so far.
func (run *trainRun) progress(done bool) display.Progress {
	s := run.s
	el := time.Since(run.start)
	p := display.Progress{
		Task: "train " + s.cfg.System.Name, Device: run.device, Epoch: s.epoch, Step: s.steps,
		Elapsed: el, Done: done,
		Extra: map[string]float64{"energy": s.lastEnergy, "buffer": float64(s.buf.n)},
	}
	if s.lastDiag != nil {
		p.Extra["batch ESS/N"] = s.lastDiag.ESSFraction
	}
	if s.cfg.RefineBuffer > 0 {
		p.Extra["refine acc"] = s.refineAccept
	}
	if s.cfg.Reweight > 0 && s.buf.cdf != nil {
		p.Extra["reweight β"] = s.reweightBeta
	}
	if s.nonFinite > 0 {
		p.Extra["non-finite E"] = float64(s.nonFinite)
	}
	switch {
	case !done && !math.IsNaN(run.stepLoss):
		p.Loss = run.stepLoss
	case len(s.losses) > 0:
		p.Loss = s.losses[len(s.losses)-1]
	}
	if n := s.steps - run.steps0; n > 0 {
		p.EvalsPerStep = float64(s.trainEvals-run.evals0) / float64(n)
	}
	ran := s.epoch - run.r.StartEpoch
	if el > 0 {
		p.SamplesPerSec = float64(ran*s.cfg.Batch) / el.Seconds()
	}
	if run.target > 0 {
		p.Epochs = run.r.StartEpoch + run.target
		p.Steps = run.steps0 + run.target*s.cfg.GradSteps // steps of an epoch cut by a time limit count too
		if ran > 0 {
			p.ETA = time.Duration(float64(el) / float64(ran) * float64(run.target-ran))
		}
	} else if run.opt.Duration > 0 {
		p.ETA = max(run.opt.Duration-el, 0)
	}
	return p
}

// finish completes the report, writes the final checkpoint when save is set and returns the
// report with err (or the checkpoint's error).
func (run *trainRun) finish(err error, save bool) (*TrainReport, error) {
	s, r := run.s, run.r
	r.Epochs = s.epoch - r.StartEpoch
	r.Steps = s.steps - run.steps0
	r.TotalEpochs = s.epoch
	r.EnergyEvals = s.trainEvals - run.evals0
	if r.Steps > 0 {
		r.EvalsPerStep = float64(r.EnergyEvals) / float64(r.Steps)
	}
	r.Wall = time.Since(run.start)
	s.wall += r.Wall
	r.Losses = append([]float64(nil), s.losses[r.StartEpoch:]...)
	r.MeanEnergy = s.lastEnergy
	r.NonFiniteEnergies = s.nonFinite - run.nonFinite0
	r.Device = run.device
	if save && run.opt.Checkpoint != "" {
		if cerr := s.Save(run.opt.Checkpoint); cerr != nil {
			err = fmt.Errorf("adjoint: checkpoint: %w", cerr)
		}
	}
	run.rep.Finish(run.progress(true))
	if err != nil {
		r.Stopped = err.Error()
		return r, err
	}
	return r, nil
}

package adjoint

import (
	"context"
	"errors"
	"fmt"
	"math"

	"adjoint/lib/mcmc"
)

// runEpoch generates a batch, fills the buffer and takes the gradient steps of one epoch.
// It returns the mean loss. With diagnose set the batch's importance weights are diagnosed too
// (Sampler.batchDiag), which draws no extra random numbers.
func (s *Sampler) runEpoch(ctx context.Context, diagnose bool, afterStep func(loss float64) error) (float64, error) {
	ep := s.epoch + 1
	l0 := s.langevinEvals
	defer func() { s.trainEvals += s.langevinEvals - l0 }()
	if s.epoch == 0 && s.buf.n == 0 && s.cfg.PrefillBase > 0 {
		if err := s.prefill(ctx); err != nil {
			return 0, err
		}
	}
	if err := s.newBatch(ctx, diagnose); err != nil {
		if cerr := ctx.Err(); cerr != nil && err == cerr {
			return 0, err
		}
		return 0, fmt.Errorf("epoch %d: %w", ep, err)
	}
	if s.cfg.Langevin {
		s.langevinA = s.bufferCurvature()
	}
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

// newBatch integrates the current model for Config.Batch new samples and pushes them (moved by
// Config.RefineBuffer MCMC steps first, when set) with their targets into the buffer; with diagnose set it also weighs them and keeps their Diagnostics in
// batchDiag and lastDiag. A cancelled context's error is returned as it is.
func (s *Sampler) newBatch(ctx context.Context, diagnose bool) error {
	nd := s.space.Dim()
	s.batchDiag = nil
	var logw []float64
	if diagnose || s.cfg.Reweight > 0 {
		logw = make([]float64, s.cfg.Batch)
	}
	x, err := s.generate(ctx, s.cfg.Batch, logw)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return fmt.Errorf("sampling: %w", err)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("generated sample %d is not finite (the network diverged)", i/nd)
		}
	}
	e := make([]float64, s.cfg.Batch)
	if s.cfg.RefineBuffer > 0 {
		// the model's own energies and weights for the diagnostics; the refined states for the buffer
		s.counter.EnergyGrad(x, e, nil)
		s.trainEvals += int64(len(e))
		for _, v := range e {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				s.nonFinite++
			}
		}
		if logw != nil {
			s.weigh(x, e, logw)
		}
		xr, err := s.refineBatch(ctx, x)
		if err != nil {
			return err
		}
		if err := s.addToBuffer(xr, nil, nil); err != nil {
			return err
		}
	} else if err := s.addToBuffer(x, e, logw); err != nil {
		return err
	}
	if diagnose {
		d := Diagnose(logw, e)
		s.batchDiag, s.lastDiag = &d, &d
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
	return nil
}

// refineBatch moves the configurations x by Config.RefineBuffer steps of Config.RefineMethod on
// the true energy (mcmc.Refine, seeded by the epoch, MALA and HMC starting from the step size
// the previous batch adapted to) and returns the final states; the evaluations count as
// training's.
func (s *Sampler) refineBatch(ctx context.Context, x []float64) ([]float64, error) {
	res, err := mcmc.Refine(ctx, s.cfg.System, x, s.cfg.RefineBuffer, mcmc.RefineOptions{
		Method: s.cfg.RefineMethod, Step: s.refineStep, Seed: uint64(s.cfg.Seed)*0x9e3779b9 + uint64(s.epoch)})
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, fmt.Errorf("refining the batch: %w", err)
	}
	s.trainEvals += res.Evals
	if res.Method != mcmc.Gibbs && res.MeanStep > 0 {
		s.refineStep = res.MeanStep
	}
	s.refineAccept = res.Accept
	return res.Samples, nil
}

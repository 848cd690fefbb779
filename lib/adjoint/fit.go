package adjoint

import (
	"context"
	"fmt"
	"math"
)

// SeedBuffer evaluates ∇E at configurations x (row-major, one configuration of the system per
// row), turns them into regression targets as training does, and pushes them into the replay
// buffer. Configurations are projected onto the state space first (centre of mass removed, or
// wrapped into the box). Once seeded with samples from elsewhere (MCMC, known minima) the
// sampler no longer learns from the energy alone: use it to warm-start, or, with Fit and
// LossByTime, to see how well the network can fit ideal targets.
func (s *Sampler) SeedBuffer(x []float64) error {
	nd := s.space.Dim()
	if len(x) == 0 || len(x)%nd != 0 {
		return fmt.Errorf("adjoint: seed buffer: %d values are not whole configurations of %d", len(x), nd)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("adjoint: seed buffer: configuration %d is not finite", i/nd)
		}
	}
	x = append([]float64(nil), x...)
	s.space.Project(x)
	if err := s.addToBuffer(x, nil, nil); err != nil { // weights not known: drawn at the mean weight
		return fmt.Errorf("adjoint: seed buffer: %w", err)
	}
	return nil
}

// Fit takes steps gradient steps on the replay buffer as it is, drawing no new samples, and
// returns their mean loss. With a buffer seeded from exact samples (SeedBuffer) this is
// regression onto the optimal control's targets, which separates what the network can fit from
// what the self-consistent training finds.
func (s *Sampler) Fit(ctx context.Context, steps int) (float64, error) {
	if steps < 1 {
		return 0, fmt.Errorf("adjoint: fit: %d steps", steps)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	sum, err := s.gradSteps(ctx, steps, nil)
	if err != nil {
		return 0, fmt.Errorf("adjoint: fit: %w", err)
	}
	return sum / float64(steps), nil
}

// SetLearningRate sets the optimiser's learning rate for the gradient steps that follow, as a
// caller of Fit anneals it (e.g. to LearningRateAt); a training call sets its own (Config.LR,
// LRFinal).
func (s *Sampler) SetLearningRate(lr float64) error {
	if !(lr > 0) || math.IsInf(lr, 0) {
		return fmt.Errorf("adjoint: learning rate %g must be positive and finite", lr)
	}
	s.model.SetLearningRate(lr)
	return nil
}

// LearningRateAt is the learning rate training's policy gives at fraction f ∈ [0, 1] of a run:
// Config.LR, or with Config.LRFinal the half cosine from LR to LRFinal. A caller of Fit passes
// it to SetLearningRate to anneal a fit as training anneals.
func (s *Sampler) LearningRateAt(f float64) float64 {
	if p := newLRPolicy(s.cfg, 0); p.annealed() {
		return cosineLR(p.lr0, p.lr1, f)
	}
	return s.cfg.LR
}

// LossByTime estimates the regression loss ‖v_θ(X_t, t) + ∇g(X_1)‖² (summed over coordinates,
// averaged over draws) in each of `bins` equal slices of [0, 1], from `draws` fresh bridge draws
// per slice on the replay buffer's terminal states. It changes neither the network nor the buffer, only the
// sampler's random stream. Early bins stay high for any network: there the bridge noise hides
// X_1; late bins show how well the network fits ∇g itself.
func (s *Sampler) LossByTime(bins, draws int) ([]float64, error) {
	if bins < 1 || draws < 1 {
		return nil, fmt.Errorf("adjoint: loss by time: %d bins × %d draws", bins, draws)
	}
	if s.buf.n == 0 {
		return nil, fmt.Errorf("adjoint: loss by time: the replay buffer is empty")
	}
	nd := s.space.Dim()
	tb := min(draws, max(s.cfg.TrainBatch, 1))
	mb := newMatchBatch(tb, nd)
	out := make([]float32, tb*nd)
	loss := make([]float64, bins)
	for bin := range bins {
		inBin := func(u float64, _ int) float64 { return (float64(bin) + u) / float64(bins) }
		var sum float64
		for done := 0; done < draws; done += tb {
			b := min(tb, draws-done)
			s.draw(mb, b, inBin)
			if err := s.addLoss(mb, b, out, &sum); err != nil {
				return nil, fmt.Errorf("adjoint: loss by time: %w", err)
			}
		}
		loss[bin] = sum / float64(draws)
	}
	return loss, nil
}

// addLoss adds the regression losses ‖v_θ(X_t, t) − target‖² of rows [0, rows) of mb to sum,
// using out (at least rows·dim long) for the network's output.
func (s *Sampler) addLoss(mb *matchBatch, rows int, out []float32, sum *float64) error {
	nd := s.space.Dim()
	if err := s.model.Forward(mb.x[:rows*nd], s.netTimes(&mb.tn, mb.t[:rows]), out[:rows*nd]); err != nil {
		return err
	}
	for i := range rows * nd {
		d := float64(out[i] - mb.y[i])
		*sum += d * d
	}
	return nil
}

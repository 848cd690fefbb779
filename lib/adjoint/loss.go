package adjoint

import (
	"context"
	"fmt"
	"math"

	"adjoint/lib/sde"
)

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

// matchBatch is one batch of the adjoint-matching regression: bridge states X_t, their times
// and the targets −∇g(X_1) of the buffered X_1 they were drawn toward, as the network takes them.
type matchBatch struct {
	x, y []float32 // rows × dim
	t    []float32 // rows
	xt   []float64 // scratch for one bridge draw
}

func newMatchBatch(rows, dim int) *matchBatch {
	return &matchBatch{x: make([]float32, rows*dim), y: make([]float32, rows*dim), t: make([]float32, rows), xt: make([]float64, dim)}
}

// draw fills rows [0, rows) of mb: for each row a buffered sample j (uniform, or by the tempered
// importance weights under Config.Reweight), a time t from
// time(u) with u ~ U[0, 1), and X_t from the base bridge from 0 to X_1 = x_j.
func (s *Sampler) draw(mb *matchBatch, rows int, time func(u float64, row int) float64) {
	s.drawAmong(mb, rows, nil, time)
}

// drawAmong is draw with j uniform among the buffer slots idx (nil: all of them).
func (s *Sampler) drawAmong(mb *matchBatch, rows int, idx []int, time func(u float64, row int) float64) {
	nd := s.space.Dim()
	for b := range rows {
		var j int
		switch {
		case idx == nil && s.buf.cdf != nil:
			j = s.buf.pick(s.rng.Float64())
		case idx == nil:
			j = s.rng.IntN(s.buf.n)
		default:
			j = idx[s.rng.IntN(len(idx))]
		}
		t := time(s.rng.Float64(), b)
		x1, y := s.buf.state(j)
		s.space.Bridge(s.rng, s.cfg.Schedule, t, x1, mb.xt)
		for i := range nd {
			mb.x[b*nd+i] = float32(mb.xt[i])
			mb.y[b*nd+i] = float32(y[i])
		}
		mb.t[b] = float32(t)
	}
}

// stepError is a failed gradient step: the network's error or a loss that is not finite.
type stepError struct {
	step int // 1-based
	err  error
}

func (e *stepError) Error() string { return fmt.Sprintf("step %d: %v", e.step, e.err) }
func (e *stepError) Unwrap() error { return e.err }

// gradSteps takes n adjoint-matching gradient steps on bridge draws from the replay buffer and
// returns the sum of their losses ‖v_θ(X_t, t) + ∇g(X_1)‖². A failed step is a *stepError; the
// context's error and afterStep's are returned as they are.
func (s *Sampler) gradSteps(ctx context.Context, n int, afterStep func(loss float64) error) (float64, error) {
	if s.buf.n == 0 {
		return 0, fmt.Errorf("adjoint: the replay buffer is empty")
	}
	tb := s.cfg.TrainBatch
	mb := newMatchBatch(tb, s.space.Dim())
	var sum float64
	for step := range n {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		s.draw(mb, tb, s.times.at)
		loss, err := s.model.TrainStep(mb.x, mb.t, mb.y)
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

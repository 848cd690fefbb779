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
	s.negGradG(x, g)
	return nil
}

// negGradG turns ∇E of states x into −∇g(x) = −(clip(∇E)/τ + ∇log p_1^base(x)), in place in g:
// the terminal regression targets, and the force of the Langevin term.
func (s *Sampler) negGradG(x, g []float64) {
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
}

// matchBatch is one batch of the adjoint-matching regression: bridge states X_t, their times
// and the targets −∇g(X_1) of the buffered X_1 they were drawn toward, as the network takes them.
type matchBatch struct {
	x, y []float32 // rows × dim
	t    []float32 // rows
	tn   []float32 // the network's time inputs, when they are not t (Config.NetTime)
	xt   []float64 // scratch for one bridge draw
	// under Config.Langevin: the bridge states, their times and the Langevin term (rows × dim)
	x64, t64, lt []float64
	// rb asks draw for Rao–Blackwellized targets (Config.RBCandidates): training's batches set
	// it, the diagnostics' keep each row's own target; rbs is the candidate set, reused
	rb  bool
	rbs *rbSet
}

func newMatchBatch(rows, dim int) *matchBatch {
	return &matchBatch{x: make([]float32, rows*dim), y: make([]float32, rows*dim), t: make([]float32, rows), xt: make([]float64, dim)}
}

// langevinTargets subtracts the Langevin term of each row's bridge state from its target
// (Config.Langevin), so that the network learns the rest of the control.
func (s *Sampler) langevinTargets(mb *matchBatch, rows int) {
	nd := s.space.Dim()
	if len(mb.x64) < rows*nd {
		mb.x64, mb.lt, mb.t64 = make([]float64, rows*nd), make([]float64, rows*nd), make([]float64, rows)
	}
	x, t, lt := mb.x64[:rows*nd], mb.t64[:rows], mb.lt[:rows*nd]
	for i := range x {
		x[i] = float64(mb.x[i])
	}
	for i := range t {
		t[i] = float64(mb.t[i])
	}
	s.langevinTerm(x, t, lt)
	for i, v := range lt {
		mb.y[i] -= float32(v)
	}
}

// langevinTerm writes c(t_k)·(−∇g(x_k)) = −c(t_k)·(clip(∇E(x_k))/τ + ∇log p_1^base(x_k)) for
// each state x_k of the batch x (times t, one per state) into out, with c(t) langevinWeight's
// (Config.Langevin). States with c = 0 are not evaluated; a state whose energy gradient has a NaN gets 0, as do all its components.
func (s *Sampler) langevinTerm(x, t, out []float64) {
	nd := s.space.Dim()
	clear(out)
	var idx []int
	var cs []float64
	for k := range t {
		if c := s.langevinWeight(t[k]); c > 0 {
			idx, cs = append(idx, k), append(cs, c)
		}
	}
	if len(idx) == 0 {
		return
	}
	xs := make([]float64, len(idx)*nd)
	for r, k := range idx {
		copy(xs[r*nd:(r+1)*nd], x[k*nd:(k+1)*nd])
	}
	e, g := make([]float64, len(idx)), make([]float64, len(idx)*nd)
	s.counter.EnergyGrad(xs, e, g)
	s.langevinEvals += int64(len(idx))
	for r := range idx {
		if hasNaN(g[r*nd : (r+1)*nd]) {
			clear(g[r*nd : (r+1)*nd])
		}
	}
	s.negGradG(xs, g)
	sd := s.space.SpatialDim
	for r, k := range idx {
		o := out[k*nd : (k+1)*nd]
		for i, v := range g[r*nd : (r+1)*nd] {
			o[i] = cs[r] * v
		}
		// tamed (Hutzenthaler, Jentzen and Kloeden 2012): per particle the term's drift
		// σ²·term is divided by 1 + Δt·‖σ²·term‖, which leaves an ordinary force almost as it is
		// and stops an explicit step on a stiff wall (a quartic, a 1/r¹²) from throwing the
		// state out, where the next force is larger still
		sig := s.cfg.Schedule.Sigma(t[k])
		h := sig * sig / float64(max(s.cfg.Steps, 1))
		for p := 0; p+sd <= nd; p += sd {
			var n2 float64
			for _, v := range o[p : p+sd] {
				n2 += v * v
			}
			f := 1 / (1 + h*math.Sqrt(n2))
			for i := p; i < p+sd; i++ {
				o[i] *= f
			}
		}
	}
}

// hasNaN says whether v holds a NaN.
func hasNaN(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) {
			return true
		}
	}
	return false
}

// langevinWeight is c(t) of the Langevin term (Config.Langevin): 1/(1 + a·(κ(1) − κ(t))), with
// a the curvature langevinCurvature measured. For a Gaussian exp(−g) of curvature a this is the
// optimal control's exact share of −∇g at time t, whose remaining base variance is κ(1) − κ(t):
// small while the noise still to come is wide against the energy's features, 1 at the end.
// 0 without Config.Langevin.
func (s *Sampler) langevinWeight(t float64) float64 {
	if !s.cfg.Langevin {
		return 0
	}
	v := math.Max(0, s.kappa1-s.cfg.Schedule.Kappa(t))
	return 1 / (1 + s.langevinA*v)
}

// mixWeight returns c(t) of the mixed regression target (Config.MixTarget), the energy form's
// share, and the remaining base variance κ(1) − κ(t) the denoising form divides by. c is
// langevinWeight's 1/(1 + a·(κ(1) − κ(t))), with a the curvature of the buffer the rows are
// drawn from (bufferCurvature); where the remaining variance is below 1e-12 of κ(1) (the end of
// the trajectory) c is 1.
func (s *Sampler) mixWeight(t float64) (c, dk float64) {
	dk = s.kappa1 - s.cfg.Schedule.Kappa(t)
	if !(dk > 1e-12*s.kappa1) {
		return 1, 0
	}
	return 1 / (1 + s.bufferCurvature()*dk), dk
}

// langevinCurvature returns a, the Langevin term's curvature scale, measured on base-process
// terminal states (curvatureOf). For a Gaussian target sampled at the target the mean squared
// force would be its Fisher information per coordinate, E‖∇E/τ‖²/d = tr(∇²E/τ)/d; away from
// the target the forces are larger, so a errs large and c(t) small: the term enters later, not
// sooner. States whose gradient has a NaN are left out.
func (s *Sampler) langevinCurvature() (float64, error) {
	nd := s.space.Dim()
	n := max(s.cfg.Batch, 64)
	x := make([]float64, n*nd)
	if err := s.integrate(x, nil, nil); err != nil {
		return 0, fmt.Errorf("langevin curvature: %w", err)
	}
	e, g := make([]float64, n), make([]float64, n*nd)
	s.counter.EnergyGrad(x, e, g)
	s.langevinEvals += int64(n)
	var xs, ys []float64
	for k := range n {
		if gk := g[k*nd : (k+1)*nd]; !hasNaN(gk) {
			xs, ys = append(xs, x[k*nd:(k+1)*nd]...), append(ys, gk...)
		}
	}
	s.negGradG(xs, ys)
	return s.curvatureOf(len(ys)/nd, func(j int) (x, y []float64) {
		return xs[j*nd : (j+1)*nd], ys[j*nd : (j+1)*nd]
	}), nil
}

// bufferCurvature returns the curvature of the replay buffer as it is now (curvatureOf),
// measured once per state of the buffer (every change clears it): the Langevin term's a after
// each new batch, and the mixed target's weight for the buffer its rows come from, whether
// training's, a seeded one (SeedBuffer, Fit) or given states (LossByTimeOn). Once the buffer
// holds samples near the target the mean squared force is the Fisher information per coordinate
// of exp(−E/τ), which equals its mean curvature (E_π‖∇E/τ‖² = E_π ΔE/τ); early on the forces
// are larger and so is a. Moving a moves only the split of the control between the Langevin
// term and the network, not the regression's target for their sum, so the buffer's samples
// stay valid. An empty buffer gives curvatureOf's largest float64.
func (s *Sampler) bufferCurvature() float64 {
	if !s.bufASet {
		s.bufA, s.bufASet = s.curvatureOf(s.buf.n, s.buf.state), true
	}
	return s.bufA
}

// curvatureOf estimates the curvature of g = E/τ + log p_1^base from n states x_j with their
// targets y_j = −∇g(x_j): the mean squared component of clip(∇E)/τ = −y − ∇log p_1^base, less
// the base's 1/κ(1) (which enters g with a minus sign; not under Config.NoBaseCorrection), and
// at least 0. Non-finite rows are left out; with none left, a is the largest float64 (no
// Langevin term before the end).
func (s *Sampler) curvatureOf(n int, state func(j int) (x, y []float64)) float64 {
	nd := s.space.Dim()
	var score []float64
	if !s.cfg.NoBaseCorrection {
		score = make([]float64, nd)
	}
	var sum float64
	var m int
	for j := range n {
		x, y := state(j)
		if score != nil {
			s.space.BaseScore(x, s.kappa1, score)
		}
		var q float64
		for i, v := range y {
			f := -v
			if score != nil {
				f -= score[i]
			}
			q += f * f
		}
		if math.IsNaN(q) || math.IsInf(q, 0) {
			continue
		}
		sum += q
		m++
	}
	if m == 0 {
		return math.MaxFloat64
	}
	a := sum / float64(m*nd)
	if !s.cfg.NoBaseCorrection {
		a -= 1 / s.kappa1
	}
	return math.Max(a, 0)
}

// ensureLangevin measures the Langevin term's curvature (langevinCurvature) when
// Config.Langevin is set and it has not been measured yet.
func (s *Sampler) ensureLangevin() error {
	if !s.cfg.Langevin || s.langevinSet {
		return nil
	}
	a, err := s.langevinCurvature()
	if err != nil {
		return err
	}
	s.langevinA, s.langevinSet = a, true
	return nil
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
	pick := func() int {
		switch {
		case idx == nil && s.buf.cdf != nil:
			return s.buf.pick(s.rng.Float64())
		case idx == nil:
			return s.rng.IntN(s.buf.n)
		}
		return idx[s.rng.IntN(len(idx))]
	}
	var rb *rbSet
	for b := range rows {
		if mb.rb && b%rbShare == 0 {
			rb = s.rbCandidates(mb, pick)
		}
		j := pick()
		t := time(s.rng.Float64(), b)
		x1, y := s.buf.state(j)
		s.space.Bridge(s.rng, s.cfg.Schedule, t, x1, mb.xt)
		c, dk := 1.0, 0.0
		if s.cfg.MixTarget {
			c, dk = s.mixWeight(t)
		}
		if rb != nil && rb.average(s.cfg.Schedule, t, mb.xt, x1, y) {
			x1, y = rb.x1, rb.y
		}
		for i := range nd {
			mb.x[b*nd+i] = float32(mb.xt[i])
			v := y[i]
			if c < 1 {
				v = c*v + (1-c)*(x1[i]-mb.xt[i])/dk
			}
			mb.y[b*nd+i] = float32(v)
		}
		mb.t[b] = float32(t)
	}
	if s.cfg.Langevin {
		s.langevinTargets(mb, rows)
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
	mb.rb = s.cfg.RBCandidates > 0
	var sum float64
	for step := range n {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		s.draw(mb, tb, s.times.at)
		loss, err := s.model.TrainStep(mb.x, s.netTimes(&mb.tn, mb.t), mb.y)
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

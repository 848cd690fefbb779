package adjoint

import (
	"context"
	"fmt"
	"math"

	"adjoint/lib/sde"
)

// control returns the learned control u(x, t) = σ(t) v_θ(x, t) as the integrators take it
// (under Config.Langevin, u = σ(t)(v_θ(x, t) + c(t)·(−∇g(x))), langevinTerm); it stops with the
// context's error.
func (s *Sampler) control(ctx context.Context) sde.Control {
	var x32, t32, out []float32
	var lt, lts []float64
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
		tn := float32(s.netTimeOf(t))
		for i := range t32 {
			t32[i] = tn
		}
		if err := s.model.Forward(x32, t32, out); err != nil {
			return err
		}
		sig := s.cfg.Schedule.Sigma(t)
		for i, v := range out {
			u[i] = sig * float64(v)
		}
		if s.cfg.Langevin {
			if err := s.ensureLangevin(); err != nil {
				return err
			}
			if cap(lt) < len(x) {
				lt = make([]float64, len(x))
			}
			if cap(lts) < b {
				lts = make([]float64, b)
			}
			lt, lts = lt[:len(x)], lts[:b]
			for i := range lts {
				lts[i] = t
			}
			s.langevinTerm(x, lts, lt)
			for i, v := range lt {
				u[i] += sig * v
			}
		}
		s.boundControl(x, u, sig)
		return nil
	}
}

// boundControl keeps each particle's network output v = u/σ within what a regression target
// can be: the targets −∇g = −(clip(∇E)/τ + ∇log p_1^base) are at most ClipNorm/τ + ‖x‖/κ(1)
// per particle, so v is cut back to 4·ClipNorm/τ + 2‖x_p‖/κ(1). A trained network stays far
// inside; the bound stops an explicit Euler step from feeding a huge output of a network that
// left its training data back into a larger one (on a quartic well, a noise kick beyond the
// step's stability range ran to infinity within a few steps). No bound without ClipNorm.
func (s *Sampler) boundControl(x, u []float64, sig float64) {
	if !(s.cfg.ClipNorm > 0) || !(sig > 0) {
		return
	}
	d := s.space.SpatialDim
	base := 4 * s.cfg.ClipNorm / s.cfg.System.Tau()
	for p := 0; p+d <= len(u); p += d {
		var x2, u2 float64
		for i := p; i < p+d; i++ {
			x2 += x[i] * x[i]
			u2 += u[i] * u[i]
		}
		lim := sig * (base + 2*math.Sqrt(x2)/s.kappa1)
		if !(u2 > lim*lim) { // NaN passes: a NaN output must show, not be hidden
			continue
		}
		if math.IsInf(u2, 1) { // infinite entries keep their direction, the others go
			u2 = 0
			for i := p; i < p+d; i++ {
				if math.IsInf(u[i], 0) {
					u[i] = math.Copysign(1, u[i])
				} else {
					u[i] = 0
				}
				u2 += u[i] * u[i]
			}
		}
		f := lim / math.Sqrt(u2)
		for i := p; i < p+d; i++ {
			u[i] *= f
		}
	}
}

// generate integrates the current model for n new terminal states; the Girsanov path terms are
// added to logw when it is not nil.
func (s *Sampler) generate(ctx context.Context, n int, logw []float64) ([]float64, error) {
	x := make([]float64, n*s.space.Dim())
	if err := s.integrate(x, s.control(ctx), logw); err != nil {
		return nil, err
	}
	return x, nil
}

// integrate runs the configuration's integrator on x.
func (s *Sampler) integrate(x []float64, ctl sde.Control, logw []float64) error {
	if s.cfg.Integrator == IntegratorKappa {
		return s.space.IntegrateKappa(s.rng, s.cfg.Schedule, s.cfg.Steps, x, ctl, logw)
	}
	return s.space.Integrate(s.rng, s.cfg.Schedule, s.cfg.Steps, x, ctl, logw)
}

// baseKappa is the terminal variance of the discretised base chain: κ(1) for the κ-matched
// integrator, Σ_k σ(t_k)² Δt for Euler–Maruyama.
func (s *Sampler) baseKappa() float64 {
	if s.cfg.Integrator == IntegratorKappa {
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

// weigh completes the log importance weights of terminal states x with energies e: it
// subtracts E/τ + log p_1^base(x) (the discretised base chain's terminal marginal) from the
// Girsanov path terms already in logw.
func (s *Sampler) weigh(x, e, logw []float64) {
	kem := s.baseKappa()
	tau := s.cfg.System.Tau()
	lp := make([]float64, len(logw))
	s.space.BaseLogDensity(x, kem, lp)
	for k := range logw {
		logw[k] -= e[k]/tau + lp[k]
	}
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
		if s.cfg.RefineBuffer > 0 {
			var err error
			if x, err = s.refineBatch(ctx, x); err != nil {
				return fmt.Errorf("prefill: %w", err)
			}
		}
		var logw []float64
		if s.cfg.Reweight > 0 {
			logw = make([]float64, b) // the base process has no path terms
		}
		if err := s.addToBuffer(x, nil, logw); err != nil {
			return fmt.Errorf("prefill: %w", err)
		}
	}
	return nil
}

// addToBuffer evaluates ∇E at the configurations x (counted as training evaluations, and the
// non-finite energies among them too), turns it into regression targets and pushes both into the
// replay buffer, stamped with the epochs completed so far. The energies go to e when it is not
// nil. When logw is not nil it holds the samples' Girsanov path terms and is completed into
// their log importance weights (weigh); under Config.Reweight the buffer keeps them and its draw
// distribution is tempered again.
func (s *Sampler) addToBuffer(x, e, logw []float64) error {
	n := len(x) / s.space.Dim()
	if e == nil {
		e = make([]float64, n)
	}
	g := make([]float64, len(x))
	s.counter.EnergyGrad(x, e, g)
	s.trainEvals += int64(n)
	for _, v := range e {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			s.nonFinite++
		}
	}
	if err := s.terminalTargets(x, g); err != nil {
		return err
	}
	var keep []float64
	if logw != nil {
		s.weigh(x, e, logw)
		if s.cfg.Reweight > 0 {
			keep = make([]float64, len(logw))
			for k, l := range logw {
				if math.IsNaN(l) {
					l = math.Inf(-1) // a NaN energy is never drawn
				}
				keep[k] = l
			}
		}
	}
	s.buf.push(x, g, s.epoch, keep)
	s.bufASet = false
	if s.cfg.Reweight > 0 {
		s.reweightBeta, _ = s.buf.temper(s.cfg.Reweight)
	}
	return nil
}

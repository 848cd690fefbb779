package adjoint

import (
	"math"
	"time"

	"adjoint/lib/sde"
)

// kinvPoints is the size of the table that inverts γ(t) = κ(t)/κ(1).
const kinvPoints = 4097

// timeSampler maps the uniform draws of the gradient steps to times, as Config.TimeSampling
// says: uniform in t, or on odd batch rows uniform in γ = κ(t)/κ(1) through a tabulated inverse.
type timeSampler struct {
	kinv []float64 // t at γ = i/(len−1); nil for uniform time
	all  bool      // every row uniform in γ (TimeSigma2), not only the odd ones
}

// newTimeSampler returns the time policy ts for the schedule sch.
func newTimeSampler(ts TimeSampling, sch sde.Schedule) timeSampler {
	switch ts {
	case TimeKappa:
		return timeSampler{kinv: kappaInverse(sch)}
	case TimeSigma2:
		return timeSampler{kinv: kappaInverse(sch), all: true}
	}
	return timeSampler{}
}

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

// at maps a uniform draw u to the time of batch row row: u itself, or for κ time sampling on
// odd rows, the t with κ(t)/κ(1) = u.
func (ts timeSampler) at(u float64, row int) float64 {
	if ts.kinv == nil || (row%2 == 0 && !ts.all) {
		return u
	}
	f := u * float64(kinvPoints-1)
	i := min(int(f), kinvPoints-2)
	w := f - float64(i)
	return (1-w)*ts.kinv[i] + w*ts.kinv[i+1]
}

// netTimeOf is the network's time input at time t (Config.NetTime).
func (s *Sampler) netTimeOf(t float64) float64 {
	if s.cfg.NetTime != NetTimeKappa || !(s.kappa1 > 0) {
		return t
	}
	return 0.5 * (t + s.cfg.Schedule.Kappa(t)/s.kappa1)
}

// netTimes returns the network's time inputs for the times t: t itself under the paper's input,
// else dst (grown as needed) holding them.
func (s *Sampler) netTimes(dst *[]float32, t []float32) []float32 {
	if s.cfg.NetTime == NetTimeT {
		return t
	}
	if cap(*dst) < len(t) {
		*dst = make([]float32, len(t))
	}
	out := (*dst)[:len(t)]
	for i, v := range t {
		out[i] = float32(s.netTimeOf(float64(v)))
	}
	return out
}

// cosineLR is the learning rate at fraction f ∈ [0, 1] of a half-cosine from lr0 to lr1.
func cosineLR(lr0, lr1, f float64) float64 {
	f = min(max(f, 0), 1)
	return lr1 + (lr0-lr1)*0.5*(1+math.Cos(math.Pi*f))
}

// lrPolicy is the learning rate of a training call: constant (Config.LRFinal = 0, the network
// keeps its own), or a half cosine from LR to LRFinal over the run's epochs or over the call's
// duration when it is limited by time.
type lrPolicy struct {
	lr0, lr1          float64
	epochs, gradSteps int           // of the whole run, per epoch
	duration          time.Duration // the call's time limit (0: none)
}

// newLRPolicy returns the learning-rate policy of cfg for a call limited by duration.
func newLRPolicy(cfg Config, duration time.Duration) lrPolicy {
	return lrPolicy{lr0: cfg.LR, lr1: cfg.LRFinal, epochs: cfg.Epochs, gradSteps: cfg.GradSteps, duration: duration}
}

// annealed reports whether the policy changes the learning rate.
func (p lrPolicy) annealed() bool { return p.lr1 > 0 }

// atStart is the learning rate at the start of a call that begins after epoch epochs.
func (p lrPolicy) atStart(epoch int) float64 {
	f := float64(epoch) / float64(max(p.epochs, 1))
	if p.duration > 0 {
		f = 0
	}
	return cosineLR(p.lr0, p.lr1, f)
}

// atStep is the learning rate after step steps of the epoch that follows epoch completed ones,
// elapsed into the call.
func (p lrPolicy) atStep(epoch, step int, elapsed time.Duration) float64 {
	var f float64
	if p.duration > 0 {
		f = float64(elapsed) / float64(p.duration)
	} else {
		f = (float64(epoch) + float64(step)/float64(max(p.gradSteps, 1))) / float64(max(p.epochs, 1))
	}
	return cosineLR(p.lr0, p.lr1, f)
}

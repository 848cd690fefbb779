package mcmc

import (
	"context"
	"fmt"
	"time"

	"adjoint/lib/energy"
)

// RefineOptions configures Refine. Zero values select the defaults in brackets.
type RefineOptions struct {
	Method       string  // MALA, HMC or Gibbs (a step is then a sweep over the coordinates; no adaptation) [MALA]
	Step         float64 // initial step size of every chain [0.01 MALA, 0.05 HMC]
	Leapfrog     int     // leapfrog steps per HMC move [10]
	TargetAccept float64 // acceptance aimed at while adapting [0.57 MALA, 0.65 HMC]
	Adapt        int     // the first Adapt of the steps adapt each chain's step size, then frozen at its average over their second half [steps/2]; negative: none
	Seed         uint64  // seed: equal seeds give equal results
}

// Refine makes steps MALA or HMC moves (or Gibbs sweeps) on the true energy from each configuration in x
// (row-major, sys.Dim() numbers each; one chain per configuration) and returns the final
// states: samples of an approximate sampler (a trained controller, a wrong Gaussian) moved
// towards exp(−E/τ). Accept is the mean acceptance of the moves after adaptation (of all
// moves when there was none). It fails when the energy gives no gradient.
func Refine(ctx context.Context, sys *energy.System, x []float64, steps int, opt RefineOptions) (*Result, error) {
	start := time.Now()
	if steps < 1 {
		return nil, fmt.Errorf("mcmc: refine: %d steps", steps)
	}
	k, err := NewKernel(sys, opt.Method, KernelOptions{Step: opt.Step, Leapfrog: opt.Leapfrog, Seed: opt.Seed})
	if err != nil {
		return nil, fmt.Errorf("mcmc: refine: %w", err)
	}
	s, err := k.Init(x)
	if err != nil {
		return nil, fmt.Errorf("mcmc: refine: %w", err)
	}
	target := opt.TargetAccept
	if !(target > 0 && target < 1) {
		target = DefaultTarget(k.Method())
	}
	nAdapt := opt.Adapt
	switch {
	case nAdapt == 0:
		nAdapt = steps / 2
	case nAdapt < 0:
		nAdapt = 0
	}
	nAdapt = min(nAdapt, steps)
	if k.Method() == Gibbs {
		nAdapt = 0 // nothing to adapt
	}
	adapt := NewAdapter(target)
	half := nAdapt / 2
	accSum, accN := 0.0, 0
	for t := range steps {
		if err := k.Step(ctx, s); err != nil {
			return nil, fmt.Errorf("mcmc: refine: stopped after %d of %d steps: %w", t, steps, err)
		}
		if t < nAdapt {
			adapt.Update(s, t >= half)
			if t == nAdapt-1 {
				adapt.Freeze(s)
			}
			if nAdapt < steps {
				continue
			}
		}
		for _, a := range s.Accept {
			accSum += a
		}
		accN += len(s.Accept)
	}
	res := &Result{System: sys.Name, Method: k.Method(), Samples: s.X, Energies: s.E, N: s.Chains(), Dim: k.Dim(),
		Chains: s.Chains(), Evals: s.Evals}
	if accN > 0 {
		res.Accept = accSum / float64(accN)
	}
	res.MeanStep, _ = meanSD(s.Step)
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

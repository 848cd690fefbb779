package main

import (
	"context"
	"fmt"
	"math"

	"adjoint/lib/adjoint"
	"adjoint/lib/energy"
	"adjoint/lib/mcmc"
)

// refineSamples moves each sample by steps MALA moves on the true energy (mcmc.Refine, step
// sizes adapted over the first half) and returns the refined samples with their energies. The
// path weights do not survive the moves: the result's log weights are all 0 (equal weights).
// It fails with one line when the energy gives no gradient.
func refineSamples(ctx context.Context, sm *adjoint.Samples, sys *energy.System, steps int, method string, seed uint64) (*adjoint.Samples, *mcmc.Result, error) {
	res, err := mcmc.Refine(ctx, sys, sm.X, steps, mcmc.RefineOptions{Method: method, Seed: seed})
	if err != nil {
		return nil, nil, fmt.Errorf("--refine: %w", err)
	}
	out := &adjoint.Samples{N: sm.N, Particles: sm.Particles, SpatialDim: sm.SpatialDim,
		X: res.Samples, Energy: res.Energies, LogW: make([]float64, sm.N), ESS: float64(sm.N)}
	for i, e := range out.Energy {
		if math.IsInf(e, 0) {
			out.Energy[i] = math.NaN()
		}
	}
	return out, res, nil
}

package dsl

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"adjoint/lib/adjoint"
	"adjoint/lib/display"
	"adjoint/lib/mcmc"
)

// weighting says what the log weights of samples are worth.
type weighting int

const (
	// importanceWeights: drawn by a sampler, LogW are the log importance weights.
	importanceWeights weighting = iota
	// equalWeights: resampled by their importance weights (and perhaps refined afterwards):
	// the samples represent the target with equal weights, LogW are all 0.
	equalWeights
	// noWeights: refined from importance-weighted samples; LogW are set to 0 but are no
	// importance weights (as with `adjoint sample --refine` without --resample).
	noWeights
)

// sampleInfo is what a session knows of samples beyond their values.
type sampleInfo struct {
	seed uint64 // the seed of the sampler that drew them; resampling and refining use it
	w    weighting
	note string // how they were corrected, shown with them
}

// refineMethods are the MCMC methods of refine … method NAME.
var refineMethods = []string{mcmc.MALA, mcmc.HMC, mcmc.Gibbs}

// sampleStep plans `NAME = sample S N [resample]`: draw N samples; with resample, show the
// diagnostics of their importance weights (with their warnings) and resample them
// systematically by those weights (Samples.Resample with the sampler's seed, as `adjoint sample
// --resample`). Nothing is bound when resampling fails.
func (c *checker) sampleStep(st *Assign, v *Sample) {
	name := st.Name.Name
	if _, ok := c.lookup(v.Sampler, kSampler); !ok {
		return
	}
	n, ok := c.posInt(v.N, "the number of samples")
	if !ok {
		return
	}
	c.kinds[name] = kSamples
	c.weights[name] = importanceWeights
	if v.Resample {
		c.weights[name] = equalWeights
	}
	c.add(st.P, func(ctx context.Context, env *runEnv) error {
		smp := env.s.values[v.Sampler.Name].(*adjoint.Sampler)
		x, err := smp.SampleContext(ctx, n)
		if err != nil {
			return fmt.Errorf("sample %s: %w", v.Sampler.Name, err)
		}
		info := sampleInfo{seed: uint64(smp.Config().Seed)}
		if !v.Resample {
			for _, w := range x.Warnings() {
				env.print("warning: " + w)
			}
		} else {
			for _, w := range x.Coverage.Warnings() {
				env.print("warning: " + w)
			}
		}
		if v.Resample {
			d := x.Diagnostics()
			t := d.Table()
			t.Caption = fmt.Sprintf("importance weights of the %d samples drawn from %s, before resampling", n, v.Sampler.Name)
			env.show(t)
			if x, err = x.Resample(info.seed); err != nil {
				return fmt.Errorf("sample %s: %w; %s is left as it was", v.Sampler.Name, err, name)
			}
			info.w = equalWeights
			info.note = fmt.Sprintf("resampled systematically by the importance weights of %d draws (ESS %.1f): equally weighted", n, d.ESS)
			env.print(fmt.Sprintf("resampled %d samples by their importance weights (systematic): equally weighted", x.N))
		}
		env.s.origin[x] = env.s.origin[smp]
		env.s.info[x] = info
		env.bind(name, x)
		return nil
	})
}

// refine checks `refine X K [method M]` (into is X) and `Y = refine X K …` (into is Y): K MALA
// or HMC moves on the true energy of X's system from each sample (mcmc.Refine, with the seed
// of the sampler that drew X, as `adjoint sample --refine K`). The refined samples have log
// weights 0: equally weighted when X was (resampled), else without importance weights.
func (c *checker) refine(r *Refine, into string) {
	var okX bool
	if c.kinds[r.X.Name] == kSampler {
		c.errorf(r.X.P, "draw samples first: x = sample "+r.X.Name+" N, then refine x K", "%s is a sampler, samples is needed here", r.X.Name)
	} else {
		_, okX = c.lookup(r.X, kSamples)
	}
	steps, okK := c.posInt(r.Steps, "the number of moves")
	method := mcmc.MALA
	if r.Method != nil {
		method = strings.ToLower(r.Method.Name)
		if !slices.Contains(refineMethods, method) {
			c.errorf(r.Method.P, orList(nearest(r.Method.Name, refineMethods), "methods are "+joinWords(refineMethods)), "unknown refine method %q", r.Method.Name)
			return
		}
	}
	if !okX || !okK {
		return
	}
	w := noWeights
	if c.weights[r.X.Name] == equalWeights {
		w = equalWeights
	}
	c.kinds[into] = kSamples
	c.weights[into] = w
	x := r.X.Name
	c.add(r.P, func(ctx context.Context, env *runEnv) error {
		sm, ok := env.s.values[x].(*adjoint.Samples)
		if !ok {
			return fmt.Errorf("refine: %s holds no samples", x)
		}
		sys := env.s.origin[sm]
		if sys == nil {
			return fmt.Errorf("refine %s: the system of the samples is unknown", x)
		}
		info := env.s.info[sm]
		res, err := mcmc.Refine(ctx, sys, sm.X, steps, mcmc.RefineOptions{Method: method, Seed: info.seed})
		if err != nil {
			return fmt.Errorf("refine %s: %w", x, err)
		}
		out := &adjoint.Samples{N: sm.N, Particles: sm.Particles, SpatialDim: sm.SpatialDim,
			X: res.Samples, Energy: res.Energies, LogW: make([]float64, sm.N), ESS: float64(sm.N)}
		for i, e := range out.Energy {
			if math.IsInf(e, 0) {
				out.Energy[i] = math.NaN()
			}
		}
		moves := fmt.Sprintf("%d %s moves on the true energy", steps, strings.ToUpper(res.Method))
		info.w = noWeights
		info.note = "refined by " + moves + ": the importance weights no longer apply (log weights set to 0)"
		if env.s.info[sm].w == equalWeights {
			info.w = equalWeights
			info.note = "resampled, then refined by " + moves + ": equally weighted"
		}
		env.s.origin[out] = sys
		env.s.info[out] = info
		env.bind(into, out)
		env.print(fmt.Sprintf("refined %d samples of %s by %s (acceptance %.3f, %d energy evaluations)", out.N, x, moves, res.Accept, res.Evals))
		return nil
	})
}

// hasWeights reports at check time that weights(X) has importance weights to show or save:
// not so for samples refined from weighted ones.
func (c *checker) hasWeights(id *Ident) bool {
	if c.weights[id.Name] == noWeights {
		c.errorf(id.P, "resample before refining (x = sample S N resample) to keep equal weights, or leave weights("+id.Name+") out",
			"%s holds refined samples, which carry no importance weights", id.Name)
		return false
	}
	return true
}

// samplesTable is the summary of samples, with the note of a correction: the log Z of equal
// weights estimates nothing, so its cell is a dash, and samples without importance weights show
// no ESS and no largest weight share either.
func (s *Session) samplesTable(sm *adjoint.Samples) *display.Table {
	t := sm.Table()
	info, ok := s.info[sm]
	if !ok || info.w == importanceWeights {
		return t
	}
	dash := map[string]bool{"log Z ± se": true}
	if info.w == noWeights {
		dash["ESS"], dash["ESS / N"], dash["max weight share"] = true, true, true
	}
	for i, h := range t.Header {
		if !dash[h] {
			continue
		}
		for _, row := range t.Rows {
			if i < len(row) {
				row[i] = "–"
			}
		}
	}
	if t.Caption != "" {
		t.Caption = info.note + "\n" + t.Caption
	} else {
		t.Caption = info.note
	}
	return t
}

// Package mcmc draws reference samples from a Boltzmann density exp(−E/τ) with many parallel
// Markov chains: MALA (Metropolis-adjusted Langevin) or HMC, moves projected onto the zero
// centre-of-mass space when the system is translation invariant, step sizes adapted during
// warm-up towards a target acceptance, and an optional anneal from a higher temperature.
// It also checks samples against the integration-by-parts identities of a Boltzmann density.
package mcmc

import (
	"context"
	"fmt"
	"math"
	"time"

	"adjoint/lib/display"
	"adjoint/lib/energy"
)

// Methods.
const (
	MALA = "mala"
	HMC  = "hmc"
	// Gibbs sweeps the coordinates one at a time, each by an exact Metropolis–Hastings
	// independence move from a grid of the conditional density (see Kernel.Step): no gradient,
	// GibbsGrid+2 energy evaluations per coordinate, and moves across barriers along a
	// coordinate. Systems with translation symmetry are refused.
	Gibbs = "gibbs"
)

// Options configures Sample. Zero values select the defaults in brackets.
type Options struct {
	Method        string        // MALA or HMC [MALA]
	Samples       int           // samples to return [1000]
	Chains        int           // parallel chains [min(Samples, 1000)]
	Burn          int           // warm-up steps per chain: annealing and step adaptation [1000]
	Thin          int           // steps between kept samples of a chain [10]
	Step          float64       // initial step size [0.01 × typical length]
	TargetAccept  float64       // acceptance aimed at during warm-up [0.57 MALA, 0.65 HMC]
	Leapfrog      int           // leapfrog steps per HMC move [10]
	AnnealFrom    float64       // start temperature as a multiple of τ, lowered geometrically to 1 over the first half of the warm-up [1: none]
	Seed          uint64        // seed: equal seeds give equal samples
	Init          []float64     // initial configurations (Chains × dim, or one configuration for all chains) [random lattice or N(0,1)]
	InitSpacing   float64       // lattice spacing of the random start of particle systems [1]
	ReportEvery   time.Duration // time between progress reports [500ms]
	ProgressTitle string        // task name of the progress view [mcmc SYSTEM]
}

// Result holds the kept samples and sampler statistics.
type Result struct {
	System   string
	Method   string
	Samples  []float64 // N × dim, row-major, in the zero-CoM space when the system is translation invariant
	Energies []float64 // energy of each sample
	N, Dim   int
	Chains   int
	Accept   float64 // acceptance rate after warm-up
	MeanStep float64 // mean step size after warm-up
	Seconds  float64
	Evals    int64 // energy evaluations (configurations)
}

// Table summarises the run.
func (r *Result) Table() *display.Table {
	m, sd := meanSD(r.Energies)
	t := &display.Table{Caption: fmt.Sprintf("%s samples of %s", r.Method, r.System), Header: []string{"quantity", "value"}}
	t.AddRow("samples", r.N)
	t.AddRow("chains", r.Chains)
	t.AddRow("mean energy", m)
	t.AddRow("sd energy", sd)
	t.AddRow("acceptance", r.Accept)
	t.AddRow("mean step", r.MeanStep)
	t.AddRow("energy evaluations", r.Evals)
	t.AddRow("seconds", r.Seconds)
	return t
}

// MIMEBundle renders the summary table.
func (r *Result) MIMEBundle() display.Bundle { return r.Table().MIMEBundle() }

// MeanEnergy returns the mean and standard deviation of the sample energies.
func (r *Result) MeanEnergy() (mean, sd float64) { return meanSD(r.Energies) }

func meanSD(v []float64) (float64, float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	m := 0.0
	for _, x := range v {
		m += x
	}
	m /= float64(len(v))
	s := 0.0
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	if len(v) > 1 {
		s /= float64(len(v) - 1)
	}
	return m, math.Sqrt(s)
}

// Sample is SampleContext under the front end's cancellation (display.Context).
func Sample(sys *energy.System, opt Options) (*Result, error) {
	return SampleContext(display.Context(), sys, opt)
}

func (o *Options) defaults(sys *energy.System) error {
	if o.Method == "" {
		o.Method = MALA
	}
	if o.Method == Gibbs {
		return fmt.Errorf("mcmc: gibbs refines samples that a sampler drew (Refine; adjoint sample --refine-method gibbs, adjoint mcmc --refine): its proposal intervals come from them; sample with mala or hmc")
	}
	if o.Method != MALA && o.Method != HMC {
		return fmt.Errorf("mcmc: unknown method %q (mala or hmc)", o.Method)
	}
	if o.Samples <= 0 {
		o.Samples = 1000
	}
	if o.Chains <= 0 {
		o.Chains = min(o.Samples, 1000)
	}
	if o.Burn < 0 || o.Thin < 0 || o.Leapfrog < 0 {
		return fmt.Errorf("mcmc: negative burn, thin or leapfrog count")
	}
	if o.Burn == 0 {
		o.Burn = 1000
	}
	if o.Thin == 0 {
		o.Thin = 10
	}
	if o.Leapfrog == 0 {
		o.Leapfrog = 10
	}
	if o.TargetAccept <= 0 || o.TargetAccept >= 1 {
		o.TargetAccept = DefaultTarget(o.Method)
	}
	if o.AnnealFrom < 1 {
		o.AnnealFrom = 1
	}
	if o.InitSpacing <= 0 {
		o.InitSpacing = 1
	}
	if o.Step <= 0 {
		o.Step = 0.01 * o.InitSpacing
		if o.Method == HMC {
			o.Step = 0.05 * o.InitSpacing
		}
	}
	if o.ReportEvery <= 0 {
		o.ReportEvery = 500 * time.Millisecond
	}
	if o.ProgressTitle == "" {
		o.ProgressTitle = "mcmc " + sys.Name
	}
	return nil
}

// SampleContext runs the chains and returns opt.Samples samples. Each chain makes opt.Burn
// warm-up moves (temperature annealed from AnnealFrom·τ to τ over the first half; step size
// adapted per chain towards TargetAccept throughout, then frozen), then keeps one sample every
// Thin moves. Samples are ordered by round, chain.
func SampleContext(ctx context.Context, sys *energy.System, opt Options) (*Result, error) {
	if sys == nil {
		return nil, fmt.Errorf("mcmc: no system")
	}
	if err := sys.Validate(); err != nil {
		return nil, fmt.Errorf("mcmc: %w", err)
	}
	if err := opt.defaults(sys); err != nil {
		return nil, err
	}
	start := time.Now()
	k, err := NewKernel(sys, opt.Method, KernelOptions{Step: opt.Step, Leapfrog: opt.Leapfrog, Seed: opt.Seed})
	if err != nil {
		return nil, err
	}
	C, dim := opt.Chains, k.Dim()
	var s *State
	switch {
	case len(opt.Init) == C*dim:
		s, err = k.Init(opt.Init)
	case len(opt.Init) == dim:
		x := make([]float64, C*dim)
		for c := range C {
			copy(x[c*dim:(c+1)*dim], opt.Init)
		}
		s, err = k.Init(x)
	case len(opt.Init) != 0:
		return nil, fmt.Errorf("mcmc: Init has %d numbers, want %d (one configuration) or %d (one per chain)", len(opt.Init), dim, C*dim)
	default:
		s, err = k.InitRandom(C, opt.InitSpacing)
	}
	if err != nil {
		return nil, err
	}
	tau := sys.Tau()
	rounds := (opt.Samples + C - 1) / C
	total := opt.Burn + rounds*opt.Thin
	res := &Result{System: sys.Name, Method: opt.Method, Dim: dim, Chains: C,
		Samples: make([]float64, 0, rounds*C*dim), Energies: make([]float64, 0, rounds*C)}
	rep := display.NewReporter(opt.ProgressTitle)
	lastReport := time.Time{}
	accSum, accN := 0.0, 0
	halfBurn := max(opt.Burn/2, 1)
	adapt := NewAdapter(opt.TargetAccept)
	for t := range total {
		if err := ctx.Err(); err != nil {
			rep.Finish(display.Progress{Task: opt.ProgressTitle, Step: t, Steps: total, Elapsed: time.Since(start), Done: true})
			return nil, fmt.Errorf("mcmc: stopped after %d of %d steps: %w", t, total, err)
		}
		s.Temperature = tau
		if t < halfBurn && opt.AnnealFrom > 1 {
			s.Temperature = tau * math.Pow(opt.AnnealFrom, 1-float64(t)/float64(halfBurn))
		}
		if err := k.Step(ctx, s); err != nil {
			return nil, err
		}
		if t < opt.Burn {
			adapt.Update(s, t >= halfBurn)
			if t == opt.Burn-1 {
				// Freeze each chain's step at its average over the second half of the warm-up.
				adapt.Freeze(s)
			}
		} else {
			for _, a := range s.Accept {
				accSum += a
			}
			accN += C
			if (t-opt.Burn+1)%opt.Thin == 0 {
				res.Samples = append(res.Samples, s.X...)
				res.Energies = append(res.Energies, s.E...)
			}
		}
		if time.Since(lastReport) >= opt.ReportEvery || t == total-1 {
			lastReport = time.Now()
			me, _ := meanSD(s.E)
			ma, _ := meanSD(s.Accept)
			ms, _ := meanSD(s.Step)
			el := time.Since(start)
			p := display.Progress{Task: opt.ProgressTitle, Step: t + 1, Steps: total, Elapsed: el,
				SamplesPerSec: float64(len(res.Energies)) / el.Seconds(),
				Extra:         map[string]float64{"mean energy": me, "acceptance": ma, "step": ms, "temperature": s.Temperature}}
			if t > 0 {
				p.ETA = time.Duration(float64(el) * float64(total-t-1) / float64(t+1))
			}
			rep.Report(p)
		}
	}
	res.Samples = res.Samples[:opt.Samples*dim]
	res.Energies = res.Energies[:opt.Samples]
	res.N = opt.Samples
	if accN > 0 {
		res.Accept = accSum / float64(accN)
	}
	res.MeanStep, _ = meanSD(s.Step)
	res.Seconds = time.Since(start).Seconds()
	res.Evals = s.Evals
	rep.Finish(display.Progress{Task: opt.ProgressTitle, Step: total, Steps: total, Elapsed: time.Since(start), Done: true})
	return res, nil
}

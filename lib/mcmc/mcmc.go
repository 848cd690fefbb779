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
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"adjoint/lib/display"
	"adjoint/lib/energy"
)

// Methods.
const (
	MALA = "mala"
	HMC  = "hmc"
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

// project removes the per-configuration particle mean of v (n particles × d) in place.
func project(v []float64, n, d int) {
	for k := range d {
		s := 0.0
		for p := range n {
			s += v[p*d+k]
		}
		s /= float64(n)
		for p := range n {
			v[p*d+k] -= s
		}
	}
}

// sampler holds the state of all chains.
type sampler struct {
	sys        *energy.System
	opt        Options
	n, d, dim  int
	chains     int
	proj       bool
	x, e, g    []float64 // current state
	y, ey, gy  []float64 // proposal
	p          []float64 // HMC momenta
	h0         []float64 // HMC start Hamiltonians
	step       []float64
	rngs       []*rand.Rand
	acc        []float64 // acceptance probability of the last move per chain
	evals      int64
	logStepAvg []float64
}

func (s *sampler) energyGrad(x, e, g []float64) {
	s.sys.Energy.EnergyGrad(x, e, g)
	s.evals += int64(len(e))
}

// parallel runs fn over chain ranges on all cores; each chain has its own generator, so the
// result does not depend on scheduling.
func (s *sampler) parallel(fn func(lo, hi int)) {
	p := min(runtime.GOMAXPROCS(0), s.chains)
	if p < 2 {
		fn(0, s.chains)
		return
	}
	var wg sync.WaitGroup
	chunk := (s.chains + p - 1) / p
	for lo := 0; lo < s.chains; lo += chunk {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, min(lo+chunk, s.chains))
	}
	wg.Wait()
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// malaStep makes one MALA move of every chain at temperature tau.
func (s *sampler) malaStep(tau float64) {
	dim := s.dim
	s.parallel(func(lo, hi int) {
		for c := lo; c < hi; c++ {
			h := s.step[c]
			x, g, y := s.x[c*dim:(c+1)*dim], s.g[c*dim:(c+1)*dim], s.y[c*dim:(c+1)*dim]
			r := s.rngs[c]
			for i := range y {
				y[i] = h * r.NormFloat64()
			}
			if s.proj {
				project(y, s.n, s.d)
			}
			for i := range y {
				y[i] += x[i] - 0.5*h*h*g[i]/tau
			}
		}
	})
	s.energyGrad(s.y, s.ey, s.gy)
	s.parallel(func(lo, hi int) {
		for c := lo; c < hi; c++ {
			h := s.step[c]
			x, g := s.x[c*dim:(c+1)*dim], s.g[c*dim:(c+1)*dim]
			y, gy := s.y[c*dim:(c+1)*dim], s.gy[c*dim:(c+1)*dim]
			logA := math.Inf(-1)
			if finite(s.ey[c]) {
				// log q(x|y) − log q(y|x) for the Langevin proposal.
				fwd, bwd := 0.0, 0.0
				for i := range x {
					a := y[i] - x[i] + 0.5*h*h*g[i]/tau
					b := x[i] - y[i] + 0.5*h*h*gy[i]/tau
					fwd += a * a
					bwd += b * b
				}
				logA = -(s.ey[c]-s.e[c])/tau - (bwd-fwd)/(2*h*h)
			}
			a := 0.0
			if !math.IsNaN(logA) {
				a = math.Exp(min(0, logA))
			}
			s.acc[c] = a
			if s.rngs[c].Float64() < a {
				copy(x, y)
				copy(g, gy)
				s.e[c] = s.ey[c]
			}
		}
	})
}

// hmcStep makes one HMC move (Leapfrog steps) of every chain at temperature tau. The
// potential is E/τ and the momenta are standard normal (projected).
func (s *sampler) hmcStep(tau float64) {
	dim := s.dim
	L := s.opt.Leapfrog
	if len(s.h0) != s.chains {
		s.h0 = make([]float64, s.chains)
	}
	h0 := s.h0
	s.parallel(func(lo, hi int) {
		for c := lo; c < hi; c++ {
			p := s.p[c*dim : (c+1)*dim]
			r := s.rngs[c]
			for i := range p {
				p[i] = r.NormFloat64()
			}
			if s.proj {
				project(p, s.n, s.d)
			}
			k := 0.0
			for _, v := range p {
				k += v * v
			}
			h0[c] = s.e[c]/tau + 0.5*k
			copy(s.y[c*dim:(c+1)*dim], s.x[c*dim:(c+1)*dim])
			copy(s.gy[c*dim:(c+1)*dim], s.g[c*dim:(c+1)*dim])
		}
	})
	for range L {
		s.parallel(func(lo, hi int) {
			for c := lo; c < hi; c++ {
				h := s.step[c]
				p, y, gy := s.p[c*dim:(c+1)*dim], s.y[c*dim:(c+1)*dim], s.gy[c*dim:(c+1)*dim]
				for i := range p {
					p[i] -= 0.5 * h * gy[i] / tau
					y[i] += h * p[i]
				}
			}
		})
		s.energyGrad(s.y, s.ey, s.gy)
		s.parallel(func(lo, hi int) {
			for c := lo; c < hi; c++ {
				h := s.step[c]
				p, gy := s.p[c*dim:(c+1)*dim], s.gy[c*dim:(c+1)*dim]
				for i := range p {
					p[i] -= 0.5 * h * gy[i] / tau
				}
			}
		})
	}
	s.parallel(func(lo, hi int) {
		for c := lo; c < hi; c++ {
			p := s.p[c*dim : (c+1)*dim]
			a := 0.0
			if finite(s.ey[c]) {
				k := 0.0
				for _, v := range p {
					k += v * v
				}
				dH := s.ey[c]/tau + 0.5*k - h0[c]
				if !math.IsNaN(dH) {
					a = math.Exp(min(0, -dH))
				}
			}
			s.acc[c] = a
			if s.rngs[c].Float64() < a {
				copy(s.x[c*dim:(c+1)*dim], s.y[c*dim:(c+1)*dim])
				copy(s.g[c*dim:(c+1)*dim], s.gy[c*dim:(c+1)*dim])
				s.e[c] = s.ey[c]
			}
		}
	})
}

func (o *Options) defaults(sys *energy.System) error {
	if o.Method == "" {
		o.Method = MALA
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
		o.TargetAccept = 0.57
		if o.Method == HMC {
			o.TargetAccept = 0.65
		}
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

// initialise fills the chains' start configurations.
func (s *sampler) initialise() error {
	dim := s.dim
	switch {
	case len(s.opt.Init) == s.chains*dim:
		copy(s.x, s.opt.Init)
	case len(s.opt.Init) == dim:
		for c := range s.chains {
			copy(s.x[c*dim:(c+1)*dim], s.opt.Init)
		}
	case len(s.opt.Init) != 0:
		return fmt.Errorf("mcmc: Init has %d numbers, want %d (one configuration) or %d (one per chain)", len(s.opt.Init), dim, s.chains*dim)
	case s.n > 1:
		// Particles on a randomly shifted, jittered cubic lattice, randomly assigned to sites.
		side := int(math.Ceil(math.Pow(float64(s.n), 1/float64(s.d))))
		sites := 1
		for range s.d {
			sites *= side
		}
		for c := range s.chains {
			r := s.rngs[c]
			perm := r.Perm(sites)
			x := s.x[c*dim : (c+1)*dim]
			for p := range s.n {
				site := perm[p]
				for k := range s.d {
					x[p*s.d+k] = (float64(site%side) + 0.1*r.NormFloat64()) * s.opt.InitSpacing
					site /= side
				}
			}
		}
	default:
		for c := range s.chains {
			for i := range dim {
				s.x[c*dim+i] = s.rngs[c].NormFloat64()
			}
		}
	}
	if s.proj {
		for c := range s.chains {
			project(s.x[c*dim:(c+1)*dim], s.n, s.d)
		}
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
	if sys.Periodic() {
		return nil, fmt.Errorf("mcmc: periodic systems are not supported")
	}
	if err := opt.defaults(sys); err != nil {
		return nil, err
	}
	start := time.Now()
	n, d := sys.Energy.Particles(), sys.Energy.SpatialDim()
	C, dim := opt.Chains, n*d
	s := &sampler{sys: sys, opt: opt, n: n, d: d, dim: dim, chains: C, proj: sys.Symmetry.Translation && n > 1,
		x: make([]float64, C*dim), e: make([]float64, C), g: make([]float64, C*dim),
		y: make([]float64, C*dim), ey: make([]float64, C), gy: make([]float64, C*dim),
		step: make([]float64, C), rngs: make([]*rand.Rand, C), acc: make([]float64, C), logStepAvg: make([]float64, C)}
	if opt.Method == HMC {
		s.p = make([]float64, C*dim)
	}
	for c := range C {
		s.rngs[c] = rand.New(rand.NewPCG(opt.Seed, uint64(c)+0x9e3779b97f4a7c15))
		s.step[c] = opt.Step
	}
	if err := s.initialise(); err != nil {
		return nil, err
	}
	s.energyGrad(s.x, s.e, s.g)
	tau := sys.Tau()
	rounds := (opt.Samples + C - 1) / C
	total := opt.Burn + rounds*opt.Thin
	res := &Result{System: sys.Name, Method: opt.Method, Dim: dim, Chains: C,
		Samples: make([]float64, 0, rounds*C*dim), Energies: make([]float64, 0, rounds*C)}
	rep := display.NewReporter(opt.ProgressTitle)
	lastReport := time.Time{}
	accSum, accN := 0.0, 0
	halfBurn := max(opt.Burn/2, 1)
	for t := range total {
		if err := ctx.Err(); err != nil {
			rep.Finish(display.Progress{Task: opt.ProgressTitle, Step: t, Steps: total, Elapsed: time.Since(start), Done: true})
			return nil, fmt.Errorf("mcmc: stopped after %d of %d steps: %w", t, total, err)
		}
		temp := tau
		if t < halfBurn && opt.AnnealFrom > 1 {
			temp = tau * math.Pow(opt.AnnealFrom, 1-float64(t)/float64(halfBurn))
		}
		if opt.Method == HMC {
			s.hmcStep(temp)
		} else {
			s.malaStep(temp)
		}
		if t < opt.Burn {
			// Robbins–Monro on the log step size, per chain, with a decaying gain.
			gain := 1 / math.Pow(float64(t)+10, 0.6)
			for c := range C {
				ls := math.Log(s.step[c]) + gain*(s.acc[c]-opt.TargetAccept)
				s.step[c] = math.Exp(max(-20, min(3, ls)))
				if t >= halfBurn {
					s.logStepAvg[c] += ls
				}
			}
			if t == opt.Burn-1 {
				// Freeze each chain's step at its average over the second half of the warm-up.
				k := float64(opt.Burn - halfBurn)
				for c := range C {
					if k > 0 {
						s.step[c] = math.Exp(s.logStepAvg[c] / k)
					}
				}
			}
		} else {
			for _, a := range s.acc {
				accSum += a
			}
			accN += C
			if (t-opt.Burn+1)%opt.Thin == 0 {
				res.Samples = append(res.Samples, s.x...)
				res.Energies = append(res.Energies, s.e...)
			}
		}
		if time.Since(lastReport) >= opt.ReportEvery || t == total-1 {
			lastReport = time.Now()
			me, _ := meanSD(s.e)
			ma, _ := meanSD(s.acc)
			ms, _ := meanSD(s.step)
			el := time.Since(start)
			p := display.Progress{Task: opt.ProgressTitle, Step: t + 1, Steps: total, Elapsed: el,
				SamplesPerSec: float64(len(res.Energies)) / el.Seconds(),
				Extra:         map[string]float64{"mean energy": me, "acceptance": ma, "step": ms, "temperature": temp}}
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
	res.MeanStep, _ = meanSD(s.step)
	res.Seconds = time.Since(start).Seconds()
	res.Evals = s.evals
	rep.Finish(display.Progress{Task: opt.ProgressTitle, Step: total, Steps: total, Elapsed: time.Since(start), Done: true})
	return res, nil
}

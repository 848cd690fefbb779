package mcmc

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"adjoint/internal/parallel"
	"adjoint/lib/energy"
	"adjoint/lib/sde"
)

// KernelOptions configures a Kernel. Zero values select the defaults in brackets.
type KernelOptions struct {
	Step     float64 // initial step size of every chain [0.01 MALA, 0.05 HMC]
	Leapfrog int     // leapfrog steps per HMC move [10]
	Seed     uint64  // seed of the chains' generators (chain c draws from stream c): equal seeds give equal chains
}

// Kernel is a Markov transition kernel (MALA, HMC or Gibbs) for exp(−E/τ) of a system, applied to
// a batch of chains at once (one batched energy evaluation per gradient). A sampler is built
// from Init (start states), Step (one move of every chain) and an Adapter (step sizes during
// warm-up); Sample, SampleContext and Refine are such drivers.
//
// On translation-invariant particle systems (Symmetry.Translation, n > 1) proposals, momenta
// and gradients are projected onto the zero centre-of-mass space. On periodic systems
// (System.Box) positions are wrapped into the box after every move; the energy must itself be
// periodic (minimum-image distances, as the DSL's r[i,j] on a box), and the acceptance uses
// the unwrapped displacement, so the chain is exact on the torus.
type Kernel struct {
	sys      *energy.System
	method   string
	space    sde.Space
	n, d     int
	dim      int
	proj     bool
	leapfrog int
	step     float64
	seed     uint64
}

// NewMALA returns the Metropolis-adjusted Langevin kernel of sys.
func NewMALA(sys *energy.System, opt KernelOptions) (*Kernel, error) {
	return NewKernel(sys, MALA, opt)
}

// NewHMC returns the Hamiltonian Monte Carlo kernel of sys (standard normal momenta,
// opt.Leapfrog leapfrog steps per move).
func NewHMC(sys *energy.System, opt KernelOptions) (*Kernel, error) {
	return NewKernel(sys, HMC, opt)
}

// NewKernel returns the kernel of method (MALA or HMC; empty means MALA) for sys.
func NewKernel(sys *energy.System, method string, opt KernelOptions) (*Kernel, error) {
	if sys == nil {
		return nil, fmt.Errorf("mcmc: no system")
	}
	if err := sys.Validate(); err != nil {
		return nil, fmt.Errorf("mcmc: %w", err)
	}
	if method == "" {
		method = MALA
	}
	if method != MALA && method != HMC && method != Gibbs {
		return nil, fmt.Errorf("mcmc: unknown method %q (mala, hmc or gibbs)", method)
	}
	if method == Gibbs && sys.Symmetry.Translation && sys.Energy.Particles() > 1 {
		return nil, fmt.Errorf("mcmc: gibbs moves one coordinate at a time, which a system with translation symmetry (%q) does not allow; use mala or hmc", sys.Name)
	}
	if opt.Leapfrog < 0 {
		return nil, fmt.Errorf("mcmc: negative leapfrog count %d", opt.Leapfrog)
	}
	if opt.Leapfrog == 0 {
		opt.Leapfrog = 10
	}
	if !(opt.Step >= 0) || math.IsInf(opt.Step, 0) {
		return nil, fmt.Errorf("mcmc: step size %g", opt.Step)
	}
	if opt.Step == 0 {
		opt.Step = 0.01
		if method == HMC {
			opt.Step = 0.05
		}
	}
	n, d := sys.Energy.Particles(), sys.Energy.SpatialDim()
	k := &Kernel{sys: sys, method: method, n: n, d: d, dim: n * d, proj: sys.Symmetry.Translation && n > 1,
		leapfrog: opt.Leapfrog, step: opt.Step, seed: opt.Seed}
	k.space = sde.Space{Particles: n, SpatialDim: d, Translation: k.proj, Box: sys.Box}
	return k, nil
}

// Method returns MALA or HMC.
func (k *Kernel) Method() string { return k.method }

// System returns the kernel's system.
func (k *Kernel) System() *energy.System { return k.sys }

// Dim returns the number of coordinates of one configuration (n·d).
func (k *Kernel) Dim() int { return k.dim }

// State is the state of a batch of chains. X, E and G are the positions (chains × dim), their
// energies and energy gradients; Step holds each chain's step size and Accept the acceptance
// probability of each chain's last move. Temperature is the τ of the next moves (Init sets the
// system's; an annealing driver changes it). Evals counts energy evaluations (configurations).
type State struct {
	X, E, G     []float64
	Step        []float64
	Accept      []float64
	Temperature float64
	Evals       int64

	chains    int
	y, ey, gy []float64 // proposal
	dx        []float64 // MALA displacement on a torus
	p, h0     []float64 // HMC momenta and start Hamiltonians
	lo, hi    []float64 // Gibbs proposal interval of each coordinate (gibbsRange)
	rngs      []*rand.Rand
}

// Chains returns the number of chains.
func (s *State) Chains() int { return s.chains }

// newState allocates the state of chains chains with seeded generators.
func (k *Kernel) newState(chains int) *State {
	C, dim := chains, k.dim
	s := &State{chains: C, X: make([]float64, C*dim), E: make([]float64, C), G: make([]float64, C*dim),
		y: make([]float64, C*dim), ey: make([]float64, C), gy: make([]float64, C*dim),
		Step: make([]float64, C), Accept: make([]float64, C), rngs: make([]*rand.Rand, C),
		Temperature: k.sys.Tau()}
	if k.method == HMC {
		s.p = make([]float64, C*dim)
		s.h0 = make([]float64, C)
	}
	if k.space.Periodic() && k.method == MALA {
		s.dx = make([]float64, C*dim)
	}
	for c := range C {
		s.rngs[c] = rand.New(rand.NewPCG(k.seed, uint64(c)+0x9e3779b97f4a7c15))
		s.Step[c] = k.step
	}
	return s
}

// Init returns the state of len(x)/Dim() chains started at the configurations x (copied,
// projected to zero centre of mass or wrapped into the box as the system requires), with
// energies and gradients evaluated. It fails when the energy gives no gradient.
func (k *Kernel) Init(x []float64) (*State, error) {
	if len(x) == 0 || len(x)%k.dim != 0 {
		return nil, fmt.Errorf("mcmc: %d numbers are not whole configurations of dimension %d", len(x), k.dim)
	}
	s := k.newState(len(x) / k.dim)
	copy(s.X, x)
	return s, k.start(s)
}

// InitRandom returns the state of chains chains started at random: particles of a particle
// system on a randomly shifted, jittered cubic lattice of the given spacing (on a periodic
// box, a lattice filling the box), one-particle systems at N(0, I) (uniform in a box).
// The draws come from the chains' generators, which the chains then go on using.
func (k *Kernel) InitRandom(chains int, spacing float64) (*State, error) {
	if chains < 1 {
		return nil, fmt.Errorf("mcmc: %d chains", chains)
	}
	if !(spacing > 0) {
		spacing = 1
	}
	s := k.newState(chains)
	dim, n, d := k.dim, k.n, k.d
	box := k.sys.Box
	switch {
	case n > 1:
		// Particles on a randomly shifted, jittered cubic lattice, randomly assigned to sites.
		side := int(math.Ceil(math.Pow(float64(n), 1/float64(d))))
		sites := 1
		for range d {
			sites *= side
		}
		for c := range chains {
			r := s.rngs[c]
			perm := r.Perm(sites)
			x := s.X[c*dim : (c+1)*dim]
			for p := range n {
				site := perm[p]
				for j := range d {
					if len(box) > 0 {
						a := box[j] / float64(side)
						x[p*d+j] = (float64(site%side)+0.1*r.NormFloat64())*a - box[j]/2
					} else {
						x[p*d+j] = (float64(site%side) + 0.1*r.NormFloat64()) * spacing
					}
					site /= side
				}
			}
		}
	case len(box) > 0:
		for c := range chains {
			for i := range dim {
				s.X[c*dim+i] = (s.rngs[c].Float64() - 0.5) * box[i%d]
			}
		}
	default:
		for c := range chains {
			for i := range dim {
				s.X[c*dim+i] = s.rngs[c].NormFloat64()
			}
		}
	}
	return s, k.start(s)
}

// start projects or wraps the positions and evaluates energies and gradients.
func (k *Kernel) start(s *State) error {
	k.space.Project(s.X)
	k.space.Wrap(s.X)
	for i := range s.G {
		s.G[i] = math.NaN()
	}
	k.energyGrad(s, s.X, s.E, s.G)
	dim := k.dim
	for c := range s.chains {
		if !finite(s.E[c]) {
			continue
		}
		g := s.G[c*dim : (c+1)*dim]
		none := true
		for _, v := range g {
			if !math.IsNaN(v) {
				none = false
				break
			}
		}
		if none && k.method != Gibbs {
			return fmt.Errorf("mcmc: system %q: the energy gives no gradient (MALA and HMC need one)", k.sys.Name)
		}
	}
	return nil
}

// energyGrad evaluates a batch; on translation-symmetric systems the gradients are projected
// onto the zero centre-of-mass space the chains live in (see projectGrad).
func (k *Kernel) energyGrad(s *State, x, e, g []float64) {
	k.sys.Energy.EnergyGrad(x, e, g)
	s.Evals += int64(len(e))
	if k.proj && g != nil {
		projectGrad(g, k.n, k.d)
	}
}

// gradRoundoff is the relative size of a gradient's centre-of-mass component below which it is
// rounding error of a translation-invariant energy.
const gradRoundoff = 1e-10

// projectGrad removes from each configuration's gradient its mean over particles, per
// coordinate, where that mean is more than rounding (|Σ_p g| > gradRoundoff·Σ_p |g|). A
// translation-invariant energy's gradient sums to zero up to rounding and is left bit for bit
// as it is (so its chains do not change with the projection); for an energy that is not
// invariant, the projection makes the drift the gradient of the energy restricted to the
// zero centre-of-mass space.
func projectGrad(g []float64, n, d int) {
	nd := n * d
	for off := 0; off+nd <= len(g); off += nd {
		c := g[off : off+nd]
		for j := range d {
			s, a := 0.0, 0.0
			for p := range n {
				s += c[p*d+j]
				a += math.Abs(c[p*d+j])
			}
			if !(math.Abs(s) > gradRoundoff*a) {
				continue
			}
			m := s / float64(n)
			for p := range n {
				c[p*d+j] -= m
			}
		}
	}
}

// forChains runs fn over ranges of chains on all cores; each chain has its own generator, so
// the result does not depend on scheduling.
func forChains(chains int, fn func(lo, hi int)) {
	parallel.For(chains, parallel.Ranges(chains, 1, 0), fn)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Step makes one move of every chain at temperature s.Temperature, updating s.Accept.
func (k *Kernel) Step(ctx context.Context, s *State) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mcmc: %w", err)
	}
	if len(s.X) != s.chains*k.dim || len(s.rngs) != s.chains {
		return fmt.Errorf("mcmc: state of %d chains does not belong to this kernel (dimension %d)", s.chains, k.dim)
	}
	// A state may move on under another kernel of the same system (MALA, then HMC).
	if k.method == HMC && len(s.p) != len(s.X) {
		s.p, s.h0 = make([]float64, len(s.X)), make([]float64, s.chains)
	}
	if k.method == MALA && k.space.Periodic() && len(s.dx) != len(s.X) {
		s.dx = make([]float64, len(s.X))
	}
	tau := s.Temperature
	if !(tau > 0) {
		tau = k.sys.Tau()
	}
	switch k.method {
	case HMC:
		k.hmcStep(s, tau)
	case Gibbs:
		k.gibbsStep(s, tau)
	default:
		k.malaStep(s, tau)
	}
	return nil
}

// malaStep makes one MALA move of every chain at temperature tau.
func (k *Kernel) malaStep(s *State, tau float64) {
	dim := k.dim
	periodic := k.space.Periodic()
	forChains(s.chains, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			h := s.Step[c]
			x, g, y := s.X[c*dim:(c+1)*dim], s.G[c*dim:(c+1)*dim], s.y[c*dim:(c+1)*dim]
			r := s.rngs[c]
			for i := range y {
				y[i] = h * r.NormFloat64()
			}
			k.space.Project(y)
			if periodic {
				dx := s.dx[c*dim : (c+1)*dim]
				for i := range y {
					dx[i] = y[i] - 0.5*h*h*g[i]/tau
					y[i] = x[i] + dx[i]
				}
				k.space.Wrap(y)
				continue
			}
			for i := range y {
				y[i] += x[i] - 0.5*h*h*g[i]/tau
			}
		}
	})
	k.energyGrad(s, s.y, s.ey, s.gy)
	forChains(s.chains, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			h := s.Step[c]
			x, g := s.X[c*dim:(c+1)*dim], s.G[c*dim:(c+1)*dim]
			y, gy := s.y[c*dim:(c+1)*dim], s.gy[c*dim:(c+1)*dim]
			logA := math.Inf(-1)
			if finite(s.ey[c]) {
				// log q(x|y) − log q(y|x) for the Langevin proposal.
				fwd, bwd := 0.0, 0.0
				if periodic {
					dx := s.dx[c*dim : (c+1)*dim]
					for i := range x {
						a := dx[i] + 0.5*h*h*g[i]/tau
						b := -dx[i] + 0.5*h*h*gy[i]/tau
						fwd += a * a
						bwd += b * b
					}
				} else {
					for i := range x {
						a := y[i] - x[i] + 0.5*h*h*g[i]/tau
						b := x[i] - y[i] + 0.5*h*h*gy[i]/tau
						fwd += a * a
						bwd += b * b
					}
				}
				logA = -(s.ey[c]-s.E[c])/tau - (bwd-fwd)/(2*h*h)
			}
			a := 0.0
			if !math.IsNaN(logA) {
				a = math.Exp(min(0, logA))
			}
			s.Accept[c] = a
			if s.rngs[c].Float64() < a {
				copy(x, y)
				copy(g, gy)
				s.E[c] = s.ey[c]
			}
		}
	})
}

// hmcStep makes one HMC move (Leapfrog steps) of every chain at temperature tau. The
// potential is E/τ and the momenta are standard normal (projected).
func (k *Kernel) hmcStep(s *State, tau float64) {
	dim := k.dim
	h0 := s.h0
	forChains(s.chains, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			p := s.p[c*dim : (c+1)*dim]
			r := s.rngs[c]
			for i := range p {
				p[i] = r.NormFloat64()
			}
			k.space.Project(p)
			kin := 0.0
			for _, v := range p {
				kin += v * v
			}
			h0[c] = s.E[c]/tau + 0.5*kin
			copy(s.y[c*dim:(c+1)*dim], s.X[c*dim:(c+1)*dim])
			copy(s.gy[c*dim:(c+1)*dim], s.G[c*dim:(c+1)*dim])
		}
	})
	for range k.leapfrog {
		forChains(s.chains, func(lo, hi int) {
			for c := lo; c < hi; c++ {
				h := s.Step[c]
				p, y, gy := s.p[c*dim:(c+1)*dim], s.y[c*dim:(c+1)*dim], s.gy[c*dim:(c+1)*dim]
				for i := range p {
					p[i] -= 0.5 * h * gy[i] / tau
					y[i] += h * p[i]
				}
				k.space.Wrap(y)
			}
		})
		k.energyGrad(s, s.y, s.ey, s.gy)
		forChains(s.chains, func(lo, hi int) {
			for c := lo; c < hi; c++ {
				h := s.Step[c]
				p, gy := s.p[c*dim:(c+1)*dim], s.gy[c*dim:(c+1)*dim]
				for i := range p {
					p[i] -= 0.5 * h * gy[i] / tau
				}
			}
		})
	}
	forChains(s.chains, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			p := s.p[c*dim : (c+1)*dim]
			a := 0.0
			if finite(s.ey[c]) {
				kin := 0.0
				for _, v := range p {
					kin += v * v
				}
				dH := s.ey[c]/tau + 0.5*kin - h0[c]
				if !math.IsNaN(dH) {
					a = math.Exp(min(0, -dH))
				}
			}
			s.Accept[c] = a
			if s.rngs[c].Float64() < a {
				copy(s.X[c*dim:(c+1)*dim], s.y[c*dim:(c+1)*dim])
				copy(s.G[c*dim:(c+1)*dim], s.gy[c*dim:(c+1)*dim])
				s.E[c] = s.ey[c]
			}
		}
	})
}

// Adapter adapts each chain's step size towards a target acceptance by Robbins–Monro steps
// on the log step size with a decaying gain, as in a warm-up: call Update after every warm-up
// Step, with average set for the updates whose log step sizes enter the final average, then
// Freeze to set every chain's step to its average.
type Adapter struct {
	Target float64 // acceptance aimed at
	t      int
	sum    []float64
	n      int
}

// NewAdapter returns an adapter towards target acceptance (0 < target < 1; otherwise 0.57,
// the optimum of MALA).
func NewAdapter(target float64) *Adapter {
	if !(target > 0 && target < 1) {
		target = 0.57
	}
	return &Adapter{Target: target}
}

// DefaultTarget is the acceptance the adapter aims at by default for method: 0.57 (MALA) or
// 0.65 (HMC).
func DefaultTarget(method string) float64 {
	if method == HMC {
		return 0.65
	}
	return 0.57
}

// Update moves each chain's log step size by gain·(accept − target), gain = (t+10)^−0.6 at
// the t-th update, within [e^−20, e^3]; average adds the new log step sizes to the average
// that Freeze applies.
func (a *Adapter) Update(s *State, average bool) {
	gain := 1 / math.Pow(float64(a.t)+10, 0.6)
	a.t++
	if average && len(a.sum) != len(s.Step) {
		a.sum, a.n = make([]float64, len(s.Step)), 0
	}
	for c := range s.Step {
		ls := math.Log(s.Step[c]) + gain*(s.Accept[c]-a.Target)
		s.Step[c] = math.Exp(max(-20, min(3, ls)))
		if average {
			a.sum[c] += ls
		}
	}
	if average {
		a.n++
	}
}

// Freeze sets each chain's step size to the geometric mean of its averaged updates (no-op
// when none was averaged).
func (a *Adapter) Freeze(s *State) {
	if a.n == 0 || len(a.sum) != len(s.Step) {
		return
	}
	for c := range s.Step {
		s.Step[c] = math.Exp(a.sum[c] / float64(a.n))
	}
}

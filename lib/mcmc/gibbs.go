package mcmc

import (
	"math"
	"sort"
)

// GibbsGrid is the number of cells along a coordinate of a Gibbs move's proposal.
const GibbsGrid = 128

// gibbsRange sets the interval each coordinate's Gibbs proposals cover: the box on a periodic
// system; otherwise [−W, W] with W twice the largest |value| among the chains (the mirror image
// about 0, where the base process starts, is covered too, so that a sampler that kept one side
// of a symmetric well still gets the other side proposed), doubled while the conditional density
// along the line through the first chain's state puts more than 1e-6 of its mass in the two end
// cells (at most 40 times). The chains' states lie inside and no move leaves it.
func (k *Kernel) gibbsRange(s *State) {
	dim := k.dim
	s.lo, s.hi = make([]float64, dim), make([]float64, dim)
	batch := make([]float64, GibbsGrid*dim)
	e := make([]float64, GibbsGrid)
	tau := s.Temperature
	if !(tau > 0) {
		tau = k.sys.Tau()
	}
	for j := range dim {
		if box := k.sys.Box; len(box) > 0 {
			l := box[j%k.d]
			s.lo[j], s.hi[j] = -l/2, l/2
			continue
		}
		m := 0.0
		for c := range s.chains {
			if v := s.X[c*dim+j]; finite(v) {
				m = max(m, math.Abs(v))
			}
		}
		w := 2 * max(m, 1e-3)
		for range 40 {
			emin := k.lineEnergies(s.X[:dim], j, -w+w/GibbsGrid, 2*w/GibbsGrid, batch, e)
			s.Evals += GibbsGrid
			if !finite(emin) {
				break
			}
			var z float64
			for _, v := range e {
				if finite(v) {
					z += math.Exp(-(v - emin) / tau)
				}
			}
			edge := 0.0
			for _, v := range []float64{e[0], e[GibbsGrid-1]} {
				if finite(v) {
					edge += math.Exp(-(v - emin) / tau)
				}
			}
			if edge <= 1e-6*z {
				break
			}
			w *= 2
		}
		s.lo[j], s.hi[j] = -w, w
	}
}

// gibbsStep makes one Gibbs sweep of every chain at temperature tau: each coordinate j in turn
// (a random order per chain and sweep) gets an independence proposal from the density whose log
// is linear between the values of −E/τ at the GibbsGrid+1 nodes of GibbsGrid cells of its
// interval (the other coordinates held; exact for a log density linear in each cell), and a Metropolis–Hastings test with the proposal density at the
// current value, so the move is exact for exp(−E/τ) restricted to the intervals. It crosses
// barriers along a coordinate that MALA and HMC steps cannot. Accept is the chain's mean
// acceptance over the sweep; the gradients are evaluated again at the end.
func (k *Kernel) gibbsStep(s *State, tau float64) {
	if len(s.lo) != k.dim {
		k.gibbsRange(s)
	}
	dim := k.dim
	periodic := len(k.sys.Box) > 0
	evals := make([]int64, s.chains)
	forChains(s.chains, func(lo, hi int) {
		batch := make([]float64, (GibbsGrid+1)*dim)
		e := make([]float64, GibbsGrid+1)
		cum := make([]float64, GibbsGrid)
		l := make([]float64, GibbsGrid+1)
		for c := lo; c < hi; c++ {
			x := s.X[c*dim : (c+1)*dim]
			r := s.rngs[c]
			var acc float64
			for _, j := range r.Perm(dim) {
				a, b := s.lo[j], s.hi[j]
				h := (b - a) / GibbsGrid
				emin := k.lineEnergies(x, j, a, h, batch, e)
				evals[c] += GibbsGrid + 1
				if !finite(emin) {
					continue
				}
				for g, v := range e {
					l[g] = math.Inf(-1)
					if finite(v) {
						l[g] = -(v - emin) / tau
					}
				}
				var z float64
				for g := range GibbsGrid {
					z += cellMass(l[g], l[g+1], h)
					cum[g] = z
				}
				if !(z > 0) {
					continue
				}
				u := r.Float64() * z
				g := min(sort.Search(GibbsGrid, func(i int) bool { return cum[i] > u }), GibbsGrid-1)
				y := a + float64(g)*h + cellDraw(l[g], l[g+1], h, r.Float64())
				// logQ is the log proposal density (up to the common log z) at v: log-linear
				// between the nodes of v's cell
				logQ := func(v float64) float64 {
					if periodic {
						v -= (b - a) * math.Floor((v-a)/(b-a))
					}
					i := min(max(int((v-a)/h), 0), GibbsGrid-1)
					if math.IsInf(l[i], -1) || math.IsInf(l[i+1], -1) {
						return math.Inf(-1)
					}
					f := (v - (a + float64(i)*h)) / h
					return l[i] + f*(l[i+1]-l[i])
				}
				prop := batch[:dim]
				copy(prop, x)
				prop[j] = y
				k.sys.Energy.EnergyGrad(prop, e[:1], nil)
				evals[c]++
				ey := e[0]
				if !finite(ey) {
					continue
				}
				// log [p(y) q(x)] − log [p(x) q(y)], p ∝ exp(−E/τ)
				logr := -(ey-s.E[c])/tau + logQ(x[j]) - logQ(y)
				if logr >= 0 || r.Float64() < math.Exp(logr) {
					x[j], s.E[c] = y, ey
					acc++
				}
			}
			s.Accept[c] = acc / float64(dim)
		}
	})
	for _, n := range evals {
		s.Evals += n
	}
	k.energyGrad(s, s.X, s.E, s.G)
}

// cellMass is ∫_0^h exp(la + (lb − la) u/h) du: the mass of a cell whose log density runs
// linearly from la to lb (0 when either end is −Inf).
func cellMass(la, lb, h float64) float64 {
	if math.IsInf(la, -1) || math.IsInf(lb, -1) {
		return 0
	}
	d := lb - la
	if math.Abs(d) < 1e-9 {
		return h * math.Exp(la)
	}
	return h * (math.Exp(lb) - math.Exp(la)) / d
}

// cellDraw returns u ∈ [0, h] drawn from the density ∝ exp(la + (lb − la) u/h) by inverting its
// distribution function at v ∈ [0, 1).
func cellDraw(la, lb, h, v float64) float64 {
	d := lb - la
	if math.Abs(d) < 1e-9 {
		return v * h
	}
	// u/h = log(1 + v (e^d − 1)) / d, computed stably for either sign of d
	if d > 0 {
		return h * (1 + math.Log(v+(1-v)*math.Exp(-d))/d)
	}
	return h * math.Log1p(v*math.Expm1(d)) / d
}

// lineEnergies evaluates the energy at len(e) configurations along coordinate j through x, at
// x_j = a + g·h for g = 0, 1, … (batch holds len(e)·dim numbers of scratch), and returns the
// lowest energy met (+Inf when none is below it).
func (k *Kernel) lineEnergies(x []float64, j int, a, h float64, batch, e []float64) float64 {
	dim := len(x)
	for g := range e {
		row := batch[g*dim : (g+1)*dim]
		copy(row, x)
		row[j] = a + float64(g)*h
	}
	k.sys.Energy.EnergyGrad(batch[:len(e)*dim], e, nil)
	emin := math.Inf(1)
	for _, v := range e {
		if v < emin { // NaN left out
			emin = v
		}
	}
	return emin
}

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
			h := 2 * w / GibbsGrid
			for g := range GibbsGrid {
				row := batch[g*dim : (g+1)*dim]
				copy(row, s.X[:dim])
				row[j] = -w + (float64(g)+0.5)*h
			}
			k.sys.Energy.EnergyGrad(batch, e, nil)
			s.Evals += GibbsGrid
			emin := math.Inf(1)
			for _, v := range e {
				if v < emin {
					emin = v
				}
			}
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
// (a random order per chain and sweep) gets an independence proposal from the piecewise
// constant density through exp(−E/τ) at the centres of GibbsGrid cells of its interval, the
// other coordinates held, and a Metropolis–Hastings test with the proposal density at the
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
		for c := lo; c < hi; c++ {
			x := s.X[c*dim : (c+1)*dim]
			r := s.rngs[c]
			var acc float64
			for _, j := range r.Perm(dim) {
				a, b := s.lo[j], s.hi[j]
				h := (b - a) / GibbsGrid
				for g := range GibbsGrid {
					row := batch[g*dim : (g+1)*dim]
					copy(row, x)
					row[j] = a + (float64(g)+0.5)*h
				}
				k.sys.Energy.EnergyGrad(batch[:GibbsGrid*dim], e[:GibbsGrid], nil)
				evals[c] += GibbsGrid
				emin := math.Inf(1)
				for _, v := range e[:GibbsGrid] {
					if v < emin {
						emin = v
					}
				}
				if !finite(emin) {
					continue
				}
				var z float64
				for g, v := range e[:GibbsGrid] {
					if finite(v) || v == math.Inf(1) {
						z += math.Exp(-(v - emin) / tau)
					}
					cum[g] = z
				}
				u := r.Float64() * z
				g := min(sort.Search(GibbsGrid, func(i int) bool { return cum[i] > u }), GibbsGrid-1)
				y := a + (float64(g)+r.Float64())*h
				cell := func(v float64) float64 { // proposal weight of the cell holding v
					if periodic {
						v = a + (v - a) - (b-a)*math.Floor((v-a)/(b-a))
					}
					i := min(max(int((v-a)/h), 0), GibbsGrid-1)
					if i == 0 {
						return cum[0]
					}
					return cum[i] - cum[i-1]
				}
				prop := batch[GibbsGrid*dim : (GibbsGrid+1)*dim]
				copy(prop, x)
				prop[j] = y
				k.sys.Energy.EnergyGrad(prop, e[GibbsGrid:], nil)
				evals[c]++
				ey := e[GibbsGrid]
				if !finite(ey) {
					continue
				}
				// log [p(y) q(x)] − log [p(x) q(y)], p ∝ exp(−E/τ), q ∝ the cell weights
				logr := -(ey-s.E[c])/tau + math.Log(cell(x[j])) - math.Log(cell(y))
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

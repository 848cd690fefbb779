package adjoint

import (
	"math"

	"adjoint/lib/sde"
)

// rbMinRemaining is the share of κ(1) still to come below which a row keeps its own target
// under Config.RBCandidates: there the bridge's likelihood singles out the row's own end state
// (posterior effective count below about 1.1 on DW-4) and averaging would only cost time.
const rbMinRemaining = 0.01

// rbShare is how many consecutive rows of a batch share one candidate set: each row's average is
// unbiased whatever the sharing, but rows sharing a set share its luck, so a batch draws fresh
// candidates every rbShare rows (a few per batch) to keep that shared noise small.
const rbShare = 32

// rbSet holds candidate end states for Rao–Blackwellized targets (Config.RBCandidates), shared
// by rbShare rows of a batch, and the averages of the latest row.
type rbSet struct {
	nd     int
	cx, cy []float64 // candidates' end states and targets, one per row of nd
	sq     []float64 // ‖x_k‖² of each candidate
	w      []float64 // scratch: the own row's and each candidate's weight
	x1, y  []float64 // the averaged end state and target of the latest row
}

// rbCandidates draws Config.RBCandidates buffered end states with pick, training's own rule for
// drawing rows, into the set kept on mb (allocated once per batch buffer).
func (s *Sampler) rbCandidates(mb *matchBatch, pick func() int) *rbSet {
	m, nd := s.cfg.RBCandidates, s.space.Dim()
	r := mb.rbs
	if r == nil || len(r.sq) != m || r.nd != nd {
		r = &rbSet{nd: nd, cx: make([]float64, m*nd), cy: make([]float64, m*nd), sq: make([]float64, m),
			w: make([]float64, m+1), x1: make([]float64, nd), y: make([]float64, nd)}
		mb.rbs = r
	}
	for k := range m {
		x, y := s.buf.state(pick())
		copy(r.cx[k*nd:(k+1)*nd], x)
		copy(r.cy[k*nd:(k+1)*nd], y)
		var q float64
		for _, v := range x {
			q += v * v
		}
		r.sq[k] = q
	}
	return r
}

// average sets r.x1 and r.y to the averages of the end state and the target over the row's own
// end state (x1, y) and the candidates, each weighted by the likelihood of the bridge state xt
// at time t, N(xt; γ(t)·x, v(t)); given the set, these are the exact odds that the row was drawn
// toward each. It reports false, leaving the row as it is, where less than rbMinRemaining of
// κ(1) remains.
func (r *rbSet) average(sch sde.Schedule, t float64, xt, x1, y []float64) bool {
	gamma, v := sde.BridgeMoments(sch, t)
	if !(1-gamma > rbMinRemaining) {
		return false
	}
	nd, m := r.nd, len(r.sq)
	// log-likelihood up to terms shared by all end states: −‖xt − γx‖²/(2v) less −‖xt‖²/(2v);
	// at t = 0 (v = 0, γ = 0) every end state is equally likely
	logl := func(x []float64, sq float64) float64 {
		if !(v > 0) {
			return 0
		}
		var dot float64
		for i, u := range xt {
			dot += u * x[i]
		}
		return gamma * (dot - gamma*sq/2) / v
	}
	var own float64
	for _, u := range x1 {
		own += u * u
	}
	r.w[0] = logl(x1, own)
	mx := r.w[0]
	for k := range m {
		r.w[k+1] = logl(r.cx[k*nd:(k+1)*nd], r.sq[k])
		mx = math.Max(mx, r.w[k+1])
	}
	var z float64
	for k, l := range r.w {
		if l -= mx; l > -40 { // below, a weight under 1e-17 of the largest
			r.w[k] = math.Exp(l)
		} else {
			r.w[k] = 0
		}
		z += r.w[k]
	}
	w0 := r.w[0] / z
	for i := range nd {
		r.x1[i], r.y[i] = w0*x1[i], w0*y[i]
	}
	for k := range m {
		wk := r.w[k+1] / z
		if wk == 0 {
			continue
		}
		cx, cy := r.cx[k*nd:(k+1)*nd], r.cy[k*nd:(k+1)*nd]
		for i := range nd {
			r.x1[i] += wk * cx[i]
			r.y[i] += wk * cy[i]
		}
	}
	return true
}

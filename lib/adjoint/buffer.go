package adjoint

import (
	"math"
	"sort"
)

// buffer is the FIFO replay buffer of terminal states X_1 and their regression targets
// −∇g(X_1), in ring storage: once full, each new sample overwrites the oldest. Each sample also
// keeps the epoch it was inserted at (the epochs the sampler had completed then), which the
// staleness diagnostic (Sampler.BufferAges) reads.
type buffer struct {
	cap, dim int
	x, y     []float64 // n·dim each
	ep       []int32   // n: epochs completed when each sample was inserted
	// lw holds each sample's log importance weight as generated (NaN: not known, as for
	// checkpoints written before weights were kept); nil when weights are not kept.
	lw []float64
	// cdf is the cumulative draw distribution over slots set by temper (nil: uniform draws).
	cdf     []float64
	n, next int // samples held; slot the next sample goes to once full
	// epochsInferred is set when the insertion epochs were not recorded (a checkpoint written
	// before they were) and were inferred from the ring order instead (restoreEpochs).
	epochsInferred bool
}

// newBuffer returns an empty buffer of capacity samples of dimension dim.
func newBuffer(capacity, dim int) buffer { return buffer{cap: capacity, dim: dim} }

// push appends the samples of x (len(x)/dim of them) with their targets y, inserted at epoch,
// and their log weights lw (nil: not kept, or not known when the buffer keeps weights).
func (b *buffer) push(x, y []float64, epoch int, lw []float64) {
	if lw != nil && b.lw == nil {
		b.lw = make([]float64, b.n, b.cap)
		for j := range b.lw {
			b.lw[j] = math.NaN()
		}
	}
	for k := 0; k < len(x)/b.dim; k++ {
		w := math.NaN()
		if lw != nil {
			w = lw[k]
		}
		if b.n < b.cap {
			b.x = append(b.x, x[k*b.dim:(k+1)*b.dim]...)
			b.y = append(b.y, y[k*b.dim:(k+1)*b.dim]...)
			b.ep = append(b.ep, int32(epoch))
			if b.lw != nil {
				b.lw = append(b.lw, w)
			}
			b.n++
			b.next = b.n % b.cap
			continue
		}
		copy(b.x[b.next*b.dim:(b.next+1)*b.dim], x[k*b.dim:(k+1)*b.dim])
		copy(b.y[b.next*b.dim:(b.next+1)*b.dim], y[k*b.dim:(k+1)*b.dim])
		b.ep[b.next] = int32(epoch)
		if b.lw != nil {
			b.lw[b.next] = w
		}
		b.next = (b.next + 1) % b.cap
	}
}

// state returns sample j's terminal state and target (views into the buffer).
func (b *buffer) state(j int) (x1, target []float64) {
	return b.x[j*b.dim : (j+1)*b.dim], b.y[j*b.dim : (j+1)*b.dim]
}

// rank returns the insertion rank of slot j: 0 for the oldest sample held, n−1 for the newest.
func (b *buffer) rank(j int) int { return (j - b.next%max(b.n, 1) + b.n) % max(b.n, 1) }

// inferEpochs fills the insertion epochs of a buffer restored without them, from the ring order:
// the newest perEpoch samples were inserted at epoch−1, the perEpoch before them at epoch−2, and
// so on (not below 0), as training that adds perEpoch samples an epoch leaves them.
func (b *buffer) inferEpochs(epoch, perEpoch int) {
	b.ep = make([]int32, b.n)
	for j := range b.ep {
		back := (b.n - 1 - b.rank(j)) / max(perEpoch, 1) // 0 for the newest batch
		b.ep[j] = int32(max(epoch-1-back, 0))
	}
	b.epochsInferred = true
}

// temper sets the buffer's draw distribution from its log weights: slot j gets probability
// ∝ w_j^β, with β ∈ [0, 1] the largest for which the tempered weights' effective sample size is
// at least frac × the fill (found by bisection; the ESS fraction falls as β grows). Slots of
// weight zero (log weight −Inf) are never drawn; slots whose weight is not known get the mean of
// the others. It returns β and the ESS fraction reached, and leaves cdf nil (uniform draws) when
// no weight is known or all known weights are zero.
func (b *buffer) temper(frac float64) (beta, ess float64) {
	b.cdf = nil
	if b.lw == nil || b.n == 0 {
		return 0, 1
	}
	lmax := math.Inf(-1)
	for _, l := range b.lw[:b.n] {
		if l > lmax {
			lmax = l
		}
	}
	if math.IsInf(lmax, -1) || math.IsNaN(lmax) {
		return 0, 1
	}
	w := make([]float64, b.n)
	fill := func(beta float64) float64 { // fills w with the tempered weights, returns their ESS fraction
		var s1, s2 float64
		var known, unknown int
		for j, l := range b.lw[:b.n] {
			switch {
			case math.IsNaN(l):
				w[j] = math.NaN()
				unknown++
				continue
			case math.IsInf(l, -1):
				w[j] = 0
			default:
				w[j] = math.Exp(beta * (l - lmax))
			}
			s1 += w[j]
			known++
		}
		if unknown > 0 {
			m := s1 / float64(max(known, 1))
			for j := range w {
				if math.IsNaN(w[j]) {
					w[j] = m
				}
			}
			s1 += m * float64(unknown)
		}
		for _, v := range w {
			s2 += v * v
		}
		return s1 * s1 / (s2 * float64(b.n))
	}
	beta, ess = 1, fill(1)
	if ess < frac {
		lo, hi := 0.0, 1.0
		for range 40 {
			mid := (lo + hi) / 2
			if fill(mid) >= frac {
				lo = mid
			} else {
				hi = mid
			}
		}
		beta, ess = lo, fill(lo)
	}
	b.cdf = w
	var c float64
	for j, v := range w {
		c += v
		b.cdf[j] = c
	}
	if !(c > 0) {
		b.cdf = nil
	}
	return beta, ess
}

// pick returns a slot drawn by the draw distribution (temper) from u ~ U[0, 1), or uniformly
// when there is none.
func (b *buffer) pick(u float64) int {
	if b.cdf == nil || len(b.cdf) != b.n {
		return min(int(u*float64(b.n)), b.n-1)
	}
	x := u * b.cdf[b.n-1]
	return min(sort.Search(b.n, func(i int) bool { return b.cdf[i] > x }), b.n-1)
}

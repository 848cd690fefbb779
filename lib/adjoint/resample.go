package adjoint

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// SystematicResample draws n indices into logw by systematic resampling with offset u ∈ [0, 1):
// index i is chosen for the points (k + u)/n, k = 0…n−1, that fall in its slice
// [C_{i−1}, C_i) of the cumulative normalised weights C. So index i appears ⌊n w_i⌋ or
// ⌈n w_i⌉ times, w_i = exp(logw_i)/Σ exp(logw), and the indices come in increasing order. NaN
// and +Inf log weights weigh zero (see Diagnostics); it is an error when no weight is positive.
func SystematicResample(logw []float64, n int, u float64) ([]int, error) {
	if n < 1 {
		return nil, fmt.Errorf("adjoint: resample to %d samples", n)
	}
	if !(u >= 0 && u < 1) {
		return nil, fmt.Errorf("adjoint: resampling offset %g is not in [0, 1)", u)
	}
	w, _, _ := scaledWeights(logw)
	var total float64
	last := -1 // the last index with a positive weight
	for i, v := range w {
		total += v
		if v > 0 {
			last = i
		}
	}
	if last < 0 {
		return nil, fmt.Errorf("adjoint: resample: no positive weight among %d (all log weights are −Inf or NaN)", len(logw))
	}
	idx := make([]int, n)
	i, c := 0, w[0]/total
	for k := range n {
		p := (float64(k) + u) / float64(n)
		for c <= p && i < last {
			i++
			c += w[i] / total
		}
		idx[k] = i
	}
	return idx, nil
}

// Resample returns N equally weighted samples drawn from these by systematic resampling on
// their importance weights (SystematicResample, with the offset drawn from a random stream
// seeded by seed). The result represents the target exp(−E/τ) as well as the weights allow:
// samples with large weights are repeated, so it holds at most about ESS distinct samples, and
// its LogW are all zero (its ESS field is N, the Kish size of equal weights). Compute
// Diagnostics, which need the original weights, first. It is an error when no weight is
// positive (all log weights −Inf or NaN).
func (sm *Samples) Resample(seed uint64) (*Samples, error) {
	u := rand.New(rand.NewPCG(seed, 0x5851f42d4c957f2d)).Float64()
	idx, err := SystematicResample(sm.LogW, sm.N, u)
	if err != nil {
		return nil, err
	}
	nd := sm.Particles * sm.SpatialDim
	out := &Samples{N: sm.N, Particles: sm.Particles, SpatialDim: sm.SpatialDim, Coverage: sm.Coverage,
		X: make([]float64, 0, sm.N*nd), Energy: make([]float64, sm.N), LogW: make([]float64, sm.N), ESS: float64(sm.N)}
	for k, i := range idx {
		out.X = append(out.X, sm.X[i*nd:(i+1)*nd]...)
		if i < len(sm.Energy) {
			out.Energy[k] = sm.Energy[i]
		} else {
			out.Energy[k] = math.NaN()
		}
	}
	return out, nil
}

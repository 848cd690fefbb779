package nn

import (
	"fmt"
	"math"
)

// Averaged is a Model that keeps an exponential moving average of its parameters, updated
// after every optimiser step, and can exchange it with the parameters: training goes on with
// the parameters, sampling uses the average. The MLP, the EGNN and the DeviceEGNN (on a
// GPU) have it.
type Averaged interface {
	Model
	// SetAverage starts averaging with the given decay in (0, 1), from the current parameters,
	// or stops and drops the average when decay is 0. A model that already averages with the
	// same decay keeps its average (a resumed run continues it).
	SetAverage(decay float64) error
	// AverageDecay is the decay of the average kept, 0 when none.
	AverageDecay() float64
	// SwapAverage exchanges the parameters and their average; calling it twice restores both
	// exactly. It reports false (and changes nothing) when no average is kept. Train and save
	// with the parameters in place, not the average.
	SwapAverage() bool
}

// average is the state of an exponential moving average: avg ← d·avg + (1 − d)·θ after each
// step, with the warm-up d = min(decay, (1 + n)/(10 + n)) for the n-th update, so that a short
// run is not pinned to its initial parameters (0.999⁵⁰⁰ still gives them 61% of the weight).
type average struct {
	decay float64
	n     int64
	vals  [][]float64
	// stash holds the parameters while the average stands in for them (swapped), so that
	// swapping back restores both exactly.
	stash   [][]float64
	swapped bool
}

// checkDecay rejects an average decay outside [0, 1) (0: none).
func checkDecay(decay float64) error {
	if !(decay >= 0 && decay < 1) {
		return fmt.Errorf("nn: average decay %g must be in [0, 1) (0: none)", decay)
	}
	return nil
}

// SetAverage starts, keeps or stops the parameter average (Averaged).
func (b *base) SetAverage(decay float64) error {
	if err := checkDecay(decay); err != nil {
		return err
	}
	if decay == 0 {
		b.avg = nil
		return nil
	}
	if b.avg != nil && b.avg.decay == decay {
		return nil
	}
	a := &average{decay: decay}
	for _, p := range b.params {
		v := make([]float64, p.Len())
		for i := range v {
			v[i] = p.At(i)
		}
		a.vals = append(a.vals, v)
	}
	b.avg = a
	return nil
}

// AverageDecay is the decay of the parameter average, 0 when none is kept.
func (b *base) AverageDecay() float64 {
	if b.avg == nil {
		return 0
	}
	return b.avg.decay
}

// SwapAverage exchanges the parameters and their average (Averaged).
func (b *base) SwapAverage() bool {
	if b.avg == nil {
		return false
	}
	a := b.avg
	if a.stash == nil {
		for _, v := range a.vals {
			a.stash = append(a.stash, make([]float64, len(v)))
		}
	}
	for k, p := range b.params {
		v, st := a.vals[k], a.stash[k]
		for i := range v {
			if a.swapped {
				p.Set(i, st[i])
			} else {
				st[i] = p.At(i)
				p.Set(i, v[i])
			}
		}
	}
	a.swapped = !a.swapped
	return true
}

// updateAverage folds the current parameters into the average after an optimiser step.
func (b *base) updateAverage() {
	a := b.avg
	if a == nil || a.swapped {
		return
	}
	a.n++
	d := math.Min(a.decay, float64(1+a.n)/float64(10+a.n))
	for k, p := range b.params {
		v := a.vals[k]
		if f := p.F32(); f != nil {
			for i, x := range f {
				v[i] = d*v[i] + (1-d)*float64(x)
			}
			continue
		}
		for i, x := range p.F64() {
			v[i] = d*v[i] + (1-d)*x
		}
	}
}

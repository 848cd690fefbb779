package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"adjoint/internal/parallel"
	"adjoint/lib/energy"
	"adjoint/lib/metrics"
	"adjoint/lib/npy"
)

func init() {
	register("refgen", "exact DW-4 reference samples by importance resampling (no Markov chain)", runRefgen)
}

// refgenChunk is the number of proposal draws of one chunk. Chunk c draws from its own random
// stream (seed, c), so the result does not depend on the number of threads.
const refgenChunk = 1 << 20

// refgenBatch is the number of configurations evaluated per energy call (small enough that the
// energy does not split it over goroutines itself; the chunks already run in parallel).
const refgenBatch = 512

// refgenResult is the JSON line of `adjoint refgen`.
type refgenResult struct {
	System string  `json:"system"`
	Draws  int64   `json:"draws"`
	Scale  float64 `json:"scale"`
	Seed   uint64  `json:"seed"`
	ESS    float64 `json:"ess"`
	// Self-normalised importance-sampling estimates over all draws (precise to about
	// 1/sqrt(ESS)): mean and sd of the energy, fractions by number of pairs closer than 4.
	WeightedMeanEnergy float64   `json:"weighted_mean_energy"`
	WeightedSDEnergy   float64   `json:"weighted_sd_energy"`
	WeightedShortPairs []float64 `json:"weighted_short_pairs"`
	// The resampled output.
	N          int       `json:"n"`
	Distinct   int       `json:"distinct"`
	MeanEnergy float64   `json:"mean_energy"`
	SDEnergy   float64   `json:"sd_energy"`
	ShortPairs []float64 `json:"short_pairs"`
	Output     string    `json:"output"`
	Seconds    float64   `json:"seconds"`
}

func runRefgen(args []string) error {
	fs := newFlagSet("refgen", "dw4 --draws N [-n 10000] [--scale S] [--seed S] -o OUT.npy")
	draws := fs.Int64("draws", 1_000_000_000, "proposal draws (1e9: about 4 CPU minutes, ESS about 6e5)")
	n := fs.Int("n", 10000, "samples to resample from the weighted draws")
	scale := fs.Float64("scale", 2.2, "standard deviation of each particle coordinate of the Gaussian proposal (before the centre of mass is removed)")
	seed := fs.Uint64("seed", 1, "seed")
	out := fs.String("o", "", "output .npy (n × 8, float32, centre of mass removed)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		fs.Usage()
		return fmt.Errorf("%w: need SYSTEM (dw4) and -o OUT.npy", errUsage)
	}
	if pos[0] != "dw4" {
		return fmt.Errorf("refgen: %s is not supported: importance resampling from a broad proposal is practical for dw4 only", pos[0])
	}
	if *draws < 1 || *n < 1 || !(*scale > 0) {
		return fmt.Errorf("%w: --draws, -n and --scale must be positive", errUsage)
	}
	sys, err := energy.Benchmark("dw4")
	if err != nil {
		return err
	}
	ctx, done := progressToStderr()
	defer done()
	start := time.Now()
	g := &isResampler{sys: sys, draws: *draws, scale: *scale, seed: *seed, progress: os.Stderr}
	x, ids, st, err := g.run(ctx, *n)
	if err != nil {
		return err
	}
	if err := npy.WriteFile(*out, []int{*n, sys.Dim()}, x, "<f4"); err != nil {
		return fmt.Errorf("refgen: %w", err)
	}
	e := make([]float64, *n)
	sys.Energy.EnergyGrad(x, e, nil)
	r := refgenResult{System: "dw4", Draws: *draws, Scale: *scale, Seed: *seed, ESS: st.ess, N: *n, Output: *out,
		WeightedMeanEnergy: st.meanE, WeightedSDEnergy: st.sdE, WeightedShortPairs: st.shortPairs}
	r.MeanEnergy, r.SDEnergy = metrics.Mean(e)
	if r.ShortPairs, err = metrics.ShortPairFractions(x, 4, 2, shortPairCutoff); err != nil {
		return err
	}
	seen := map[int64]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	r.Distinct = len(seen)
	r.Seconds = time.Since(start).Seconds()
	return emitJSON(r)
}

// isResampler draws configurations of a system from a centred Gaussian proposal (each
// particle coordinate N(0, scale²), then the centre of mass removed: an isotropic Gaussian of
// standard deviation scale on the zero-CoM subspace), weights them by exp(−E(x)) / q(x), and
// resamples. Two passes over the same random streams keep the memory constant: the first sums
// the weights of each chunk, the second makes the systematic resampling (n equally spaced
// points in the cumulative weight) and keeps the draws they fall on.
type isResampler struct {
	sys   *energy.System
	draws int64
	scale float64
	seed  uint64
	// progress, when set, receives a line per 10% of each pass.
	progress io.Writer
}

// logWeightOffset is subtracted from every log weight: −E ≤ 26.7 for DW-4, so the weights stay
// far from overflow and from underflow in float64.
const logWeightOffset = 25

// chunks returns the number of chunks.
func (g *isResampler) chunks() int { return int((g.draws + refgenChunk - 1) / refgenChunk) }

// chunk generates the draws of chunk c in order and calls visit with each configuration (valid
// only during the call), its energy and its weight.
func (g *isResampler) chunk(c int, visit func(i int, x []float64, e, w float64)) {
	dim := g.sys.Dim()
	n, d := g.sys.Energy.Particles(), g.sys.Energy.SpatialDim()
	count := int(min(int64(refgenChunk), g.draws-int64(c)*refgenChunk))
	rng := rand.New(rand.NewPCG(g.seed, uint64(c)))
	x := make([]float64, refgenBatch*dim)
	e := make([]float64, refgenBatch)
	r2 := make([]float64, refgenBatch)
	inv := 1 / (2 * g.scale * g.scale)
	for lo := 0; lo < count; lo += refgenBatch {
		b := min(refgenBatch, count-lo)
		for k := range b {
			xs := x[k*dim : (k+1)*dim]
			for j := range xs {
				xs[j] = g.scale * rng.NormFloat64()
			}
			var s2 float64
			for c := range d {
				var m float64
				for p := range n {
					m += xs[p*d+c]
				}
				m /= float64(n)
				for p := range n {
					xs[p*d+c] -= m
					s2 += xs[p*d+c] * xs[p*d+c]
				}
			}
			r2[k] = s2
		}
		g.sys.Energy.EnergyGrad(x[:b*dim], e[:b], nil)
		for k := range b {
			lw := -e[k] + r2[k]*inv - logWeightOffset
			w := math.Exp(lw)
			if math.IsNaN(w) || math.IsInf(w, 0) {
				w = 0
			}
			visit(lo+k, x[k*dim:(k+1)*dim], e[k], w)
		}
	}
}

// parallel runs fn for every chunk on GOMAXPROCS goroutines; it stops early when ctx ends.
// It reports its progress on g.progress, when set, in steps of 10%.
func (g *isResampler) parallel(ctx context.Context, what string, fn func(c int)) error {
	var next, finished atomic.Int64
	nc := int64(g.chunks())
	var mu sync.Mutex
	shown := int64(0)
	report := func() {
		f := finished.Add(1)
		if g.progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if dec := 10 * f / nc; dec > shown {
			shown = dec
			fmt.Fprintf(g.progress, "refgen: %s %d%%\n", what, 10*dec)
		}
	}
	// each worker takes the next chunk until none is left
	workers := runtime.GOMAXPROCS(0)
	parallel.For(workers, workers, func(lo, hi int) {
		for range hi - lo {
			for ctx.Err() == nil {
				c := next.Add(1) - 1
				if c >= nc {
					break
				}
				fn(int(c))
				report()
			}
		}
	})
	return ctx.Err()
}

// isStats are the importance-sampling estimates over all draws.
type isStats struct {
	ess        float64   // (Σw)²/Σw²
	meanE, sdE float64   // weighted mean and sd of the energy
	shortPairs []float64 // weighted fractions by number of pairs closer than shortPairCutoff
}

// shortPairCutoff separates DW-4's arrangements (the barrier of its pair potential).
const shortPairCutoff = 4

// shortPairs returns the number of pairs of x (n particles in d dimensions) closer than
// shortPairCutoff.
func shortPairs(x []float64, n, d int) int {
	k := 0
	for i := range n {
		for j := i + 1; j < n; j++ {
			var r2 float64
			for c := range d {
				u := x[i*d+c] - x[j*d+c]
				r2 += u * u
			}
			if r2 < shortPairCutoff*shortPairCutoff {
				k++
			}
		}
	}
	return k
}

// run returns m resampled configurations (row-major), the draw index of each, and the
// importance-sampling estimates over all draws.
func (g *isResampler) run(ctx context.Context, m int) ([]float64, []int64, isStats, error) {
	nc := g.chunks()
	n, d := g.sys.Energy.Particles(), g.sys.Energy.SpatialDim()
	npairs := n * (n - 1) / 2
	s1 := make([]float64, nc)
	s2 := make([]float64, nc)
	se := make([]float64, nc)
	see := make([]float64, nc)
	sk := make([]float64, nc*(npairs+1))
	err := g.parallel(ctx, "weights", func(c int) {
		var a, b, ea, eb float64
		k := sk[c*(npairs+1) : (c+1)*(npairs+1)]
		g.chunk(c, func(_ int, x []float64, e, w float64) {
			a += w
			b += w * w
			if w > 0 {
				ea += w * e
				eb += w * e * e
				k[shortPairs(x, n, d)] += w
			}
		})
		s1[c], s2[c], se[c], see[c] = a, b, ea, eb
	})
	if err != nil {
		return nil, nil, isStats{}, fmt.Errorf("refgen: %w", err)
	}
	// Offsets of the chunks in the cumulative weight.
	off := make([]float64, nc+1)
	var sq float64
	for c := range nc {
		off[c+1] = off[c] + s1[c]
		sq += s2[c]
	}
	total := off[nc]
	if !(total > 0) {
		return nil, nil, isStats{}, fmt.Errorf("refgen: all weights vanish (scale %g)", g.scale)
	}
	st := isStats{ess: total * total / sq, shortPairs: make([]float64, npairs+1)}
	var me, mee float64
	for c := range nc {
		me += se[c]
		mee += see[c]
		for j := range npairs + 1 {
			st.shortPairs[j] += sk[c*(npairs+1)+j] / total
		}
	}
	st.meanE = me / total
	st.sdE = math.Sqrt(max(0, mee/total-st.meanE*st.meanE))
	// Systematic resampling: points (k + U)·total/m, k = 0..m−1.
	u0 := rand.New(rand.NewPCG(g.seed, math.MaxUint64)).Float64()
	pts := make([]float64, m)
	for k := range pts {
		pts[k] = (float64(k) + u0) * total / float64(m)
	}
	dim := g.sys.Dim()
	x := make([]float64, m*dim)
	ids := make([]int64, m)
	err = g.parallel(ctx, "resampling", func(c int) {
		// The points of this chunk: off[c] ≤ p < off[c+1] (the last chunk takes the rest).
		lo := sort.SearchFloat64s(pts, off[c])
		hi := sort.SearchFloat64s(pts, off[c+1])
		if c == nc-1 {
			hi = m
		}
		if lo >= hi {
			return
		}
		k := lo
		var cum float64
		last := -1
		g.chunk(c, func(i int, xs []float64, _, w float64) {
			cum += w
			for k < hi && off[c]+cum > pts[k] {
				copy(x[k*dim:(k+1)*dim], xs)
				ids[k] = int64(c)*refgenChunk + int64(i)
				k++
			}
			if w > 0 {
				last = i
			}
		})
		// Rounding may leave the chunk's last points unmatched: give them its last weighted draw.
		for ; k < hi && last >= 0; k++ {
			g.chunk(c, func(i int, xs []float64, _, _ float64) {
				if i == last {
					copy(x[k*dim:(k+1)*dim], xs)
					ids[k] = int64(c)*refgenChunk + int64(i)
				}
			})
		}
	})
	if err != nil {
		return nil, nil, isStats{}, fmt.Errorf("refgen: %w", err)
	}
	return x, ids, st, nil
}

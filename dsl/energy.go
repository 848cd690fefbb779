package dsl

import (
	"sync"
	"sync/atomic"
)

// Energy is an energy compiled from a formula. It implements energy.Energy: evaluation runs
// flat instruction tapes (one per sum body, one for the top-level expression) over lanes of
// configurations × particles or pairs, with the gradient derived by reverse mode when the
// declaration is compiled. It is safe for concurrent use.
type Energy struct {
	n, d    int
	box     []float64
	soften  float64
	top     *compiledCtx
	kernels []*compiledCtx
	chunk   int // configurations per chunk
	work    int // particle and pair terms per configuration
	usesCom bool
	pool    sync.Pool

	// where the energy was declared, for explaining non-finite values (diagnose.go)
	system    string
	file, src string
	// the explanation of the first non-finite evaluation, found once
	nonFinite     atomic.Pointer[Error]
	nonFiniteSeen atomic.Bool
}

type compiledCtx struct {
	// the graph (value and gradient nodes), its output and the gradient by each input: kept
	// to explain a non-finite evaluation (diagnose.go)
	g        *graph
	out      int32
	gradOuts []int32
	sum      *Sum // nil at top level
	specs    []inSpec
	val      *tape // outputs: value
	full     *tape // outputs: value, d value / d input for each input
	kind     SumKind
	top      bool
	scale    float64
	pi, pj   []int // pair (or particle) list per configuration (built by buildLists)
	n        int
	listOnce sync.Once
	lanes    int   // lanes per configuration
	needD    bool  // pair difference needed (as an input or for gradients of r, r2)
	slotD    []int // input slot of D_k, -1 if not an input
	slotR2   int
	poly     *polyKernel // native path for a sum of powers of r (nil: tape)
	used     []bool      // inputs the value depends on
	// polyInput is the input of the native path: r2 (pair sums), ‖x_i − com‖² or ‖x_i‖²
	polyInput int
	// top level only: the derivative of the energy by each sum when it is a constant
	seedKnown []bool
	seedConst []float64
}

// Particles is the number of particles.
func (en *Energy) Particles() int { return en.n }

// SpatialDim is the dimension of each particle.
func (en *Energy) SpatialDim() int { return en.d }

// compileCtx compiles a context: its value tape, its value-and-gradient tape, and how it runs
// (the seeds of the sums at top level; lanes, pair quantities and a native loop for a sum).
func compileCtx(c *ctx, n int, top bool) *compiledCtx {
	cc := &compiledCtx{specs: c.specs, top: top, scale: 1, slotR2: -1, g: c.g, out: c.out, sum: c.sum}
	cc.val = compileTape(c.g, []int32{c.out})
	grads := c.g.grad(c.out)
	cc.gradOuts = grads
	cc.full = compileTape(c.g, append([]int32{c.out}, grads...))
	// an input is used when the value depends on it (a pattern rewrite may leave some unused)
	cc.used = make([]bool, len(c.specs))
	for i, d := range grads {
		cc.used[i] = !c.g.isK(d, 0) || c.g.dependsOn(c.out, c.g.inputs[i])
	}
	if top {
		cc.lanes = 1
		cc.constantSeeds(c, grads)
		return cc
	}
	cc.kind = c.sum.Kind
	cc.n = n
	cc.layLanes(cc.pairInputs(), n)
	if nativeLoops {
		cc.chooseNative(c)
	}
	return cc
}

// constantSeeds records, for each sum the top level reads, whether the derivative of the
// energy by it is a constant, and which.
func (cc *compiledCtx) constantSeeds(c *ctx, grads []int32) {
	for i, s := range c.specs {
		if s.kind != inSum {
			continue
		}
		for len(cc.seedKnown) <= s.k {
			cc.seedKnown = append(cc.seedKnown, false)
			cc.seedConst = append(cc.seedConst, 0)
		}
		cc.seedConst[s.k], cc.seedKnown[s.k] = c.g.isConst(grads[i])
	}
}

// pairInputs notes the pair quantities the body reads (differences, squared distance) and
// reports whether the body is symmetric in the pair (reads neither differences nor one
// particle of the pair by itself).
func (cc *compiledCtx) pairInputs() (symmetric bool) {
	symmetric = true
	for i, s := range cc.specs {
		if !cc.used[i] {
			continue
		}
		switch s.kind {
		case inD:
			symmetric = false
			cc.needD = true
			if cc.slotD == nil {
				cc.slotD = []int{-1, -1, -1}
			}
		case inCoord, inU:
			if s.p < 0 {
				symmetric = false
			}
		case inR2:
			cc.slotR2 = i
			cc.needD = true
		}
	}
	return symmetric
}

// layLanes sets the lanes per configuration: one per particle or unordered pair; a sum over
// ordered pairs i≠j of a symmetric body runs over unordered pairs twice over (scale 2), other
// bodies over both orders.
func (cc *compiledCtx) layLanes(symmetric bool, n int) {
	switch cc.kind {
	case SumParticles:
		cc.lanes = n
	case SumPairsLess, SumPairsNe:
		cc.lanes = n * (n - 1) / 2
		if cc.kind == SumPairsNe {
			if symmetric {
				cc.scale = 2
			} else {
				cc.lanes *= 2
			}
		}
	}
}

// chooseNative picks a native loop (cpu_pairloop.go) when the body is a sum of powers of its
// one input: r2 for pair sums, ‖x_i − com‖² or ‖x_i‖² for particle sums.
func (cc *compiledCtx) chooseNative(c *ctx) {
	only := -1 // the one input the value depends on
	for i, u := range cc.used {
		if u {
			if only >= 0 {
				return
			}
			only = i
		}
	}
	if only < 0 {
		return
	}
	sp := c.specs[only]
	pairOK := cc.kind != SumParticles && sp.kind == inR2 && (cc.kind == SumPairsLess || cc.scale == 2)
	particleOK := cc.kind == SumParticles && (sp.kind == inQU || sp.kind == inQX)
	if !pairOK && !particleOK {
		return
	}
	if p, ok := polyOf(c.g, c.out, map[int32]laurent{}); ok && len(p) > 0 {
		cc.poly = newPolyKernel(p)
		cc.polyInput = only
	} else if pairOK {
		if pk := shiftedPoly(c.g, c.out); pk != nil {
			cc.poly = pk
			cc.polyInput = only
		}
	}
}

const targetLanes = 256

// parallelMinWork is the number of particle and pair terms below which a batch runs on one
// goroutine.
const parallelMinWork = 1 << 14

// nativeLoops enables the fused native loops for sums of powers (tests turn it off to check
// the tape path on the same energies).
var nativeLoops = true

func newEnergy(l *lowerer) *Energy {
	en := &Energy{n: l.n, d: l.d, box: l.box, soften: l.soften}
	en.top = compileCtx(l.top, l.n, true)
	maxLanes := 1
	for _, k := range l.kernels {
		ck := compileCtx(k, l.n, false)
		if ck.needD {
			ck.slotD = make([]int, l.d)
			for i := range ck.slotD {
				ck.slotD[i] = -1
			}
			for i, s := range ck.specs {
				if s.kind == inD {
					ck.slotD[s.k] = i
				}
			}
		}
		en.kernels = append(en.kernels, ck)
		if ck.poly == nil {
			maxLanes = max(maxLanes, ck.lanes)
		}
	}
	for _, c := range append([]*compiledCtx{en.top}, en.kernels...) {
		for _, s := range c.specs {
			if s.kind == inCom || s.kind == inU || s.kind == inQU {
				en.usesCom = true
			}
		}
	}
	en.chunk = max(1, targetLanes/maxLanes)
	en.work = l.n
	for _, k := range en.kernels {
		en.work += k.lanes
	}
	en.pool.New = func() any { return en.newWorkspace() }
	return en
}

// buildLists makes the particle or pair list of a sum (once, at the first evaluation, so that
// checking a script stays cheap for large systems).
func (cc *compiledCtx) buildLists() {
	cc.listOnce.Do(func() {
		n := cc.n
		switch cc.kind {
		case SumParticles:
			for i := 0; i < n; i++ {
				cc.pi = append(cc.pi, i)
			}
		case SumPairsLess, SumPairsNe:
			for i := 0; i < n; i++ {
				for j := i + 1; j < n; j++ {
					cc.pi = append(cc.pi, i)
					cc.pj = append(cc.pj, j)
				}
			}
			if cc.kind == SumPairsNe && cc.scale != 2 {
				for i := 0; i < n; i++ {
					for j := i + 1; j < n; j++ {
						cc.pi = append(cc.pi, j)
						cc.pj = append(cc.pj, i)
					}
				}
			}
		}
	})
}

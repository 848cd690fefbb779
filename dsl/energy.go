package dsl

import (
	"math"
	"runtime"
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
}

type compiledCtx struct {
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

func compileCtx(c *ctx, n int, top bool) *compiledCtx {
	cc := &compiledCtx{specs: c.specs, top: top, scale: 1, slotR2: -1}
	cc.val = compileTape(c.g, []int32{c.out})
	grads := c.g.grad(c.out)
	cc.full = compileTape(c.g, append([]int32{c.out}, grads...))
	// an input is used when the value depends on it (a pattern rewrite may leave some unused)
	cc.used = make([]bool, len(c.specs))
	for i, d := range grads {
		cc.used[i] = !c.g.isK(d, 0) || c.g.dependsOn(c.out, c.g.inputs[i])
	}
	if top {
		cc.lanes = 1
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
		return cc
	}
	cc.kind = c.sum.Kind
	symmetric := true
	for i, s := range c.specs {
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
	cc.n = n
	only := -1 // the one input the value depends on
	for i, u := range cc.used {
		if u {
			if only >= 0 {
				only = -2
				break
			}
			only = i
		}
	}
	if only >= 0 && nativeLoops {
		sp := c.specs[only]
		pairOK := cc.kind != SumParticles && sp.kind == inR2 && (cc.kind == SumPairsLess || cc.scale == 2)
		particleOK := cc.kind == SumParticles && (sp.kind == inQU || sp.kind == inQX)
		if pairOK || particleOK {
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
	}
	return cc
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

type ctxWork struct {
	val, full []float64 // slot buffers for the two tapes
	d         [][]float64
	r         []float64
	stride    int
	sums      []float64 // per configuration
	seeds     []float64
}

type workspace struct {
	x       []float64 // the batch being evaluated
	top     ctxWork
	kernels []ctxWork
	com     []float64
	comGrad []float64
}

func (en *Energy) newCtxWork(c *compiledCtx) ctxWork {
	stride := en.chunk * c.lanes
	w := ctxWork{stride: stride}
	w.val = make([]float64, c.val.nslots*stride)
	w.full = make([]float64, c.full.nslots*stride)
	c.val.fillConsts(w.val, stride)
	c.full.fillConsts(w.full, stride)
	if c.needD {
		w.d = make([][]float64, en.d)
		for k := range w.d {
			w.d[k] = make([]float64, stride)
		}
		w.r = make([]float64, stride)
	}
	w.sums = make([]float64, en.chunk)
	w.seeds = make([]float64, en.chunk)
	return w
}

func (en *Energy) newWorkspace() any {
	ws := &workspace{top: en.newCtxWork(en.top)}
	for _, k := range en.kernels {
		ws.kernels = append(ws.kernels, en.newCtxWork(k))
	}
	ws.com = make([]float64, en.chunk*en.d)
	ws.comGrad = make([]float64, en.chunk*en.d)
	return ws
}

// EnergyGrad evaluates a batch: x holds len(e) configurations of n·d numbers; e receives the
// energies; grad, when not nil, receives the gradients. The batch is split over cores.
// Slices that are too short give NaN energies.
func (en *Energy) EnergyGrad(x, e, grad []float64) {
	B := len(e)
	nd := en.n * en.d
	if len(x) < B*nd || (grad != nil && len(grad) < B*nd) {
		for i := range e {
			e[i] = math.NaN()
		}
		return
	}
	for _, k := range en.kernels {
		k.buildLists()
	}
	// chunks of at most en.chunk configurations (the workspace size), small enough that every
	// core gets about two of them
	procs := runtime.GOMAXPROCS(0)
	size := en.chunk
	if B < 2*procs*size {
		size = max(min(8, size), (B+2*procs-1)/(2*procs))
	}
	chunks := (B + size - 1) / size
	workers := min(procs, chunks)
	if B*en.work < parallelMinWork {
		workers = 1 // too little work to pay for goroutines
	}
	if workers <= 1 {
		ws := en.pool.Get().(*workspace)
		for c := 0; c < chunks; c++ {
			en.evalChunk(ws, x, e, grad, c*size, min(B, (c+1)*size))
		}
		en.pool.Put(ws)
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws := en.pool.Get().(*workspace)
			for {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					break
				}
				en.evalChunk(ws, x, e, grad, c*size, min(B, (c+1)*size))
			}
			en.pool.Put(ws)
		}()
	}
	wg.Wait()
}

func (en *Energy) evalChunk(ws *workspace, x, e, grad []float64, c0, c1 int) {
	n, d := en.n, en.d
	nd := n * d
	C := c1 - c0
	withGrad := grad != nil
	ws.x = x
	if withGrad {
		g := grad[c0*nd : c1*nd]
		for i := range g {
			g[i] = 0
		}
	}
	allNative := true
	for m, k := range en.kernels {
		if k.poly == nil || withGrad && !en.top.seedKnown[m] {
			allNative = false
		}
	}
	if allNative {
		// every sum runs natively with a known seed: finish each configuration in one pass
		for c := 0; c < C; c++ {
			xc := x[(c0+c)*nd : (c0+c+1)*nd]
			var gc []float64
			if withGrad {
				gc = grad[(c0+c)*nd : (c0+c+1)*nd]
			}
			cm, cg := ws.com[c*d:c*d+d], ws.comGrad[c*d:c*d+d]
			if en.usesCom {
				en.comOf(xc, cm, cg)
			}
			for m, k := range en.kernels {
				seed := 0.0
				var g []float64
				if withGrad {
					seed = en.top.seedConst[m]
					if seed != 0 {
						g = gc
					}
				}
				if k.kind == SumParticles {
					ws.kernels[m].sums[c] = en.particleLoop(k, xc, cm, cg, g, seed)
				} else {
					ws.kernels[m].sums[c] = en.pairLoop(k, xc, g, seed)
				}
			}
			if en.usesCom && withGrad {
				en.spreadCom(gc, cg)
			}
		}
	} else {
		en.evalSums(ws, x, grad, c0, C)
	}
	// top level
	top := en.top
	w := &ws.top
	t, buf := top.val, w.val
	if withGrad {
		t, buf = top.full, w.full
	}
	for i, s := range top.specs {
		dst := buf[i*w.stride : i*w.stride+C]
		for c := range dst {
			switch s.kind {
			case inSum:
				dst[c] = ws.kernels[s.k].sums[c]
			case inCoord:
				dst[c] = x[(c0+c)*nd+s.p*d+s.k]
			case inCom:
				dst[c] = ws.com[c*d+s.k]
			case inU:
				dst[c] = x[(c0+c)*nd+s.p*d+s.k] - ws.com[c*d+s.k]
			}
		}
	}
	t.run(buf, w.stride, C)
	if o := t.outs[0]; o >= 0 {
		copy(e[c0:c1], buf[int(o)*w.stride:int(o)*w.stride+C])
	} else {
		for c := c0; c < c1; c++ {
			e[c] = 0
		}
	}
	if !withGrad {
		return
	}
	for i, s := range top.specs {
		o := t.outs[1+i]
		for c := 0; c < C; c++ {
			gv := 0.0
			if o >= 0 {
				gv = buf[int(o)*w.stride+c]
			}
			switch s.kind {
			case inSum:
				ws.kernels[s.k].seeds[c] = gv
			case inCoord:
				grad[(c0+c)*nd+s.p*d+s.k] += gv
			case inCom:
				ws.comGrad[c*d+s.k] += gv
			case inU:
				grad[(c0+c)*nd+s.p*d+s.k] += gv
				ws.comGrad[c*d+s.k] -= gv
			}
		}
	}
	for m, k := range en.kernels {
		if k.poly != nil && en.top.seedKnown[m] {
			continue // gradient added by the native pair loop
		}
		en.scatter(k, &ws.kernels[m], ws, grad, c0, C)
	}
	if en.usesCom {
		for c := 0; c < C; c++ {
			en.spreadCom(grad[(c0+c)*nd:(c0+c+1)*nd], ws.comGrad[c*d:c*d+d])
		}
	}
}

// gather fills the input slots of a sum's tape for configurations c0..c0+C-1.
func (en *Energy) gather(k *compiledCtx, w *ctxWork, buf, x, com []float64, c0, C int) {
	n, d := en.n, en.d
	nd := n * d
	P := k.lanes
	stride := w.stride
	if k.needD {
		var dd [][]float64 = w.d
		// write the differences straight into input slots where they are inputs
		for kk := 0; kk < d; kk++ {
			if s := k.slotD[kk]; s >= 0 {
				dd[kk] = buf[s*stride : (s+1)*stride]
			}
		}
		r2 := w.r
		if k.slotR2 >= 0 {
			r2 = buf[k.slotR2*stride : (k.slotR2+1)*stride]
		}
		soft := en.soften
		box := en.box
		if d == 3 && len(box) == 0 {
			d0, d1, d2 := dd[0], dd[1], dd[2]
			for c := 0; c < C; c++ {
				xc := x[(c0+c)*nd : (c0+c+1)*nd]
				base := c * P
				for p, i := range k.pi {
					j := k.pj[p]
					a := xc[3*i : 3*i+3 : 3*i+3]
					b := xc[3*j : 3*j+3 : 3*j+3]
					dx, dy, dz := a[0]-b[0], a[1]-b[1], a[2]-b[2]
					l := base + p
					d0[l], d1[l], d2[l] = dx, dy, dz
					r2[l] = dx*dx + dy*dy + dz*dz + soft
				}
			}
		} else {
			for c := 0; c < C; c++ {
				xc := x[(c0+c)*nd : (c0+c+1)*nd]
				base := c * P
				for p, i := range k.pi {
					j := k.pj[p]
					l := base + p
					s := soft
					for kk := 0; kk < d; kk++ {
						v := xc[i*d+kk] - xc[j*d+kk]
						if len(box) > 0 {
							v -= box[kk] * math.RoundToEven(v/box[kk])
						}
						dd[kk][l] = v
						s += v * v
					}
					r2[l] = s
				}
			}
		}
		w.r = r2
		for kk := 0; kk < d; kk++ {
			w.d[kk] = dd[kk]
		}
	}
	for i, s := range k.specs {
		if !k.used[i] {
			continue
		}
		switch s.kind {
		case inQU, inQX:
			dst := buf[i*stride:]
			for c := 0; c < C; c++ {
				xc := x[(c0+c)*nd : (c0+c+1)*nd]
				out := dst[c*P : c*P+P]
				for p := range out {
					q := 0.0
					for kk := 0; kk < d; kk++ {
						u := xc[p*d+kk]
						if s.kind == inQU {
							u -= com[c*d+kk]
						}
						q += u * u
					}
					out[p] = q
				}
			}
		case inU:
			dst := buf[i*stride:]
			for c := 0; c < C; c++ {
				xc := x[(c0+c)*nd+s.k : (c0+c+1)*nd]
				out := dst[c*P : c*P+P]
				m := com[c*d+s.k]
				switch {
				case s.p >= 0:
					v := xc[s.p*d] - m
					for p := range out {
						out[p] = v
					}
				case k.kind == SumParticles:
					for p := range out {
						out[p] = xc[p*d] - m
					}
				default:
					idx := k.pi
					if s.p == refJ {
						idx = k.pj
					}
					for p, q := range idx[:len(out)] {
						out[p] = xc[q*d] - m
					}
				}
			}
		case inCoord:
			dst := buf[i*stride:]
			idx := k.pi
			if s.p == refJ {
				idx = k.pj
			}
			for c := 0; c < C; c++ {
				xc := x[(c0+c)*nd+s.k : (c0+c+1)*nd]
				out := dst[c*P : c*P+P]
				switch {
				case s.p >= 0:
					v := xc[s.p*d]
					for p := range out {
						out[p] = v
					}
				case k.kind == SumParticles:
					for p := range out {
						out[p] = xc[p*d]
					}
				default:
					for p, q := range idx[:len(out)] {
						out[p] = xc[q*d]
					}
				}
			}
		case inCom:
			dst := buf[i*stride:]
			for c := 0; c < C; c++ {
				v := com[c*d+s.k]
				for p := 0; p < P; p++ {
					dst[c*P+p] = v
				}
			}
		}
	}
}

// scatter adds a sum's per-lane gradients, times the top-level seed, into grad.
func (en *Energy) scatter(k *compiledCtx, w *ctxWork, ws *workspace, grad []float64, c0, C int) {
	n, d := en.n, en.d
	nd := n * d
	P := k.lanes
	t := k.full
	buf := w.full
	stride := w.stride
	slot := func(i int) []float64 {
		o := t.outs[1+i]
		if o < 0 {
			return nil
		}
		return buf[int(o)*stride : int(o+1)*stride]
	}
	if k.needD {
		var gR2 []float64
		if k.slotR2 >= 0 {
			gR2 = slot(k.slotR2)
		}
		gD := make([][]float64, d)
		for kk := 0; kk < d; kk++ {
			if s := k.slotD[kk]; s >= 0 {
				gD[kk] = slot(s)
			}
		}
		if d == 3 && gD[0] == nil && gD[1] == nil && gD[2] == nil {
			d0, d1, d2 := w.d[0], w.d[1], w.d[2]
			for c := 0; c < C; c++ {
				s := w.seeds[c] * k.scale
				if s == 0 {
					continue
				}
				gc := grad[(c0+c)*nd : (c0+c+1)*nd]
				base := c * P
				for p, i := range k.pi {
					j := k.pj[p]
					l := base + p
					coef := 0.0
					if gR2 != nil {
						coef = 2 * gR2[l] * s
					}
					vx, vy, vz := coef*d0[l], coef*d1[l], coef*d2[l]
					a := gc[3*i : 3*i+3 : 3*i+3]
					a[0] += vx
					a[1] += vy
					a[2] += vz
					b := gc[3*j : 3*j+3 : 3*j+3]
					b[0] -= vx
					b[1] -= vy
					b[2] -= vz
				}
			}
		} else {
			for c := 0; c < C; c++ {
				s := w.seeds[c] * k.scale
				if s == 0 {
					continue
				}
				gc := grad[(c0+c)*nd : (c0+c+1)*nd]
				base := c * P
				for p, i := range k.pi {
					j := k.pj[p]
					l := base + p
					coef := 0.0
					if gR2 != nil {
						coef = 2 * gR2[l]
					}
					for kk := 0; kk < d; kk++ {
						v := coef * w.d[kk][l]
						if gD[kk] != nil {
							v += gD[kk][l]
						}
						v *= s
						gc[i*d+kk] += v
						gc[j*d+kk] -= v
					}
				}
			}
		}
	}
	for i, sp := range k.specs {
		if (sp.kind == inQU || sp.kind == inQX) && slot(i) != nil {
			g := slot(i)
			for c := 0; c < C; c++ {
				s := w.seeds[c] * k.scale
				if s == 0 {
					continue
				}
				xc := ws.x[(c0+c)*nd : (c0+c+1)*nd]
				gc := grad[(c0+c)*nd : (c0+c+1)*nd]
				for p := 0; p < P; p++ {
					f := 2 * s * g[c*P+p]
					for kk := 0; kk < d; kk++ {
						u := xc[p*d+kk]
						if sp.kind == inQU {
							u -= ws.com[c*d+kk]
						}
						gc[p*d+kk] += f * u
						if sp.kind == inQU {
							ws.comGrad[c*d+kk] -= f * u
						}
					}
				}
			}
			continue
		}
		if sp.kind != inCoord && sp.kind != inCom && sp.kind != inU {
			continue
		}
		g := slot(i)
		if g == nil {
			continue
		}
		for c := 0; c < C; c++ {
			s := w.seeds[c] * k.scale
			if s == 0 {
				continue
			}
			gc := grad[(c0+c)*nd+sp.k : (c0+c+1)*nd]
			gl := g[c*P : c*P+P]
			acc := 0.0
			switch {
			case sp.kind == inCom:
				for _, v := range gl {
					acc += v
				}
			case sp.p >= 0:
				for _, v := range gl {
					acc += v
				}
				gc[sp.p*d] += acc * s
			case k.kind == SumParticles:
				for p, v := range gl {
					gc[p*d] += v * s
					acc += v
				}
			default:
				idx := k.pi
				if sp.p == refJ {
					idx = k.pj
				}
				for p, v := range gl {
					gc[idx[p]*d] += v * s
					acc += v
				}
			}
			switch sp.kind {
			case inCom:
				ws.comGrad[c*d+sp.k] += acc * s
			case inU:
				ws.comGrad[c*d+sp.k] -= acc * s
			}
		}
	}
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

// evalSums evaluates the sums of configurations c0..c0+C-1 (the centre of mass first).
func (en *Energy) evalSums(ws *workspace, x, grad []float64, c0, C int) {
	n, d := en.n, en.d
	nd := n * d
	withGrad := grad != nil
	if en.usesCom {
		for c := 0; c < C; c++ {
			en.comOf(x[(c0+c)*nd:(c0+c+1)*nd], ws.com[c*d:c*d+d], ws.comGrad[c*d:c*d+d])
		}
	}
	// sums
	for m, k := range en.kernels {
		w := &ws.kernels[m]
		if k.poly != nil && (!withGrad || en.top.seedKnown[m]) {
			seed := 0.0
			if withGrad {
				seed = en.top.seedConst[m]
			}
			for c := 0; c < C; c++ {
				var g []float64
				if withGrad && seed != 0 {
					g = grad[(c0+c)*nd : (c0+c+1)*nd]
				}
				xc := x[(c0+c)*nd : (c0+c+1)*nd]
				if k.kind == SumParticles {
					w.sums[c] = en.particleLoop(k, xc, ws.com[c*d:c*d+d], ws.comGrad[c*d:c*d+d], g, seed)
				} else {
					w.sums[c] = en.pairLoop(k, xc, g, seed)
				}
			}
			continue
		}
		t, buf := k.val, w.val
		if withGrad {
			t, buf = k.full, w.full
		}
		L := C * k.lanes
		en.gather(k, w, buf, x, ws.com, c0, C)
		t.run(buf, w.stride, L)
		for c := 0; c < C; c++ {
			s := 0.0
			if o := t.outs[0]; o >= 0 {
				f := buf[int(o)*w.stride+c*k.lanes : int(o)*w.stride+(c+1)*k.lanes]
				for _, v := range f {
					s += v
				}
			}
			w.sums[c] = k.scale * s
		}
	}
}

// comOf sets cm to the centre of mass of configuration xc and zeroes cg.
func (en *Energy) comOf(xc, cm, cg []float64) {
	n, d := en.n, en.d
	inv := 1 / float64(n)
	if d == 3 {
		var s0, s1, s2 float64
		for p := 0; p < n; p++ {
			xp := xc[3*p : 3*p+3 : 3*p+3]
			s0 += xp[0]
			s1 += xp[1]
			s2 += xp[2]
		}
		cm[0], cm[1], cm[2] = s0*inv, s1*inv, s2*inv
		cg[0], cg[1], cg[2] = 0, 0, 0
		return
	}
	for k := 0; k < d; k++ {
		s := 0.0
		for p := 0; p < n; p++ {
			s += xc[p*d+k]
		}
		cm[k] = s * inv
		cg[k] = 0
	}
}

// spreadCom adds the gradient cg by the centre of mass to every particle of gc (∂com/∂x_p =
// 1/n) and zeroes cg.
func (en *Energy) spreadCom(gc, cg []float64) {
	n, d := en.n, en.d
	inv := 1 / float64(n)
	if d == 3 {
		v0, v1, v2 := cg[0]*inv, cg[1]*inv, cg[2]*inv
		cg[0], cg[1], cg[2] = 0, 0, 0
		if v0 == 0 && v1 == 0 && v2 == 0 {
			return
		}
		for p := 0; p < n; p++ {
			gp := gc[3*p : 3*p+3 : 3*p+3]
			gp[0] += v0
			gp[1] += v1
			gp[2] += v2
		}
		return
	}
	for k := 0; k < d; k++ {
		v := cg[k] * inv
		cg[k] = 0
		if v == 0 {
			continue
		}
		for p := 0; p < n; p++ {
			gc[p*d+k] += v
		}
	}
}

package dsl

import (
	"math"
	"runtime"
	"sync/atomic"

	"adjoint/internal/parallel"
)

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
			en.runChunk(ws, x, e, grad, c*size, min(B, (c+1)*size))
		}
		en.pool.Put(ws)
		return
	}
	// each worker takes the next chunk until none is left
	var next atomic.Int64
	parallel.For(workers, workers, func(lo, hi int) {
		for range hi - lo {
			ws := en.pool.Get().(*workspace)
			for {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					break
				}
				en.runChunk(ws, x, e, grad, c*size, min(B, (c+1)*size))
			}
			en.pool.Put(ws)
		}
	})
}

// runChunk evaluates configurations c0..c1-1 and, until one has been found, looks for a
// non-finite result to explain (checkFinite).
func (en *Energy) runChunk(ws *workspace, x, e, grad []float64, c0, c1 int) {
	en.evalChunk(ws, x, e, grad, c0, c1)
	if !en.nonFiniteSeen.Load() {
		en.checkFinite(x, e, c0, c1)
	}
}

// evalChunk evaluates configurations c0..c1-1: the sums (by the native loops or the tapes),
// then the top-level expression, then the gradient of every sum the native loops did not
// already add.
func (en *Energy) evalChunk(ws *workspace, x, e, grad []float64, c0, c1 int) {
	nd := en.n * en.d
	C := c1 - c0
	withGrad := grad != nil
	ws.x = x
	if withGrad {
		g := grad[c0*nd : c1*nd]
		for i := range g {
			g[i] = 0
		}
	}
	if en.allNative(withGrad) {
		en.nativeSums(ws, x, grad, c0, C)
	} else {
		en.evalSums(ws, x, grad, c0, C)
	}
	en.evalTop(ws, x, e, grad, c0, C)
	if !withGrad {
		return
	}
	for m, k := range en.kernels {
		if k.poly != nil && en.top.seedKnown[m] {
			continue // gradient added by the native pair loop
		}
		en.scatter(k, &ws.kernels[m], ws, grad, c0, C)
	}
	if en.usesCom {
		d := en.d
		for c := 0; c < C; c++ {
			en.spreadCom(grad[(c0+c)*nd:(c0+c+1)*nd], ws.comGrad[c*d:c*d+d])
		}
	}
}

// allNative reports whether every sum runs on a native loop (with a known seed when the
// gradient is wanted).
func (en *Energy) allNative(withGrad bool) bool {
	for m, k := range en.kernels {
		if k.poly == nil || withGrad && !en.top.seedKnown[m] {
			return false
		}
	}
	return true
}

// nativeSums runs every sum natively, finishing each configuration in one pass.
func (en *Energy) nativeSums(ws *workspace, x, grad []float64, c0, C int) {
	d := en.d
	nd := en.n * d
	withGrad := grad != nil
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
}

// evalTop runs the top-level tape: it writes the energies and, with the gradient, adds the
// derivatives by fixed coordinates and the centre of mass, and sets the seeds of the sums.
func (en *Energy) evalTop(ws *workspace, x, e, grad []float64, c0, C int) {
	d := en.d
	nd := en.n * d
	withGrad := grad != nil
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
		copy(e[c0:c0+C], buf[int(o)*w.stride:int(o)*w.stride+C])
	} else {
		for c := c0; c < c0+C; c++ {
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

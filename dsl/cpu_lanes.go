package dsl

import (
	"math"
)

// gather fills the input slots of a sum's tape for configurations c0..c0+C-1.
func (en *Energy) gather(k *compiledCtx, w *ctxWork, buf, x, com []float64, c0, C int) {
	if k.needD {
		en.gatherPairs(k, w, buf, x, c0, C)
	}
	en.gatherInputs(k, w, buf, x, com, c0, C)
}

// gatherPairs computes the pair differences (minimum image in a periodic box) and squared
// distances of every lane, straight into the input slots where they are inputs.
func (en *Energy) gatherPairs(k *compiledCtx, w *ctxWork, buf, x []float64, c0, C int) {
	n, d := en.n, en.d
	nd := n * d
	P := k.lanes
	stride := w.stride
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

// gatherInputs fills the other used inputs of the lanes: coordinates, centred coordinates,
// radial inputs and the centre of mass.
func (en *Energy) gatherInputs(k *compiledCtx, w *ctxWork, buf, x, com []float64, c0, C int) {
	n, d := en.n, en.d
	nd := n * d
	P := k.lanes
	stride := w.stride
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
	if k.needD {
		en.scatterPairs(k, w, grad, c0, C)
	}
	en.scatterInputs(k, w, ws, grad, c0, C)
}

// laneGrad is the gradient slot of input i in the full tape's buffer (nil when it is 0).
func (k *compiledCtx) laneGrad(w *ctxWork, i int) []float64 {
	o := k.full.outs[1+i]
	if o < 0 {
		return nil
	}
	return w.full[int(o)*w.stride : int(o+1)*w.stride]
}

// scatterPairs adds the gradients by the pair differences and squared distances to both
// particles of every pair.
func (en *Energy) scatterPairs(k *compiledCtx, w *ctxWork, grad []float64, c0, C int) {
	n, d := en.n, en.d
	nd := n * d
	P := k.lanes
	slot := func(i int) []float64 { return k.laneGrad(w, i) }
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

// scatterInputs adds the gradients by coordinates, centred coordinates, radial inputs and
// the centre of mass.
func (en *Energy) scatterInputs(k *compiledCtx, w *ctxWork, ws *workspace, grad []float64, c0, C int) {
	n, d := en.n, en.d
	nd := n * d
	P := k.lanes
	slot := func(i int) []float64 { return k.laneGrad(w, i) }
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

package tensor

import "math"

// Pair tensors store the n·(n−1) ordered pairs (i, j), i ≠ j, of a fully connected particle
// graph densely as [B, n, n−1, ...]: slot k of particle i is partner j = k for k < i and
// j = k+1 otherwise.

// PairPartner is the partner j of slot k of particle i in the pair layout.
func PairPartner(i, k int) int {
	if k < i {
		return k
	}
	return k + 1
}

// PairDiff is x_i − x_j over all ordered pairs: x [B, n, d] → [B, n, n−1, d].
func (tp *Tape) PairDiff(x *Tensor) *Tensor {
	if !tp.check(x) {
		return tp.placeholder()
	}
	if x.rank != 3 || x.shape[1] < 2 {
		tp.fail("PairDiff: want [B, n ≥ 2, d], have %v", x.Shape())
		return tp.placeholder()
	}
	B, n, d := x.shape[0], x.shape[1], x.shape[2]
	y := tp.alloc(4, B, n, n-1, d)
	if tp.dtype == Float64 {
		pairDiffForward(data[float64](x), data[float64](y), B, n, d)
	} else {
		pairDiffForward(data[float32](x), data[float32](y), B, n, d)
	}
	tp.record(node{kind: opPairDiff, out: y, in: [6]*Tensor{x}})
	return y
}

func pairDiffForward[T float](x, y []T, B, n, d int) {
	p := 0
	for b := 0; b < B; b++ {
		xb := x[b*n*d : (b+1)*n*d]
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				if j == i {
					continue
				}
				for c := 0; c < d; c++ {
					y[p] = xb[i*d+c] - xb[j*d+c]
					p++
				}
			}
		}
	}
}

func pairDiffBackward[T float](nd *node) {
	x := nd.in[0]
	dx := grad[T](x)
	if dx == nil {
		return
	}
	B, n, d := x.shape[0], x.shape[1], x.shape[2]
	dy := grad[T](nd.out)
	p := 0
	for b := 0; b < B; b++ {
		db := dx[b*n*d : (b+1)*n*d]
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				if j == i {
					continue
				}
				for c := 0; c < d; c++ {
					db[i*d+c] += dy[p]
					db[j*d+c] -= dy[p]
					p++
				}
			}
		}
	}
}

// SqNorm is the squared norm over the last axis: [..., d] → [...] (rank ≥ 2).
func (tp *Tape) SqNorm(x *Tensor) *Tensor {
	if !tp.check(x) {
		return tp.placeholder()
	}
	if x.rank < 2 {
		tp.fail("SqNorm: rank %d < 2", x.rank)
		return tp.placeholder()
	}
	s := x.shape
	s[x.rank-1] = 0
	y := tp.alloc(x.rank-1, s[0], s[1], s[2], s[3])
	if tp.dtype == Float64 {
		sqNormForward(data[float64](x), data[float64](y), x.cols())
	} else {
		sqNormForward(data[float32](x), data[float32](y), x.cols())
	}
	tp.record(node{kind: opSqNorm, out: y, in: [6]*Tensor{x}})
	return y
}

func sqNormForward[T float](x, y []T, d int) {
	for r := range y {
		var s T
		for _, v := range x[r*d : (r+1)*d] {
			s += v * v
		}
		y[r] = s
	}
}

func sqNormBackward[T float](nd *node) {
	x := nd.in[0]
	dx := grad[T](x)
	if dx == nil {
		return
	}
	d := x.cols()
	xd, dy := data[T](x), grad[T](nd.out)
	for r, g := range dy {
		for c := 0; c < d; c++ {
			dx[r*d+c] += 2 * g * xd[r*d+c]
		}
	}
}

// NormEps is the ε inside the square root of NormDiff.
const NormEps = 1e-8

// NormDiff scales difference vectors: D [..., d], r [...] (their squared norms) →
// D / (sqrt(r + 1e-8) + 1).
func (tp *Tape) NormDiff(D, r *Tensor) *Tensor {
	if !tp.check(D, r) {
		return tp.placeholder()
	}
	if D.rank != r.rank+1 || D.rows() != r.Len() {
		tp.fail("NormDiff: shapes %v and %v", D.Shape(), r.Shape())
		return tp.placeholder()
	}
	y := tp.allocLike(D)
	d := D.cols()
	if tp.dtype == Float64 {
		normDiffForward(data[float64](D), data[float64](r), data[float64](y), d)
	} else {
		normDiffForward(data[float32](D), data[float32](r), data[float32](y), d)
	}
	tp.record(node{kind: opNormDiff, out: y, in: [6]*Tensor{D, r}})
	return y
}

func sqrtT[T float](x T) T { return T(math.Sqrt(float64(x))) }

func normDiffForward[T float](D, r, y []T, d int) {
	for e, rv := range r {
		inv := 1 / (sqrtT(rv+NormEps) + 1)
		for c := 0; c < d; c++ {
			y[e*d+c] = D[e*d+c] * inv
		}
	}
}

func normDiffBackward[T float](nd *node) {
	D, r := nd.in[0], nd.in[1]
	dD, dr := grad[T](D), grad[T](r)
	Dd, rd, dy := data[T](D), data[T](r), grad[T](nd.out)
	d := D.cols()
	for e, rv := range rd {
		s := sqrtT(rv + NormEps)
		inv := 1 / (s + 1)
		var dot T
		for c := 0; c < d; c++ {
			g := dy[e*d+c]
			if dD != nil {
				dD[e*d+c] += g * inv
			}
			dot += g * Dd[e*d+c]
		}
		if dr != nil {
			dr[e] -= dot * inv * inv / (2 * s)
		}
	}
}

// EdgeCombine is the first edge layer of an EGNN split at node level:
// act(a_i + bm_j + wr·r_ij + we·e_ij) for a, bm [B, n, H] (node terms, the bias in bm),
// r, e [B, n, n−1] (pair scalars; e and we may be nil) and wr, we [H]. Result [B, n, n−1, H].
func (tp *Tape) EdgeCombine(a, bm, r, e, wr, we *Tensor, act Act) *Tensor {
	if !tp.check(a, bm, r, e, wr, we) {
		return tp.placeholder()
	}
	if a.rank != 3 || !sameShape(a, bm) || r.rank != 3 || r.shape[0] != a.shape[0] ||
		r.shape[1] != a.shape[1] || r.shape[2] != a.shape[1]-1 || wr.Len() != a.shape[2] ||
		(e != nil && !sameShape(e, r)) || (e == nil) != (we == nil) || (we != nil && we.Len() != a.shape[2]) {
		tp.fail("EdgeCombine: shapes a %v, bm %v, r %v, e %v, wr %v, we %v", a.Shape(), bm.Shape(), r.Shape(),
			shapeOf(e), wr.Shape(), shapeOf(we))
		return tp.placeholder()
	}
	B, n, H := a.shape[0], a.shape[1], a.shape[2]
	y := tp.alloc(4, B, n, n-1, H)
	var pre *Tensor
	if anyGrad(a, bm, r, e, wr, we) && needsPre(act) {
		pre = tp.allocLike(y)
	}
	if tp.dtype == Float64 {
		edgeCombineForward[float64](tp, a, bm, r, e, wr, we, pre, y, act)
	} else {
		edgeCombineForward[float32](tp, a, bm, r, e, wr, we, pre, y, act)
	}
	tp.record(node{kind: opEdgeCombine, act: act, out: y, in: [6]*Tensor{a, bm, r, e, wr, we}, aux: pre})
	return y
}

type ecFwdJob[T float] struct {
	ad, bd, rd, ed, wrd, wed, yd, pd []T
	n, H                             int
	act                              Act
}

func edgeCombineForward[T float](tp *Tape, a, bm, r, e, wr, we, pre, y *Tensor, act Act) {
	B, n, H := a.shape[0], a.shape[1], a.shape[2]
	j := &jobsFor[T](tp).ecFwd
	*j = ecFwdJob[T]{ad: data[T](a), bd: data[T](bm), rd: data[T](r), ed: data[T](e), wrd: data[T](wr), wed: data[T](we),
		yd: data[T](y), pd: data[T](pre), n: n, H: H, act: act}
	tp.par(B, n*n*H, j)
}

func (jb *ecFwdJob[T]) Run(_, lo, hi int) {
	ad, bd, rd, ed, wrd, wed, yd, pd := jb.ad, jb.bd, jb.rd, jb.ed, jb.wrd, jb.wed, jb.yd, jb.pd
	n, H, act := jb.n, jb.H, jb.act
	for b := lo; b < hi; b++ {
		for i := 0; i < n; i++ {
			ai := ad[(b*n+i)*H : (b*n+i+1)*H]
			for k := 0; k < n-1; k++ {
				j := PairPartner(i, k)
				bj := bd[(b*n+j)*H : (b*n+j+1)*H]
				p := (b*n+i)*(n-1) + k
				rv := rd[p]
				z := yd[p*H : (p+1)*H]
				if ed != nil {
					ev := ed[p]
					for h := range z {
						z[h] = ai[h] + bj[h] + wrd[h]*rv + wed[h]*ev
					}
				} else {
					for h := range z {
						z[h] = ai[h] + bj[h] + wrd[h]*rv
					}
				}
				var sig []T
				if pd != nil {
					sig = pd[p*H : (p+1)*H]
				}
				actForward(act, z, z, sig)
			}
		}
	}
}

type ecBwdJob[T float] struct {
	da, dbm, dr, de, dwr, dwe, rd, ed, wrd, wed, yd, dy, pd, parts []T
	n, H                                                           int
	act                                                            Act
}

func edgeCombineBackward[T float](tp *Tape, nd *node) {
	a, bm, r, e, wr, we := nd.in[0], nd.in[1], nd.in[2], nd.in[3], nd.in[4], nd.in[5]
	B, n, H := a.shape[0], a.shape[1], a.shape[2]
	dwr, dwe := grad[T](wr), grad[T](we)
	p := chunks(B, n*n*H)
	var parts []T
	if p > 1 && (dwr != nil || dwe != nil) {
		parts = data[T](tp.alloc(2, p-1, 2*H, 0, 0))
		clear(parts)
	}
	j := &jobsFor[T](tp).ecBwd
	*j = ecBwdJob[T]{da: grad[T](a), dbm: grad[T](bm), dr: grad[T](r), de: grad[T](e), dwr: dwr, dwe: dwe,
		rd: data[T](r), ed: data[T](e), wrd: data[T](wr), wed: data[T](we), yd: data[T](nd.out), dy: grad[T](nd.out),
		pd: data[T](nd.aux), parts: parts, n: n, H: H, act: nd.act}
	tp.par(B, n*n*H, j)
	for q := 0; q < len(parts)/max(2*H, 1); q++ {
		if dwr != nil {
			addTo(dwr, parts[q*2*H:q*2*H+H])
		}
		if dwe != nil {
			addTo(dwe, parts[q*2*H+H:(q+1)*2*H])
		}
	}
}

func (jb *ecBwdJob[T]) Run(part, lo, hi int) {
	da, dbm, dr, de, dwr, dwe := jb.da, jb.dbm, jb.dr, jb.de, jb.dwr, jb.dwe
	rd, ed, wrd, wed, yd, dy, pd, parts := jb.rd, jb.ed, jb.wrd, jb.wed, jb.yd, jb.dy, jb.pd, jb.parts
	n, H := jb.n, jb.H
	gwr, gwe := dwr, dwe
	if part > 0 && parts != nil {
		if dwr != nil {
			gwr = parts[(part-1)*2*H : (part-1)*2*H+H]
		}
		if dwe != nil {
			gwe = parts[(part-1)*2*H+H : part*2*H]
		}
	}
	var buf [512]T
	g := buf[:0]
	if H <= len(buf) {
		g = buf[:H]
	} else {
		g = make([]T, H)
	}
	for b := lo; b < hi; b++ {
		for i := 0; i < n; i++ {
			for k := 0; k < n-1; k++ {
				j := PairPartner(i, k)
				q := (b*n+i)*(n-1) + k
				var pr []T
				if pd != nil {
					pr = pd[q*H : (q+1)*H]
				}
				actGrad(jb.act, pr, yd[q*H:(q+1)*H], dy[q*H:(q+1)*H], g)
				if da != nil {
					addTo(da[(b*n+i)*H:(b*n+i+1)*H], g)
				}
				if dbm != nil {
					addTo(dbm[(b*n+j)*H:(b*n+j+1)*H], g)
				}
				if dr != nil {
					var s T
					for h, v := range g {
						s += v * wrd[h]
					}
					dr[q] += s
				}
				if de != nil {
					var s T
					for h, v := range g {
						s += v * wed[h]
					}
					de[q] += s
				}
				if gwr != nil {
					rv := rd[q]
					for h, v := range g {
						gwr[h] += v * rv
					}
				}
				if gwe != nil {
					ev := ed[q]
					for h, v := range g {
						gwe[h] += v * ev
					}
				}
			}
		}
	}
}

// Gate is the attention gate m ⊙ sigmoid(m·w + b) per row: m [..., H], w [H], b [1].
func (tp *Tape) Gate(m, w, b *Tensor) *Tensor {
	if !tp.check(m, w, b) {
		return tp.placeholder()
	}
	if w.Len() != m.cols() || b == nil || b.Len() != 1 {
		tp.fail("Gate: m %v, w %v, b %v", m.Shape(), w.Shape(), shapeOf(b))
		return tp.placeholder()
	}
	y := tp.allocLike(m)
	g := tp.alloc(1, m.rows(), 0, 0, 0)
	if tp.dtype == Float64 {
		gateForward[float64](tp, m, w, b, g, y)
	} else {
		gateForward[float32](tp, m, w, b, g, y)
	}
	tp.record(node{kind: opGate, out: y, in: [6]*Tensor{m, w, b}, aux: g})
	return y
}

type gateFwdJob[T float] struct {
	md, wd, gd, yd []T
	bv             T
	H              int
}

func gateForward[T float](tp *Tape, m, w, b, g, y *Tensor) {
	j := &jobsFor[T](tp).gateFwd
	*j = gateFwdJob[T]{md: data[T](m), wd: data[T](w), bv: data[T](b)[0], gd: data[T](g), yd: data[T](y), H: m.cols()}
	tp.par(m.rows(), 3*j.H, j)
}

func (j *gateFwdJob[T]) Run(_, lo, hi int) {
	md, wd, bv, gd, yd, H := j.md, j.wd, j.bv, j.gd, j.yd, j.H
	for r := lo; r < hi; r++ {
		row := md[r*H : (r+1)*H]
		s := bv
		for h, v := range row {
			s += v * wd[h]
		}
		gv := sigmoidT(s)
		gd[r] = gv
		out := yd[r*H : (r+1)*H]
		for h, v := range row {
			out[h] = v * gv
		}
	}
}

type gateBwdJob[T float] struct {
	dm, dw, db, md, wd, gd, dy, parts []T
	H                                 int
}

func gateBackward[T float](tp *Tape, nd *node) {
	m, w, b := nd.in[0], nd.in[1], nd.in[2]
	H, R := m.cols(), m.rows()
	dw, db := grad[T](w), grad[T](b)
	p := chunks(R, 4*H)
	var parts []T
	if p > 1 && (dw != nil || db != nil) {
		parts = data[T](tp.alloc(2, p-1, H+1, 0, 0))
		clear(parts)
	}
	j := &jobsFor[T](tp).gateBwd
	*j = gateBwdJob[T]{dm: grad[T](m), dw: dw, db: db, md: data[T](m), wd: data[T](w), gd: data[T](nd.aux),
		dy: grad[T](nd.out), parts: parts, H: H}
	tp.par(R, 4*H, j)
	for q := 0; q < len(parts)/(H+1); q++ {
		acc := parts[q*(H+1) : (q+1)*(H+1)]
		if dw != nil {
			addTo(dw, acc[:H])
		}
		if db != nil {
			db[0] += acc[H]
		}
	}
}

func (j *gateBwdJob[T]) Run(part, lo, hi int) {
	dm, dw, db, md, wd, gd, dy, parts, H := j.dm, j.dw, j.db, j.md, j.wd, j.gd, j.dy, j.parts, j.H
	gw := dw
	var gb *T
	if db != nil {
		gb = &db[0]
	}
	if part > 0 && parts != nil {
		acc := parts[(part-1)*(H+1) : part*(H+1)]
		gw, gb = acc[:H], &acc[H]
	}
	var sb T
	for r := lo; r < hi; r++ {
		row, g := md[r*H:(r+1)*H], dy[r*H:(r+1)*H]
		gv := gd[r]
		var s T
		for h, v := range row {
			s += g[h] * v
		}
		dz := s * gv * (1 - gv)
		if dm != nil {
			out := dm[r*H : (r+1)*H]
			for h := range out {
				out[h] += g[h]*gv + dz*wd[h]
			}
		}
		if gw != nil {
			for h, v := range row {
				gw[h] += dz * v
			}
		}
		sb += dz
	}
	if gb != nil {
		*gb += sb
	}
}

// DotTanh is scale·tanh(c·w) per row: c [..., H], w [H] → [...] (rank ≥ 2), the coordinate
// head of an EGNN layer.
func (tp *Tape) DotTanh(c, w *Tensor, scale float64) *Tensor {
	if !tp.check(c, w) {
		return tp.placeholder()
	}
	if c.rank < 2 || w.Len() != c.cols() {
		tp.fail("DotTanh: c %v, w %v", c.Shape(), w.Shape())
		return tp.placeholder()
	}
	s := c.shape
	s[c.rank-1] = 0
	y := tp.alloc(c.rank-1, s[0], s[1], s[2], s[3])
	u := tp.allocLike(y)
	if tp.dtype == Float64 {
		dotTanhForward[float64](tp, c, w, u, y, scale)
	} else {
		dotTanhForward[float32](tp, c, w, u, y, scale)
	}
	tp.record(node{kind: opDotTanh, out: y, in: [6]*Tensor{c, w}, aux: u, f: scale})
	return y
}

type dtFwdJob[T float] struct {
	cd, wd, ud, yd []T
	scale          T
	H              int
}

func dotTanhForward[T float](tp *Tape, c, w, u, y *Tensor, scale float64) {
	j := &jobsFor[T](tp).dtFwd
	*j = dtFwdJob[T]{cd: data[T](c), wd: data[T](w), ud: data[T](u), yd: data[T](y), scale: T(scale), H: c.cols()}
	tp.par(c.rows(), 2*j.H, j)
}

func (j *dtFwdJob[T]) Run(_, lo, hi int) {
	cd, wd, ud, yd, H := j.cd, j.wd, j.ud, j.yd, j.H
	for r := lo; r < hi; r++ {
		var s T
		for h, v := range cd[r*H : (r+1)*H] {
			s += v * wd[h]
		}
		t := tanhT(s)
		ud[r] = t
		yd[r] = j.scale * t
	}
}

type dtBwdJob[T float] struct {
	dc, dw, cd, wd, ud, dy, parts []T
	scale                         T
	H                             int
}

func dotTanhBackward[T float](tp *Tape, nd *node) {
	c, w := nd.in[0], nd.in[1]
	H, R := c.cols(), c.rows()
	dw := grad[T](w)
	p := chunks(R, 3*H)
	var parts []T
	if p > 1 && dw != nil {
		parts = data[T](tp.alloc(2, p-1, H, 0, 0))
		clear(parts)
	}
	j := &jobsFor[T](tp).dtBwd
	*j = dtBwdJob[T]{dc: grad[T](c), dw: dw, cd: data[T](c), wd: data[T](w), ud: data[T](nd.aux), dy: grad[T](nd.out),
		parts: parts, scale: T(nd.f), H: H}
	tp.par(R, 3*H, j)
	for q := 0; q < len(parts)/max(H, 1); q++ {
		addTo(dw, parts[q*H:(q+1)*H])
	}
}

func (j *dtBwdJob[T]) Run(part, lo, hi int) {
	dc, dw, cd, wd, ud, dy, parts, scale, H := j.dc, j.dw, j.cd, j.wd, j.ud, j.dy, j.parts, j.scale, j.H
	gw := dw
	if part > 0 && parts != nil {
		gw = parts[(part-1)*H : part*H]
	}
	for r := lo; r < hi; r++ {
		t := ud[r]
		dz := dy[r] * scale * (1 - t*t)
		row := cd[r*H : (r+1)*H]
		if dc != nil {
			out := dc[r*H : (r+1)*H]
			for h := range out {
				out[h] += dz * wd[h]
			}
		}
		if gw != nil {
			for h, v := range row {
				gw[h] += dz * v
			}
		}
	}
}

// CoordUpdate is the EGNN coordinate update x_i + Σ_j Dn_ij·c_ij for x [B, n, d],
// Dn [B, n, n−1, d] and c [B, n, n−1].
func (tp *Tape) CoordUpdate(x, Dn, c *Tensor) *Tensor {
	if !tp.check(x, Dn, c) {
		return tp.placeholder()
	}
	if x.rank != 3 || Dn.rank != 4 || c.rank != 3 || Dn.shape[0] != x.shape[0] || Dn.shape[1] != x.shape[1] ||
		Dn.shape[2] != x.shape[1]-1 || Dn.shape[3] != x.shape[2] || c.Len() != Dn.rows() {
		tp.fail("CoordUpdate: x %v, Dn %v, c %v", x.Shape(), Dn.Shape(), c.Shape())
		return tp.placeholder()
	}
	y := tp.allocLike(x)
	if tp.dtype == Float64 {
		coordUpdateForward[float64](x, Dn, c, y)
	} else {
		coordUpdateForward[float32](x, Dn, c, y)
	}
	tp.record(node{kind: opCoordUpdate, out: y, in: [6]*Tensor{x, Dn, c}})
	return y
}

func coordUpdateForward[T float](x, Dn, c, y *Tensor) {
	B, n, d := x.shape[0], x.shape[1], x.shape[2]
	xd, Dd, cd, yd := data[T](x), data[T](Dn), data[T](c), data[T](y)
	copy(yd, xd)
	for b := 0; b < B; b++ {
		for i := 0; i < n; i++ {
			out := yd[(b*n+i)*d : (b*n+i+1)*d]
			for k := 0; k < n-1; k++ {
				q := (b*n+i)*(n-1) + k
				cv := cd[q]
				for a := range out {
					out[a] += Dd[q*d+a] * cv
				}
			}
		}
	}
}

func coordUpdateBackward[T float](nd *node) {
	x, Dn, c := nd.in[0], nd.in[1], nd.in[2]
	B, n, d := x.shape[0], x.shape[1], x.shape[2]
	dx, dD, dc := grad[T](x), grad[T](Dn), grad[T](c)
	Dd, cd, dy := data[T](Dn), data[T](c), grad[T](nd.out)
	if dx != nil {
		addTo(dx, dy)
	}
	for b := 0; b < B; b++ {
		for i := 0; i < n; i++ {
			g := dy[(b*n+i)*d : (b*n+i+1)*d]
			for k := 0; k < n-1; k++ {
				q := (b*n+i)*(n-1) + k
				if dD != nil {
					for a, v := range g {
						dD[q*d+a] += v * cd[q]
					}
				}
				if dc != nil {
					var s T
					for a, v := range g {
						s += v * Dd[q*d+a]
					}
					dc[q] += s
				}
			}
		}
	}
}

// SumPairs sums pair features over partners: m [B, n, n−1, H] → [B, n, H].
func (tp *Tape) SumPairs(m *Tensor) *Tensor {
	if !tp.check(m) {
		return tp.placeholder()
	}
	if m.rank != 4 {
		tp.fail("SumPairs: want [B, n, n−1, H], have %v", m.Shape())
		return tp.placeholder()
	}
	B, n, H := m.shape[0], m.shape[1], m.shape[3]
	y := tp.alloc(3, B, n, H, 0)
	if tp.dtype == Float64 {
		sumPairsForward(tp, data[float64](m), data[float64](y), B*n, m.shape[2], H)
	} else {
		sumPairsForward(tp, data[float32](m), data[float32](y), B*n, m.shape[2], H)
	}
	tp.record(node{kind: opSumPairs, out: y, in: [6]*Tensor{m}})
	return y
}

type spFwdJob[T float] struct {
	m, y []T
	k, H int
}

func sumPairsForward[T float](tp *Tape, m, y []T, nodes, k, H int) {
	j := &jobsFor[T](tp).spFwd
	*j = spFwdJob[T]{m: m, y: y, k: k, H: H}
	tp.par(nodes, k*H, j)
}

func (j *spFwdJob[T]) Run(_, lo, hi int) {
	m, y, k, H := j.m, j.y, j.k, j.H
	for v := lo; v < hi; v++ {
		out := y[v*H : (v+1)*H]
		copy(out, m[v*k*H:(v*k+1)*H])
		for q := 1; q < k; q++ {
			addTo(out, m[(v*k+q)*H:(v*k+q+1)*H])
		}
	}
}

type spBwdJob[T float] struct {
	dm, dy []T
	k, H   int
}

func sumPairsBackward[T float](tp *Tape, nd *node) {
	m := nd.in[0]
	dm := grad[T](m)
	if dm == nil {
		return
	}
	j := &jobsFor[T](tp).spBwd
	*j = spBwdJob[T]{dm: dm, dy: grad[T](nd.out), k: m.shape[2], H: m.shape[3]}
	tp.par(m.shape[0]*m.shape[1], j.k*j.H, j)
}

func (j *spBwdJob[T]) Run(_, lo, hi int) {
	dm, dy, k, H := j.dm, j.dy, j.k, j.H
	for v := lo; v < hi; v++ {
		g := dy[v*H : (v+1)*H]
		for q := 0; q < k; q++ {
			addTo(dm[(v*k+q)*H:(v*k+q+1)*H], g)
		}
	}
}

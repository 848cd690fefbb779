package dsl

import (
	"math"
	"sort"
)

// A pair-sum body that is a sum of powers of r (Lennard-Jones, soft spheres, Coulomb-like
// terms, …) runs on a fused native loop instead of the tape: per pair it forms the powers by
// repeated multiplication and derives the radial force factor in the same pass.

// laurent is Σ c_k r^k as exponent → coefficient.
type laurent map[int]float64

const maxPolyTerms = 16

// polyOf expresses node id of a pair-sum graph whose only input is r2 as a Laurent polynomial
// in r. Products of two sums are not expanded (that would lose accuracy to cancellation).
func polyOf(g *graph, id int32, memo map[int32]laurent) (laurent, bool) {
	return polyIn(g, id, -1, memo)
}

// polyIn is polyOf in the variable node v (v < 0: the variable is r, the input being r2).
func polyIn(g *graph, id, v int32, memo map[int32]laurent) (laurent, bool) {
	if p, ok := memo[id]; ok {
		return p, p != nil
	}
	var p laurent
	if id == v {
		p = laurent{1: 1}
	} else {
		p = polyOf1(g, id, v, memo)
	}
	if p != nil && len(p) > maxPolyTerms {
		p = nil
	}
	for k := range p {
		if k < -64 || k > 64 {
			p = nil
			break
		}
	}
	memo[id] = p
	return p, p != nil
}

func single(p laurent) (int, float64, bool) {
	if len(p) != 1 {
		return 0, 0, false
	}
	for k, c := range p {
		return k, c, true
	}
	return 0, 0, false
}

func polyOf1(g *graph, id, v int32, memo map[int32]laurent) laurent {
	nd := g.nodes[id]
	switch nd.op {
	case opConst:
		if nd.k == 0 {
			return laurent{}
		}
		return laurent{0: nd.k}
	case opInput:
		if v >= 0 {
			return nil
		}
		return laurent{2: 1}
	case opSqrt:
		a, ok := polyIn(g, nd.a, v, memo)
		k, c, one := single(a)
		if !ok || !one || k%2 != 0 || c <= 0 {
			return nil
		}
		return laurent{k / 2: math.Sqrt(c)}
	case opNeg:
		a, ok := polyIn(g, nd.a, v, memo)
		if !ok {
			return nil
		}
		out := laurent{}
		for k, c := range a {
			out[k] = -c
		}
		return out
	case opAdd, opSub:
		a, ok1 := polyIn(g, nd.a, v, memo)
		b, ok2 := polyIn(g, nd.b, v, memo)
		if !ok1 || !ok2 {
			return nil
		}
		out := laurent{}
		for k, c := range a {
			out[k] += c
		}
		for k, c := range b {
			if nd.op == opSub {
				c = -c
			}
			out[k] += c
		}
		for k, c := range out {
			if c == 0 {
				delete(out, k)
			}
		}
		return out
	case opMul, opDiv:
		a, ok1 := polyIn(g, nd.a, v, memo)
		b, ok2 := polyIn(g, nd.b, v, memo)
		if !ok1 || !ok2 {
			return nil
		}
		kb, cb, oneB := single(b)
		if nd.op == opDiv {
			if !oneB {
				return nil
			}
			out := laurent{}
			for k, c := range a {
				out[k-kb] = c / cb
			}
			return out
		}
		if !oneB {
			ka, ca, oneA := single(a)
			if !oneA {
				return nil
			}
			a, kb, cb = b, ka, ca
		}
		out := laurent{}
		for k, c := range a {
			out[k+kb] = c * cb
		}
		return out
	}
	return nil
}

// polyKernel is a compiled pair-sum body Σ c_t v^{m_t}, v = r2 (all powers of r even) or r.
type polyKernel struct {
	useR2 bool      // v = r2 (no square root) when true, v = r otherwise
	exps  []int     // exponents of v, ascending
	coef  []float64 // coefficients
	// progression form: the exponents are (±)(first + q·step), q = 0, 1, …, so that the
	// powers follow by one multiplication each (r^-6, r^-12; r^-1, r^-2, r^-3, …)
	prog       bool
	inv        bool      // powers of 1/v
	first      int       // smallest power of the base
	step       int       // power of the base between consecutive terms
	pcoef      []float64 // coefficient of base^(first + q·step), zero for missing terms
	pmul       []float64 // v-exponent × coefficient of each term (for v df/dv)
	firstIsStp bool
	// Horner form: all exponents in 0..8; hc[m] is the coefficient of v^m, hd[m] that of
	// v^m in df/dv
	horner    bool
	hEven     bool // Horner variable w = v² (all powers even)
	hLo, hDlo int  // powers of w factored out of f and of df/dv
	hc, hd    []float64
	// shifted: the variable is r − shift (Horner form only), e.g. (r − 4)^4 of DW-4
	shifted bool
	shift   float64
}

func newPolyKernel(p laurent) *polyKernel {
	pk := &polyKernel{useR2: true}
	for k := range p {
		if k%2 != 0 {
			pk.useR2 = false
		}
	}
	ks := make([]int, 0, len(p))
	for k := range p {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	for _, k := range ks {
		m := k
		if pk.useR2 {
			m = k / 2
		}
		pk.exps = append(pk.exps, m)
		pk.coef = append(pk.coef, p[k])
	}
	pk.progression()
	if pk.exps[0] >= 0 && pk.exps[len(pk.exps)-1] <= 8 {
		terms := map[int]float64{}
		for t, m := range pk.exps {
			terms[m] = pk.coef[t]
		}
		pk.setHorner(terms)
	}
	return pk
}

// setHorner sets up the Horner form of Σ c_m v^m (0 ≤ m ≤ 8). When every power is even the
// polynomial is evaluated in w = v²; the lowest power is factored out, so that
// f = w^lo · Σ hc[k] w^k and df/dv = v^odd · w^dlo · Σ hd[k] w^k.
func (pk *polyKernel) setHorner(terms map[int]float64) {
	pk.horner = true
	pk.hEven = true
	lo, top := 1<<30, 0
	for m := range terms {
		if m%2 != 0 {
			pk.hEven = false
		}
	}
	step := 1
	if pk.hEven {
		step = 2
	}
	for m := range terms {
		lo, top = min(lo, m/step), max(top, m/step)
	}
	pk.hLo = lo
	pk.hc = make([]float64, top-lo+1)
	for m, c := range terms {
		pk.hc[m/step-lo] = c
	}
	// derivative: d/dv Σ c_m v^m = Σ m c_m v^(m−1); in w (even): v · Σ 2e c_e w^(e−1)
	dlo := max(lo, 1) - 1
	pk.hDlo = dlo
	pk.hd = make([]float64, max(1, top-dlo))
	for m, c := range terms {
		e := m / step
		if e == 0 {
			continue
		}
		pk.hd[e-1-dlo] = float64(m) * c
	}
}

// horn returns f(v) and df/dv of the Horner form.
func (pk *polyKernel) horn(v float64) (f, df float64) {
	w := v
	if pk.hEven {
		w = v * v
	}
	hc, hd := pk.hc, pk.hd
	for k := len(hc) - 1; k >= 0; k-- {
		f = f*w + hc[k]
	}
	for k := len(hd) - 1; k >= 0; k-- {
		df = df*w + hd[k]
	}
	if pk.hLo > 0 {
		f *= spow(w, pk.hLo)
	}
	if pk.hDlo > 0 {
		df *= spow(w, pk.hDlo)
	}
	if pk.hEven {
		df *= v
	}
	return f, df
}

// evalHorner is eval for the Horner form.
func (pk *polyKernel) evalHorner(r2 float64) (float64, float64) {
	v := r2
	if !pk.useR2 {
		v = math.Sqrt(r2)
	}
	var r float64
	if pk.shifted {
		r = v
		v -= pk.shift
	}
	f, df := pk.horn(v)
	if pk.shifted {
		return f, df / r
	}
	if pk.useR2 {
		return f, 2 * df
	}
	return f, df / v
}

// progression sets up the progression form when the exponents allow it (all of one sign,
// evenly spaced up to missing terms, at most 8 slots).
func (pk *polyKernel) progression() {
	neg := pk.exps[len(pk.exps)-1] < 0
	pos := pk.exps[0] > 0
	if !neg && !pos {
		return
	}
	pw := make([]int, len(pk.exps)) // powers of the base, ascending
	cf := make([]float64, len(pk.exps))
	for t, m := range pk.exps {
		if neg {
			pw[len(pw)-1-t], cf[len(pw)-1-t] = -m, pk.coef[t]
		} else {
			pw[t], cf[t] = m, pk.coef[t]
		}
	}
	step := 0
	for t := 1; t < len(pw); t++ {
		step = gcd(step, pw[t]-pw[t-1])
	}
	if step == 0 {
		step = pw[0]
	}
	slots := (pw[len(pw)-1]-pw[0])/step + 1
	if slots > 8 {
		return
	}
	pk.prog, pk.inv, pk.first, pk.step = true, neg, pw[0], step
	pk.pcoef = make([]float64, slots)
	pk.pmul = make([]float64, slots)
	for t, w := range pw {
		q := (w - pw[0]) / step
		pk.pcoef[q] = cf[t]
		m := float64(w)
		if neg {
			m = -m
		}
		pk.pmul[q] = m * cf[t]
	}
	pk.firstIsStp = pk.first == pk.step
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// spow is x^n for small n, unrolled for the common cases.
func spow(x float64, n int) float64 {
	switch n {
	case 1:
		return x
	case 2:
		return x * x
	case 3:
		return x * x * x
	case 4:
		x2 := x * x
		return x2 * x2
	case 6:
		x3 := x * x * x
		return x3 * x3
	}
	return ipow(x, n)
}

// evalProg is eval for the progression form.
func (pk *polyKernel) evalProg(r2 float64) (f, factor float64) {
	v := r2
	if !pk.useR2 {
		v = math.Sqrt(r2)
	}
	b := v
	if pk.inv {
		b = 1 / v
	}
	ps := spow(b, pk.step)
	p := ps
	if !pk.firstIsStp {
		p = spow(b, pk.first)
	}
	var s float64
	for q, c := range pk.pcoef {
		if q > 0 {
			p *= ps
		}
		f += c * p
		s += pk.pmul[q] * p
	}
	var inv2 float64
	switch {
	case pk.inv && pk.useR2:
		inv2 = b
	case pk.inv:
		inv2 = b * b
	default:
		inv2 = 1 / r2
	}
	if pk.useR2 {
		return f, 2 * s * inv2
	}
	return f, s * inv2
}

// ipow is x^n for n ≥ 0 by binary powering.
func ipow(x float64, n int) float64 {
	r := 1.0
	for n > 0 {
		if n&1 == 1 {
			r *= x
		}
		n >>= 1
		if n > 0 {
			x *= x
		}
	}
	return r
}

// eval returns f(r2) and the radial factor (df/dr)/r, so that ∇_{x_i} f = factor · (x_i − x_j).
func (pk *polyKernel) eval(r2 float64) (f, factor float64) {
	v := r2
	if !pk.useR2 {
		v = math.Sqrt(r2)
	}
	m0 := pk.exps[0]
	var p, inv2 float64
	if m0 < 0 {
		inv := 1 / v
		p = ipow(inv, -m0)
		if pk.useR2 {
			inv2 = inv
		} else {
			inv2 = inv * inv
		}
	} else {
		p = ipow(v, m0)
		inv2 = 1 / r2
	}
	var s float64
	prev := m0
	for t, m := range pk.exps {
		if t > 0 {
			p *= ipow(v, m-prev)
			prev = m
		}
		c := pk.coef[t] * p
		f += c
		s += float64(m) * c
	}
	// v df/dv = s; (df/dr)/r = 2 df/dr2 = 2 s / r2 (v = r2) or s / r2 (v = r)
	if pk.useR2 {
		return f, 2 * s * inv2
	}
	return f, s * inv2
}

// pairLoop evaluates the pair sum of one configuration natively: it returns scale·Σ f and,
// when g is not nil, adds seed·scale·∇ of it to g.
func (en *Energy) pairLoop(k *compiledCtx, xc, g []float64, seed float64) float64 {
	pk := k.poly
	n, d := en.n, en.d
	soft := en.soften
	sum := 0.0
	w := seed * k.scale
	if d == 3 && len(en.box) == 0 && pk.prog && pk.useR2 && pk.inv {
		return en.pairLoop3Inv(k, xc, g, w)
	}
	if d == 2 && len(en.box) == 0 && pk.horner {
		return en.pairLoop2Horner(k, xc, g, w)
	}
	if d == 3 && len(en.box) == 0 {
		for i := 0; i < n; i++ {
			xi := xc[3*i : 3*i+3 : 3*i+3]
			x0, x1, x2 := xi[0], xi[1], xi[2]
			var g0, g1, g2 float64
			for j := i + 1; j < n; j++ {
				xj := xc[3*j : 3*j+3 : 3*j+3]
				d0, d1, d2 := x0-xj[0], x1-xj[1], x2-xj[2]
				var f, fac float64
				switch r2 := d0*d0 + d1*d1 + d2*d2 + soft; {
				case pk.horner:
					f, fac = pk.evalHorner(r2)
				case pk.prog:
					f, fac = pk.evalProg(r2)
				default:
					f, fac = pk.eval(r2)
				}
				sum += f
				if g != nil {
					fac *= w
					g0 += fac * d0
					g1 += fac * d1
					g2 += fac * d2
					gj := g[3*j : 3*j+3 : 3*j+3]
					gj[0] -= fac * d0
					gj[1] -= fac * d1
					gj[2] -= fac * d2
				}
			}
			if g != nil {
				gi := g[3*i : 3*i+3 : 3*i+3]
				gi[0] += g0
				gi[1] += g1
				gi[2] += g2
			}
		}
		return k.scale * sum
	}
	var dv [8]float64
	diff := dv[:0]
	if d <= len(dv) {
		diff = dv[:d]
	} else {
		diff = make([]float64, d)
	}
	box := en.box
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			r2 := soft
			for c := 0; c < d; c++ {
				v := xc[i*d+c] - xc[j*d+c]
				if len(box) > 0 {
					v -= box[c] * math.RoundToEven(v/box[c])
				}
				diff[c] = v
				r2 += v * v
			}
			var f, fac float64
			switch {
			case pk.horner:
				f, fac = pk.evalHorner(r2)
			case pk.prog:
				f, fac = pk.evalProg(r2)
			default:
				f, fac = pk.eval(r2)
			}
			sum += f
			if g != nil {
				fac *= w
				for c := 0; c < d; c++ {
					g[i*d+c] += fac * diff[c]
					g[j*d+c] -= fac * diff[c]
				}
			}
		}
	}
	return k.scale * sum
}

// pairLoop3Inv is pairLoop for 3-D particles and a body in inverse powers of r2 (the
// Lennard-Jones family), with the power evaluation written inline.
func (en *Energy) pairLoop3Inv(k *compiledCtx, xc, g []float64, w float64) float64 {
	pk := k.poly
	n := en.n
	soft := en.soften
	step, first, firstIsStep := pk.step, pk.first, pk.firstIsStp
	pcoef, pmul := pk.pcoef, pk.pmul[:len(pk.pcoef)]
	two := len(pcoef) == 2 && firstIsStep
	var c0, c1, m0, m1 float64
	if two {
		// fold the gradient's constant factor 2·seed·scale into the derivative coefficients
		c0, c1, m0, m1 = pcoef[0], pcoef[1], 2*w*pmul[0], 2*w*pmul[1]
	}
	if two && step == 3 && g != nil {
		return en.pairLoop3Pow36(xc, g, soft, c0, c1, m0, m1) * k.scale
	}
	sum := 0.0
	for i := 0; i < n; i++ {
		xi := xc[3*i : 3*i+3 : 3*i+3]
		x0, x1, x2 := xi[0], xi[1], xi[2]
		var g0, g1, g2 float64
		for j := i + 1; j < n; j++ {
			xj := xc[3*j : 3*j+3 : 3*j+3]
			d0, d1, d2 := x0-xj[0], x1-xj[1], x2-xj[2]
			b := 1 / (d0*d0 + d1*d1 + d2*d2 + soft)
			var ps float64
			switch step {
			case 1:
				ps = b
			case 2:
				ps = b * b
			case 3:
				ps = b * b * b
			default:
				ps = ipow(b, step)
			}
			var f, s float64
			scaled := two
			if two {
				// c0 b^step + c1 b^(2 step), e.g. r^-6 and r^-12
				p2 := ps * ps
				f = c0*ps + c1*p2
				s = m0*ps + m1*p2
			} else {
				p := ps
				if !firstIsStep {
					p = ipow(b, first)
				}
				for q, c := range pcoef {
					if q > 0 {
						p *= ps
					}
					f += c * p
					s += pmul[q] * p
				}
			}
			sum += f
			if g != nil {
				fac := s * b
				if !scaled {
					fac *= 2 * w
				}
				g0 += fac * d0
				g1 += fac * d1
				g2 += fac * d2
				gj := g[3*j : 3*j+3 : 3*j+3]
				gj[0] -= fac * d0
				gj[1] -= fac * d1
				gj[2] -= fac * d2
			}
		}
		if g != nil {
			gi := g[3*i : 3*i+3 : 3*i+3]
			gi[0] += g0
			gi[1] += g1
			gi[2] += g2
		}
	}
	return k.scale * sum
}

// particleLoop evaluates a particle sum whose body is a sum of powers of q = ‖x_i − com‖²
// (or ‖x_i‖²) natively: it returns scale·Σ f and, when g is not nil, adds seed·scale·∇ of it
// to g (the centre-of-mass part through comGrad).
func (en *Energy) particleLoop(k *compiledCtx, xc, com, comGrad, g []float64, seed float64) float64 {
	pk := k.poly
	n, d := en.n, en.d
	centred := k.specs[k.polyInput].kind == inQU
	w := seed * k.scale
	sum := 0.0
	if d == 3 && pk.horner && pk.useR2 {
		var m0, m1, m2 float64
		if centred {
			m0, m1, m2 = com[0], com[1], com[2]
		}
		hc, hd, hEven, hLo, hDlo := pk.hc, pk.hd, pk.hEven, pk.hLo, pk.hDlo
		var a0, a1, a2 float64 // Σ of the gradient terms (for the centre of mass)
		for i := 0; i < n; i++ {
			xi := xc[3*i : 3*i+3 : 3*i+3]
			u0, u1, u2 := xi[0]-m0, xi[1]-m1, xi[2]-m2
			q := u0*u0 + u1*u1 + u2*u2
			qw := q
			if hEven {
				qw = q * q
			}
			f := 0.0
			for k := len(hc) - 1; k >= 0; k-- {
				f = f*qw + hc[k]
			}
			if hLo > 0 {
				f *= ipow(qw, hLo)
			}
			sum += f
			if g != nil {
				df := 0.0
				for k := len(hd) - 1; k >= 0; k-- {
					df = df*qw + hd[k]
				}
				if hDlo > 0 {
					df *= ipow(qw, hDlo)
				}
				if hEven {
					df *= q
				}
				fac := 2 * df * w
				gi := g[3*i : 3*i+3 : 3*i+3]
				gi[0] += fac * u0
				gi[1] += fac * u1
				gi[2] += fac * u2
				a0 += fac * u0
				a1 += fac * u1
				a2 += fac * u2
			}
		}
		if g != nil && centred {
			comGrad[0] -= a0
			comGrad[1] -= a1
			comGrad[2] -= a2
		}
		return k.scale * sum
	}
	var ub [8]float64
	u := ub[:0]
	if d <= len(ub) {
		u = ub[:d]
	} else {
		u = make([]float64, d)
	}
	for i := 0; i < n; i++ {
		q := 0.0
		for c := 0; c < d; c++ {
			v := xc[i*d+c]
			if centred {
				v -= com[c]
			}
			u[c] = v
			q += v * v
		}
		var f, fac float64
		switch {
		case pk.horner:
			f, fac = pk.evalHorner(q)
		case pk.prog:
			f, fac = pk.evalProg(q)
		default:
			f, fac = pk.eval(q)
		}
		sum += f
		if g != nil {
			// fac = 2 df/dq (the radial factor of a "distance" whose square is q)
			fac *= w
			for c := 0; c < d; c++ {
				v := fac * u[c]
				g[i*d+c] += v
				if centred {
					comGrad[c] -= v
				}
			}
		}
	}
	return k.scale * sum
}

// shiftedPoly finds a node r ± c (r = sqrt of input 0) in which the body out is a polynomial of
// degree ≤ 8, and returns its kernel.
func shiftedPoly(g *graph, out int32) *polyKernel {
	var r int32 = -1
	for i, nd := range g.nodes {
		if nd.op == opSqrt && g.nodes[nd.a].op == opInput {
			r = int32(i)
			break
		}
	}
	if r < 0 {
		return nil
	}
	for i, nd := range g.nodes {
		var shift float64
		switch {
		case nd.op == opAdd && nd.a == r && g.nodes[nd.b].op == opConst:
			shift = -g.nodes[nd.b].k
		case nd.op == opAdd && nd.b == r && g.nodes[nd.a].op == opConst:
			shift = -g.nodes[nd.a].k
		case nd.op == opSub && nd.a == r && g.nodes[nd.b].op == opConst:
			shift = g.nodes[nd.b].k
		default:
			continue
		}
		p, ok := polyIn(g, out, int32(i), map[int32]laurent{})
		if !ok || len(p) == 0 {
			continue
		}
		pk := &polyKernel{shifted: true, shift: shift}
		for m := range p {
			if m < 0 || m > 8 {
				return nil
			}
		}
		pk.setHorner(p)
		return pk
	}
	return nil
}

// pairLoop2Horner is pairLoop for 2-D particles and a polynomial body in r, r2 or r − c
// (double wells), with the Horner evaluation written inline.
func (en *Energy) pairLoop2Horner(k *compiledCtx, xc, g []float64, w float64) float64 {
	pk := k.poly
	n := en.n
	soft := en.soften
	shifted, useR2, shift := pk.shifted, pk.useR2, pk.shift
	hc, hd, hEven, hLo, hDlo := pk.hc, pk.hd, pk.hEven, pk.hLo, pk.hDlo
	sum := 0.0
	for i := 0; i < n; i++ {
		xi := xc[2*i : 2*i+2 : 2*i+2]
		x0, x1 := xi[0], xi[1]
		for j := i + 1; j < n; j++ {
			xj := xc[2*j : 2*j+2 : 2*j+2]
			d0, d1 := x0-xj[0], x1-xj[1]
			r2 := d0*d0 + d1*d1 + soft
			v, r := r2, 0.0
			if !useR2 {
				r = math.Sqrt(r2)
				v = r
				if shifted {
					v = r - shift
				}
			}
			vw := v
			if hEven {
				vw = v * v
			}
			f := 0.0
			for k := len(hc) - 1; k >= 0; k-- {
				f = f*vw + hc[k]
			}
			if hLo > 0 {
				f *= ipow(vw, hLo)
			}
			sum += f
			if g != nil {
				df := 0.0
				for k := len(hd) - 1; k >= 0; k-- {
					df = df*vw + hd[k]
				}
				if hDlo > 0 {
					df *= ipow(vw, hDlo)
				}
				if hEven {
					df *= v
				}
				var fac float64
				if useR2 {
					fac = 2 * df
				} else {
					fac = df / r
				}
				fac *= w
				gi := g[2*i : 2*i+2 : 2*i+2]
				gi[0] += fac * d0
				gi[1] += fac * d1
				gj := g[2*j : 2*j+2 : 2*j+2]
				gj[0] -= fac * d0
				gj[1] -= fac * d1
			}
		}
	}
	return k.scale * sum
}

// pairLoop3Pow36 is the energy and gradient loop for c0 r^-6 + c1 r^-12 (Lennard-Jones and its
// relatives) in 3-D; m0, m1 are the derivative coefficients with the seed folded in.
func (en *Energy) pairLoop3Pow36(xc, g []float64, soft, c0, c1, m0, m1 float64) float64 {
	n := en.n
	sum := 0.0
	for i := 0; i < n; i++ {
		xi := xc[3*i : 3*i+3 : 3*i+3]
		x0, x1, x2 := xi[0], xi[1], xi[2]
		var g0, g1, g2 float64
		for j := i + 1; j < n; j++ {
			xj := xc[3*j : 3*j+3 : 3*j+3]
			d0, d1, d2 := x0-xj[0], x1-xj[1], x2-xj[2]
			b := 1 / (d0*d0 + d1*d1 + d2*d2 + soft)
			b3 := b * b * b
			b6 := b3 * b3
			sum += c0*b3 + c1*b6
			fac := (m0*b3 + m1*b6) * b
			g0 += fac * d0
			g1 += fac * d1
			g2 += fac * d2
			gj := g[3*j : 3*j+3 : 3*j+3]
			gj[0] -= fac * d0
			gj[1] -= fac * d1
			gj[2] -= fac * d2
		}
		gi := g[3*i : 3*i+3 : 3*i+3]
		gi[0] += g0
		gi[1] += g1
		gi[2] += g2
	}
	return sum
}

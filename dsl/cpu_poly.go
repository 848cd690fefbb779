package dsl

import (
	"math"
	"sort"
)

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

package dsl

import (
	"math"
)

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

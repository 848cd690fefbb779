package dsl

import (
	"fmt"
	"math"
)

var geomNames = []string{"x", "r", "r2", "dr", "com"}

// ref resolves a particle index: a summation variable or a constant integer in range.
func (l *lowerer) ref(e Expr, what string) (int, bool) {
	if id, ok := e.(*Ident); ok {
		c := l.cur
		bound := c != nil && c.sum != nil && (id.Name == c.vars[0] || (c.vars[1] != "" && id.Name == c.vars[1]))
		_, isParam := l.params[id.Name]
		if !bound && !isParam && id.Name != "n" {
			hint := "particle indices are summation variables (sum i: …, sum pairs i<j: …) or numbers from 0"
			if what == "r" || what == "r2" || what == "dr" {
				hint = "pair distances need a pair sum around them: sum pairs i<j: … " + what + "[i,j] …"
			}
			l.errorf(id.P, hint, "%s uses %s, which is not a summation variable here", what, id.Name)
			return 0, false
		}
	}
	v := l.lower(e)
	switch v.kind {
	case vErr:
		return 0, false
	case vIndex:
		return v.idx, true
	case vScalar:
		k, ok := l.g().isConst(v.ids[0])
		if !ok || k != math.Trunc(k) {
			l.errorf(e.At(), "use a summation variable or a whole number", "a particle index must be a whole number")
			return 0, false
		}
		if k < 0 || k >= float64(l.n) {
			l.errorf(e.At(), fmt.Sprintf("particles are numbered 0 to %d", l.n-1), "particle index %g out of range (the system has %d particles)", k, l.n)
			return 0, false
		}
		return int(k), true
	}
	l.notNumber(e, v)
	return 0, false
}

func (l *lowerer) coord(p, k int) int32 { return l.cur.in(inSpec{kind: inCoord, p: p, k: k}) }

func (l *lowerer) index(e *Index) value {
	if id, ok := e.X.(*Ident); ok && l.mode == modeEnergy && !l.shadowed(id.Name) {
		switch id.Name {
		case "x":
			if len(e.Idx) < 1 || len(e.Idx) > 2 {
				return l.errorf(e.P, "write x[i] or x[i, k]", "x takes 1 or 2 indices, got %d", len(e.Idx))
			}
			p, ok := l.ref(e.Idx[0], "x")
			if !ok {
				return value{kind: vErr}
			}
			if len(e.Idx) == 2 {
				k, ok := l.component(e.Idx[1])
				if !ok {
					return value{kind: vErr}
				}
				return scalar(l.coord(p, k))
			}
			out := value{kind: vVector}
			for k := 0; k < l.d; k++ {
				out.ids = append(out.ids, l.coord(p, k))
			}
			return out
		case "r", "r2", "dr":
			if len(e.Idx) != 2 {
				return l.errorf(e.P, "write "+id.Name+"[i,j]", "%s takes 2 particle indices, got %d", id.Name, len(e.Idx))
			}
			a, ok := l.ref(e.Idx[0], id.Name)
			if !ok {
				return value{kind: vErr}
			}
			b, ok := l.ref(e.Idx[1], id.Name)
			if !ok {
				return value{kind: vErr}
			}
			if a == b {
				return l.errorf(e.P, "a pair needs two different particles", "%s[…] of a particle with itself", id.Name)
			}
			return l.dist(id.Name, a, b)
		}
	}
	x := l.lower(e.X)
	if x.kind == vErr {
		return x
	}
	if x.kind != vVector || len(e.Idx) != 1 {
		return l.errorf(e.P, "only x, r, r2, dr and vectors (x[i], com) can be indexed", "%s cannot be indexed", describe(e.X))
	}
	k, ok := l.component(e.Idx[0])
	if !ok {
		return value{kind: vErr}
	}
	return scalar(x.ids[k])
}

func (l *lowerer) shadowed(name string) bool {
	_, ok := l.params[name]
	return ok
}

func (l *lowerer) component(e Expr) (int, bool) {
	v := l.lower(e)
	if v.kind == vErr {
		return 0, false
	}
	if v.kind != vScalar {
		l.notNumber(e, v)
		return 0, false
	}
	k, ok := l.g().isConst(v.ids[0])
	if !ok || k != math.Trunc(k) || k < 0 || k >= float64(l.d) {
		l.errorf(e.At(), fmt.Sprintf("this system is %dd: components are 0 to %d", l.d, l.d-1), "coordinate index must be a whole number from 0 to %d", l.d-1)
		return 0, false
	}
	return int(k), true
}

// dist builds r, r2 or dr between particles a and b. Inside a pair sum over exactly these
// particles they are inputs computed by the pair loop; otherwise they are built from
// coordinates (minimum image in a periodic box).
func (l *lowerer) dist(what string, a, b int) value {
	g := l.g()
	c := l.cur
	if c.sum != nil && c.sum.Kind != SumParticles && ((a == refI && b == refJ) || (a == refJ && b == refI)) {
		switch what {
		case "r":
			// r is sqrt(r2): even powers of r then simplify to powers of r2 (no square root)
			return scalar(g.op1(opSqrt, c.in(inSpec{kind: inR2})))
		case "r2":
			return scalar(c.in(inSpec{kind: inR2}))
		}
		out := value{kind: vVector}
		for k := 0; k < l.d; k++ {
			id := c.in(inSpec{kind: inD, k: k})
			if a == refJ {
				id = g.op1(opNeg, id)
			}
			out.ids = append(out.ids, id)
		}
		return out
	}
	out := value{kind: vVector}
	r2 := g.konst(l.soften)
	for k := 0; k < l.d; k++ {
		dk := g.op2(opSub, l.coord(a, k), l.coord(b, k))
		if len(l.box) > 0 {
			L := g.konst(l.box[k])
			dk = g.op2(opSub, dk, g.op2(opMul, L, g.op1(opRound, g.op2(opDiv, dk, L))))
		}
		out.ids = append(out.ids, dk)
		r2 = g.op2(opAdd, r2, g.op2(opMul, dk, dk))
	}
	switch what {
	case "r":
		return scalar(g.op1(opSqrt, r2))
	case "r2":
		return scalar(r2)
	}
	return out
}

// centred recognises coordinate inputs minus centre-of-mass inputs of the same components
// and returns centred-coordinate inputs in their place.
func (l *lowerer) centred(xs, ys []int32) ([]int32, bool) {
	c := l.cur
	inputSpec := func(id int32) (inSpec, bool) {
		nd := c.g.nodes[id]
		if nd.op != opInput || int(nd.a) >= len(c.specs) {
			return inSpec{}, false
		}
		return c.specs[nd.a], true
	}
	out := make([]int32, len(xs))
	for k := range xs {
		a, ok1 := inputSpec(xs[k])
		b, ok2 := inputSpec(ys[k])
		if !ok1 || !ok2 || a.kind != inCoord || b.kind != inCom || a.k != b.k {
			return nil, false
		}
		out[k] = c.in(inSpec{kind: inU, p: a.p, k: a.k})
	}
	return out, true
}

// particleNorm2 recognises ‖x[i] − com‖² and ‖x[i]‖² of the particle of a particle sum and
// returns one input for it, so that the sum can run on the native radial loop.
func (l *lowerer) particleNorm2(ids []int32) (int32, bool) {
	c := l.cur
	if l.mode != modeEnergy || c.sum == nil || c.sum.Kind != SumParticles || len(ids) != l.d {
		return 0, false
	}
	kind := inKind(255)
	for k, id := range ids {
		nd := c.g.nodes[id]
		if nd.op != opInput || int(nd.a) >= len(c.specs) {
			return 0, false
		}
		sp := c.specs[nd.a]
		if sp.p != refI || sp.k != k || (sp.kind != inU && sp.kind != inCoord) || (k > 0 && sp.kind != kind) {
			return 0, false
		}
		kind = sp.kind
	}
	if kind == inU {
		return c.in(inSpec{kind: inQU, p: refI}), true
	}
	return c.in(inSpec{kind: inQX, p: refI}), true
}

package dsl

import (
	"fmt"
)

func (l *lowerer) binary(e *Binary) value {
	x := l.lower(e.X)
	y := l.lower(e.Y)
	if x.kind == vErr || y.kind == vErr {
		return value{kind: vErr}
	}
	g := l.g()
	switch e.Op {
	case "<", "<=", ">", ">=", "==", "!=":
		return l.comparison(e, x, y)
	}
	for _, p := range []struct {
		e Expr
		v value
	}{{e.X, x}, {e.Y, y}} {
		if p.v.kind != vScalar && p.v.kind != vVector {
			return l.notNumber(p.e, p.v)
		}
	}
	if e.Op == "-" && l.mode == modeEnergy && len(x.ids) == len(y.ids) {
		// x[p] − com (or a component of it) becomes a centred-coordinate input
		if u, ok := l.centred(x.ids, y.ids); ok {
			return value{kind: x.kind, ids: u}
		}
	}
	if x.kind == vScalar && y.kind == vScalar {
		a, b := x.ids[0], y.ids[0]
		switch e.Op {
		case "+":
			return scalar(g.op2(opAdd, a, b))
		case "-":
			return scalar(g.op2(opSub, a, b))
		case "*":
			return scalar(g.op2(opMul, a, b))
		case "/":
			return scalar(g.op2(opDiv, a, b))
		case "^":
			return scalar(g.op2(opPow, a, b))
		}
	}
	return l.vectorArith(e, x, y)
}

// comparison lowers a comparison of two numbers to a condition (0 or 1).
func (l *lowerer) comparison(e *Binary, x, y value) value {
	g := l.g()
	if x.kind != vScalar {
		return l.notNumber(e.X, x)
	}
	if y.kind != vScalar {
		return l.notNumber(e.Y, y)
	}
	a, b := x.ids[0], y.ids[0]
	var id int32
	switch e.Op {
	case "<":
		id = g.op2(opLt, a, b)
	case "<=":
		id = g.op2(opLe, a, b)
	case ">":
		id = g.op2(opLt, b, a)
	case ">=":
		id = g.op2(opLe, b, a)
	case "==":
		id = g.op2(opEq, a, b)
	default:
		id = g.op2(opNe, a, b)
	}
	return value{kind: vBool, ids: []int32{id}}
}

// vectorArith lowers + and − of vectors and the scaling of a vector by a number.
func (l *lowerer) vectorArith(e *Binary, x, y value) value {
	g := l.g()
	out := value{kind: vVector}
	switch {
	case (e.Op == "+" || e.Op == "-") && x.kind == vVector && y.kind == vVector:
		if len(x.ids) != len(y.ids) {
			return l.errorf(e.P, "", "vectors of different lengths")
		}
		o := opAdd
		if e.Op == "-" {
			o = opSub
		}
		for k := range x.ids {
			out.ids = append(out.ids, g.op2(o, x.ids[k], y.ids[k]))
		}
		return out
	case e.Op == "*" && (x.kind == vScalar) != (y.kind == vScalar):
		s, v := x, y
		if y.kind == vScalar {
			s, v = y, x
		}
		for _, id := range v.ids {
			out.ids = append(out.ids, g.op2(opMul, s.ids[0], id))
		}
		return out
	case e.Op == "/" && x.kind == vVector && y.kind == vScalar:
		for _, id := range x.ids {
			out.ids = append(out.ids, g.op2(opDiv, id, y.ids[0]))
		}
		return out
	}
	return l.errorf(e.P, "vectors add and subtract, scale by numbers, and reduce with norm(v), norm2(v), dot(a, b) or a component (.x)", "operator %s does not apply to these vector operands", e.Op)
}

// call lowers a call of a builtin function (see builtinTable).
func (l *lowerer) call(e *Call) value {
	b, ok := callable(e.Fun)
	if !ok {
		return l.errorf(e.P, nearest(e.Fun, l.knownNames()), "unknown function %q", e.Fun)
	}
	if len(e.Named) > 0 {
		return l.errorf(e.Named[0].Key.P, "", "%s takes no named arguments", e.Fun)
	}
	n := len(e.Args)
	if n < b.min || (b.max != variadic && n > b.max) {
		want := fmt.Sprint(b.min)
		if b.max == variadic {
			want = "at least " + want
		} else if b.max != b.min {
			want = fmt.Sprintf("%d to %d", b.min, b.max)
		}
		s := "s"
		if want == "1" {
			s = ""
		}
		return l.errorf(e.P, b.signature(), "%s takes %s argument%s, got %d", e.Fun, want, s, n)
	}
	if b.lower != nil {
		return b.lower(l, e)
	}
	args := make([]int32, n)
	okAll := true
	for i, a := range e.Args {
		id, ok := l.needScalar(a)
		args[i] = id
		okAll = okAll && ok
	}
	if !okAll {
		return value{kind: vErr}
	}
	g := l.g()
	if b.build != nil {
		return scalar(b.build(g, args))
	}
	return scalar(g.call(b.name, args...))
}

// lowerWhere lowers where(COND, A, B).
func lowerWhere(l *lowerer, e *Call) value {
	c := l.lower(e.Args[0])
	if c.kind == vErr {
		return c
	}
	if c.kind != vBool {
		return l.errorf(e.Args[0].At(), "write a comparison, e.g. where(r[i,j] < 2.5, A, B)", "the condition of where must be a comparison")
	}
	a, ok1 := l.needScalar(e.Args[1])
	b, ok2 := l.needScalar(e.Args[2])
	if !ok1 || !ok2 {
		return value{kind: vErr}
	}
	return scalar(l.g().sel(c.ids[0], a, b))
}

// lowerNorm lowers norm(v) and norm2(v).
func lowerNorm(l *lowerer, e *Call) value {
	g := l.g()
	v := l.lower(e.Args[0])
	if v.kind == vErr {
		return v
	}
	if v.kind != vVector {
		return l.errorf(e.Args[0].At(), "norm applies to vectors such as x[i] - com or dr[i,j]; use abs for a number", "%s needs a vector", e.Fun)
	}
	var s int32
	if q, ok := l.particleNorm2(v.ids); ok {
		s = q
	} else {
		s = g.konst(0)
		for _, id := range v.ids {
			s = g.op2(opAdd, s, g.op2(opMul, id, id))
		}
	}
	if e.Fun == "norm" {
		s = g.op1(opSqrt, s)
	}
	return scalar(s)
}

// lowerDot lowers dot(a, b).
func lowerDot(l *lowerer, e *Call) value {
	g := l.g()
	a, b := l.lower(e.Args[0]), l.lower(e.Args[1])
	if a.kind == vErr || b.kind == vErr {
		return value{kind: vErr}
	}
	if a.kind != vVector || b.kind != vVector || len(a.ids) != len(b.ids) {
		return l.errorf(e.P, "dot(a, b) takes two vectors of the same dimension", "dot needs two vectors")
	}
	s := g.konst(0)
	for k := range a.ids {
		s = g.op2(opAdd, s, g.op2(opMul, a.ids[k], b.ids[k]))
	}
	return scalar(s)
}

func (l *lowerer) sum(e *Sum) value {
	if l.mode != modeEnergy {
		return l.errorf(e.P, "sums run over particles, which only a system's energy has", "sum is not allowed here")
	}
	if l.cur.sum != nil {
		return l.errorf(e.P, "write the inner sum as a separate term, or use a pair sum", "sums cannot be nested")
	}
	if e.Kind != SumParticles {
		if e.J == nil || e.I.Name == e.J.Name {
			return l.errorf(e.I.P, "use two different names: sum pairs i<j: …", "a pair sum needs two different variables")
		}
		if l.n < 2 {
			return l.errorf(e.P, "a system of one particle has no pairs", "pair sum over %d particle", l.n)
		}
		if l.n > maxPairParticles {
			return l.errorf(e.P, "", "pair sums support up to %d particles, the system has %d", maxPairParticles, l.n)
		}
	}
	k := newCtx(e)
	k.vars[0] = e.I.Name
	if e.J != nil {
		k.vars[1] = e.J.Name
	}
	outer := l.cur
	l.cur = k
	id, ok := l.needScalar(e.Body)
	l.cur = outer
	if !ok {
		return value{kind: vErr}
	}
	k.out = id
	m := len(l.kernels)
	l.kernels = append(l.kernels, k)
	return scalar(l.cur.in(inSpec{kind: inSum, k: m}))
}

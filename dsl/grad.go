package dsl

// grad appends reverse-mode derivative nodes of out with respect to every input and returns
// their node ids (in input order; the constant 0 where out does not depend on an input).
// The adjoint of each node is passed to its operands in reverse topological order, by the
// rules of propagate for the core operations and of builtinTable for elementary functions.
func (g *graph) grad(out int32) []int32 {
	r := &reverse{g: g, active: g.activeNodes(), adj: make([]int32, len(g.nodes))}
	for i := range r.adj {
		r.adj[i] = -1
	}
	if r.active[out] {
		r.adj[out] = g.konst(1)
	}
	zero := g.konst(0)
	for i := out; i >= 0; i-- {
		if r.adj[i] < 0 || !r.active[i] {
			continue
		}
		g.at = g.src[i] // the derivative of a term comes from the term
		r.propagate(i, zero)
	}
	g.at = nil
	grads := make([]int32, len(g.inputs))
	for k, id := range g.inputs {
		if r.adj[id] < 0 {
			grads[k] = zero
		} else {
			grads[k] = r.adj[id]
		}
	}
	return grads
}

// activeNodes marks the nodes a derivative can flow through: those that depend on an input
// through operations other than comparisons and piecewise constant functions.
func (g *graph) activeNodes() []bool {
	active := make([]bool, len(g.nodes))
	for i, nd := range g.nodes {
		switch nd.op {
		case opInput:
			active[i] = true
		case opConst, opLt, opLe, opEq, opNe:
		default:
			if f := funcOf(nd.op); f != nil && f.adj == nil {
				break // piecewise constant: no derivative flows through
			}
			ar := arity(nd.op)
			active[i] = active[nd.a] || (ar > 1 && active[nd.b]) || (ar > 2 && active[nd.c])
		}
	}
	return active
}

// reverse is the state of reverse mode: the adjoint node of every node (-1: none yet).
type reverse struct {
	g      *graph
	active []bool
	adj    []int32
}

// acc adds v to the adjoint of node i.
func (r *reverse) acc(i, v int32) {
	if !r.active[i] {
		return
	}
	if r.adj[i] < 0 {
		r.adj[i] = v
	} else {
		r.adj[i] = r.g.op2(opAdd, r.adj[i], v)
	}
}

// propagate passes the adjoint of node i to its operands.
func (r *reverse) propagate(i, zero int32) {
	g := r.g
	gi := r.adj[i]
	nd := g.nodes[i]
	a, b := nd.a, nd.b
	switch nd.op {
	case opAdd:
		r.acc(a, gi)
		r.acc(b, gi)
	case opSub:
		r.acc(a, gi)
		r.acc(b, g.op1(opNeg, gi))
	case opMul:
		r.acc(a, g.op2(opMul, gi, b))
		r.acc(b, g.op2(opMul, gi, a))
	case opDiv:
		r.acc(a, g.op2(opDiv, gi, b))
		r.acc(b, g.op1(opNeg, g.op2(opDiv, g.op2(opMul, gi, i), b)))
	case opNeg:
		r.acc(a, g.op1(opNeg, gi))
	case opPowC:
		r.acc(a, g.op2(opMul, gi, g.op2(opMul, g.konst(nd.k), g.powc(a, nd.k-1))))
	case opPow:
		r.acc(a, g.op2(opMul, gi, g.op2(opMul, b, g.op2(opPow, a, g.op2(opSub, b, g.konst(1))))))
		if r.active[b] {
			r.acc(b, g.op2(opMul, gi, g.op2(opMul, i, g.call("log", a))))
		}
	case opMin, opMax:
		c := g.op2(opLe, a, b)
		if nd.op == opMax {
			c = g.op2(opLe, b, a)
		}
		r.acc(a, g.sel(c, gi, zero))
		r.acc(b, g.sel(c, zero, gi))
	case opSelect:
		r.acc(nd.b, g.sel(a, gi, zero))
		r.acc(nd.c, g.sel(a, zero, gi))
	default:
		if f := funcOf(nd.op); f != nil && f.adj != nil {
			x := []int32{a, b}[:f.arity()]
			for k, v := range f.adj(g, x, i, gi) {
				r.acc(x[k], v)
			}
		}
	}
}

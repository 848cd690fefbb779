package dsl

// grad appends reverse-mode derivative nodes of out with respect to every input and returns
// their node ids (in input order; the constant 0 where out does not depend on an input).
func (g *graph) grad(out int32) []int32 {
	n := int32(len(g.nodes))
	active := make([]bool, n)
	for i := int32(0); i < n; i++ {
		nd := g.nodes[i]
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
	adj := make([]int32, n)
	for i := range adj {
		adj[i] = -1
	}
	acc := func(i, v int32) {
		if !active[i] {
			return
		}
		if adj[i] < 0 {
			adj[i] = v
		} else {
			adj[i] = g.op2(opAdd, adj[i], v)
		}
	}
	if active[out] {
		adj[out] = g.konst(1)
	}
	zero := g.konst(0)
	for i := out; i >= 0; i-- {
		gi := adj[i]
		if gi < 0 || !active[i] {
			continue
		}
		nd := g.nodes[i]
		a, b := nd.a, nd.b
		switch nd.op {
		case opAdd:
			acc(a, gi)
			acc(b, gi)
		case opSub:
			acc(a, gi)
			acc(b, g.op1(opNeg, gi))
		case opMul:
			acc(a, g.op2(opMul, gi, b))
			acc(b, g.op2(opMul, gi, a))
		case opDiv:
			acc(a, g.op2(opDiv, gi, b))
			acc(b, g.op1(opNeg, g.op2(opDiv, g.op2(opMul, gi, i), b)))
		case opNeg:
			acc(a, g.op1(opNeg, gi))
		case opPowC:
			acc(a, g.op2(opMul, gi, g.op2(opMul, g.konst(nd.k), g.powc(a, nd.k-1))))
		case opPow:
			acc(a, g.op2(opMul, gi, g.op2(opMul, b, g.op2(opPow, a, g.op2(opSub, b, g.konst(1))))))
			if active[b] {
				acc(b, g.op2(opMul, gi, g.op2(opMul, i, g.call("log", a))))
			}
		case opMin, opMax:
			c := g.op2(opLe, a, b)
			if nd.op == opMax {
				c = g.op2(opLe, b, a)
			}
			acc(a, g.sel(c, gi, zero))
			acc(b, g.sel(c, zero, gi))
		case opSelect:
			acc(nd.b, g.sel(a, gi, zero))
			acc(nd.c, g.sel(a, zero, gi))
		default:
			if f := funcOf(nd.op); f != nil && f.adj != nil {
				x := []int32{a, b}[:f.arity()]
				for k, v := range f.adj(g, x, i, gi) {
					acc(x[k], v)
				}
			}
		}
	}
	out2 := make([]int32, len(g.inputs))
	for k, id := range g.inputs {
		if adj[id] < 0 {
			out2[k] = zero
		} else {
			out2[k] = adj[id]
		}
	}
	return out2
}

package dsl

import (
	"math"
)

// op is an operation of the expression graph and of the compiled tape.
type op uint8

const (
	opConst op = iota
	opInput
	opAdd
	opSub
	opMul
	opDiv
	opNeg
	opPow  // a^b
	opPowC // a^k, k constant
	opMin
	opMax
	opLt
	opLe
	opEq
	opNe
	opSelect // c != 0 ? a : b
	// tape-only forms with a constant operand k
	opAddC // a + k
	opMulC // a * k
	opRSubC
	opRDivC // k / a
	opCopy
	opMulAdd // a*b + c
	// opFunc is the operation of the first elementary function of builtinTable; the others
	// follow in table order (see funcOf).
	opFunc
)

// node is a vertex of the expression graph; a, b, c are argument node ids.
type node struct {
	op      op
	a, b, c int32
	k       float64
}

// graph is a hash-consed expression DAG: identical subexpressions share one node (CSE), and
// constant subexpressions fold as they are built. Node ids are a topological order.
type graph struct {
	nodes  []node
	memo   map[node]int32
	inputs []int32 // node id of input number i
	// src[i] is the source expression whose lowering created node i (nil when none), for
	// explaining non-finite values; at is the expression being lowered now.
	src []Expr
	at  Expr
}

func newGraph() *graph { return &graph{memo: map[node]int32{}} }

func (g *graph) add(n node) int32 {
	if id, ok := g.memo[n]; ok {
		return id
	}
	id := int32(len(g.nodes))
	g.nodes = append(g.nodes, n)
	g.src = append(g.src, g.at)
	if n.k == n.k { // NaN constants are never shared
		g.memo[n] = id
	}
	return id
}

func (g *graph) konst(v float64) int32 { return g.add(node{op: opConst, k: v}) }

// input returns the node of input number i, creating inputs up to i.
func (g *graph) input(i int) int32 {
	for len(g.inputs) <= i {
		g.inputs = append(g.inputs, g.add(node{op: opInput, a: int32(len(g.inputs))}))
	}
	return g.inputs[i]
}

func (g *graph) isConst(id int32) (float64, bool) {
	n := g.nodes[id]
	return n.k, n.op == opConst
}

func (g *graph) isK(id int32, v float64) bool {
	k, ok := g.isConst(id)
	return ok && k == v
}

// evalOp computes one operation on numbers (used for constant folding and by the tape).
func evalOp(o op, a, b, c, k float64) float64 {
	switch o {
	case opAdd:
		return a + b
	case opSub:
		return a - b
	case opMul:
		return a * b
	case opDiv:
		return a / b
	case opNeg:
		return -a
	case opPow:
		return math.Pow(a, b)
	case opPowC:
		return math.Pow(a, k)
	case opMin:
		return math.Min(a, b)
	case opMax:
		return math.Max(a, b)
	case opLt:
		return b2f(a < b)
	case opLe:
		return b2f(a <= b)
	case opEq:
		return b2f(a == b)
	case opNe:
		return b2f(a != b)
	case opSelect:
		if a != 0 {
			return b
		}
		return c
	case opAddC:
		return a + k
	case opMulC:
		return a * k
	case opRSubC:
		return k - a
	case opRDivC:
		return k / a
	case opCopy:
		return a
	case opMulAdd:
		return a*b + c
	}
	if f := funcOf(o); f != nil {
		if f.cpu2 != nil {
			return f.cpu2(a, b)
		}
		return f.cpu1(a)
	}
	return math.NaN()
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func arity(o op) int {
	switch o {
	case opConst, opInput:
		return 0
	case opAdd, opSub, opMul, opDiv, opPow, opMin, opMax, opLt, opLe, opEq, opNe:
		return 2
	case opSelect, opMulAdd:
		return 3
	}
	if f := funcOf(o); f != nil {
		return f.arity()
	}
	return 1
}

func commutative(o op) bool {
	switch o {
	case opAdd, opMul, opMin, opMax, opEq, opNe:
		return true
	}
	return false
}

// op1..op3 build nodes with constant folding and algebraic simplification.
func (g *graph) op1(o op, a int32) int32 {
	if ka, ok := g.isConst(a); ok {
		return g.konst(evalOp(o, ka, 0, 0, 0))
	}
	if o == opNeg && g.nodes[a].op == opNeg {
		return g.nodes[a].a
	}
	return g.add(node{op: o, a: a})
}

func (g *graph) powc(a int32, k float64) int32 {
	if ka, ok := g.isConst(a); ok {
		return g.konst(math.Pow(ka, k))
	}
	switch {
	case k == 0:
		return g.konst(1)
	case k == 1:
		return a
	case k == 0.5:
		return g.op1(opSqrt, a)
	case k == -0.5:
		return g.op2(opDiv, g.konst(1), g.op1(opSqrt, a))
	case k == math.Trunc(k) && math.Abs(k) <= 64:
		if nd := g.nodes[a]; nd.op == opSqrt && int(k)%2 == 0 {
			return g.powc(nd.a, k/2) // sqrt(y)^(2m) = y^m
		}
		if k < 0 {
			// x^-n = (1/x)^n: the reciprocal is shared by all negative powers of x
			return g.ipow(g.op2(opDiv, g.konst(1), a), int(-k))
		}
		return g.ipow(a, int(k))
	}
	return g.add(node{op: opPowC, a: a, k: k})
}

// ipow builds x^n (n ≥ 1) as x^n = (x^(n/2))² or x·x^(n−1), so that powers of the same base
// share their intermediate products (x^12 reuses x^6, which reuses x^3).
func (g *graph) ipow(x int32, n int) int32 {
	switch {
	case n == 1:
		return x
	case n%2 == 0:
		h := g.ipow(x, n/2)
		return g.op2(opMul, h, h)
	}
	return g.op2(opMul, x, g.ipow(x, n-1))
}

func (g *graph) op2(o op, a, b int32) int32 {
	ka, ca := g.isConst(a)
	kb, cb := g.isConst(b)
	if ca && cb {
		return g.konst(evalOp(o, ka, kb, 0, 0))
	}
	switch o {
	case opAdd:
		if ca && ka == 0 {
			return b
		}
		if a == b {
			return g.op2(opMul, g.konst(2), a)
		}
		if cb && kb == 0 {
			return a
		}
		if g.nodes[b].op == opNeg {
			return g.op2(opSub, a, g.nodes[b].a)
		}
		if g.nodes[a].op == opNeg {
			return g.op2(opSub, b, g.nodes[a].a)
		}
	case opSub:
		if cb && kb == 0 {
			return a
		}
		if ca && ka == 0 {
			return g.op1(opNeg, b)
		}
		if a == b {
			return g.konst(0)
		}
		if g.nodes[b].op == opNeg {
			return g.op2(opAdd, a, g.nodes[b].a)
		}
	case opMul:
		if (ca && ka == 0) || (cb && kb == 0) {
			return g.konst(0)
		}
		if ca && ka == 1 {
			return b
		}
		if cb && kb == 1 {
			return a
		}
		if ca && ka == -1 {
			return g.op1(opNeg, b)
		}
		if cb && kb == -1 {
			return g.op1(opNeg, a)
		}
		if g.nodes[a].op == opNeg && g.nodes[b].op == opNeg {
			return g.op2(opMul, g.nodes[a].a, g.nodes[b].a)
		}
		if g.nodes[a].op == opNeg {
			return g.op1(opNeg, g.op2(opMul, g.nodes[a].a, b))
		}
		if g.nodes[b].op == opNeg {
			return g.op1(opNeg, g.op2(opMul, a, g.nodes[b].a))
		}
		// fold constant factors: k1*(k2*x) → (k1*k2)*x
		if ca {
			if n := g.nodes[b]; n.op == opMul {
				if k2, ok := g.isConst(n.a); ok {
					return g.op2(opMul, g.konst(ka*k2), n.b)
				}
			}
		}
		if cb {
			return g.op2(opMul, b, a)
		}
	case opDiv:
		if cb && kb == 1 {
			return a
		}
		if ca && ka == 0 {
			return g.konst(0)
		}
		if cb && kb != 0 {
			return g.op2(opMul, g.konst(1/kb), a)
		}
		if g.nodes[a].op == opNeg {
			return g.op1(opNeg, g.op2(opDiv, g.nodes[a].a, b))
		}
	case opPow:
		if cb {
			return g.powc(a, kb)
		}
	}
	if commutative(o) && a > b && !(o == opMul && ca) {
		a, b = b, a
	}
	return g.add(node{op: o, a: a, b: b})
}

func (g *graph) sel(c, a, b int32) int32 {
	if kc, ok := g.isConst(c); ok {
		if kc != 0 {
			return a
		}
		return b
	}
	if a == b {
		return a
	}
	return g.add(node{op: opSelect, a: c, b: a, c: b})
}

// dependsOn reports whether node out reaches node in.
func (g *graph) dependsOn(out, in int32) bool {
	seen := map[int32]bool{}
	stack := []int32{out}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if i == in {
			return true
		}
		if seen[i] || i < in {
			continue
		}
		seen[i] = true
		nd := g.nodes[i]
		ar := arity(nd.op)
		if ar > 0 {
			stack = append(stack, nd.a)
		}
		if ar > 1 {
			stack = append(stack, nd.b)
		}
		if ar > 2 {
			stack = append(stack, nd.c)
		}
	}
	return false
}

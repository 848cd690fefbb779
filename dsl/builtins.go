package dsl

import (
	"fmt"
	"math"
)

// builtin is a function that expressions call. One table, builtinTable, lists them all: the
// checker takes their names, arities and signatures from it, lowering builds the graph from
// it, and an elementary function (one operation of the graph and the tape) also carries its
// derivative, its CPU form and its CUDA form there, so that adding a function is one entry.
//
// An entry is one of three kinds:
//   - elementary: cpu1 (or cpu2 for two arguments) and cuda are set; the function becomes
//     its own operation, which the tape evaluates with cpu1/cpu2, the CUDA generator writes
//     as a call of cuda, and reverse mode differentiates with adj (nil: the derivative is 0
//     wherever it exists, as for round and sign);
//   - composite: build writes it with other operations, which give its derivative, CPU and
//     CUDA forms;
//   - special: lower lowers the call itself (conditions and vectors as arguments).
type builtin struct {
	name     string
	min, max int    // number of arguments; max variadic: any number from min
	sig      string // signature shown in hints ("" means name(x))
	hidden   bool   // an operation of the compiler that expressions cannot call

	cpu1 func(x float64) float64
	cpu2 func(a, b float64) float64
	cuda string // CUDA C function taking the same arguments
	// adj returns the adjoint contribution to each argument x[i] given the result y and its
	// adjoint gy.
	adj func(g *graph, x []int32, y, gy int32) []int32

	build func(g *graph, x []int32) int32

	lower func(l *lowerer, e *Call) value

	op op // the operation of an elementary function (assigned from the table)
}

// variadic is builtin.max for functions that take any number of arguments from min.
const variadic = -1

// elementary reports whether the function is one operation of its own.
func (b *builtin) elementary() bool { return b.cpu1 != nil || b.cpu2 != nil }

// arity is the number of operands of an elementary function's operation.
func (b *builtin) arity() int {
	if b.cpu2 != nil {
		return 2
	}
	return 1
}

// signature is the call shown in hints.
func (b *builtin) signature() string {
	if b.sig != "" {
		return b.sig
	}
	return b.name + "(x)"
}

// builtinTable is the table of builtin functions.
func builtinTable() []builtin {
	return []builtin{
		{name: "exp", min: 1, max: 1, cpu1: math.Exp, cuda: "exp",
			adj: func(g *graph, x []int32, y, gy int32) []int32 { return []int32{g.op2(opMul, gy, y)} }},
		{name: "log", min: 1, max: 1, cpu1: math.Log, cuda: "log",
			adj: func(g *graph, x []int32, y, gy int32) []int32 { return []int32{g.op2(opDiv, gy, x[0])} }},
		{name: "sqrt", min: 1, max: 1, cpu1: math.Sqrt, cuda: "sqrt",
			adj: func(g *graph, x []int32, y, gy int32) []int32 {
				return []int32{g.op2(opDiv, g.op2(opMul, g.konst(0.5), gy), y)}
			}},
		{name: "sin", min: 1, max: 1, cpu1: math.Sin, cuda: "sin",
			adj: func(g *graph, x []int32, y, gy int32) []int32 { return []int32{g.op2(opMul, gy, g.call("cos", x[0]))} }},
		{name: "cos", min: 1, max: 1, cpu1: math.Cos, cuda: "cos",
			adj: func(g *graph, x []int32, y, gy int32) []int32 {
				return []int32{g.op1(opNeg, g.op2(opMul, gy, g.call("sin", x[0])))}
			}},
		{name: "tan", min: 1, max: 1, cpu1: math.Tan, cuda: "tan",
			adj: func(g *graph, x []int32, y, gy int32) []int32 {
				return []int32{g.op2(opMul, gy, g.op2(opAdd, g.konst(1), g.op2(opMul, y, y)))}
			}},
		{name: "tanh", min: 1, max: 1, cpu1: math.Tanh, cuda: "tanh",
			adj: func(g *graph, x []int32, y, gy int32) []int32 {
				return []int32{g.op2(opMul, gy, g.op2(opSub, g.konst(1), g.op2(opMul, y, y)))}
			}},
		{name: "sinh", min: 1, max: 1, cpu1: math.Sinh, cuda: "sinh",
			adj: func(g *graph, x []int32, y, gy int32) []int32 { return []int32{g.op2(opMul, gy, g.call("cosh", x[0]))} }},
		{name: "cosh", min: 1, max: 1, cpu1: math.Cosh, cuda: "cosh",
			adj: func(g *graph, x []int32, y, gy int32) []int32 { return []int32{g.op2(opMul, gy, g.call("sinh", x[0]))} }},
		{name: "abs", min: 1, max: 1, cpu1: math.Abs, cuda: "fabs",
			adj: func(g *graph, x []int32, y, gy int32) []int32 { return []int32{g.op2(opMul, gy, g.call("sign", x[0]))} }},
		{name: "sign", min: 1, max: 1, hidden: true, cpu1: sign, cuda: "adj_sign"},
		// round half to even, as the minimum image needs; rint in C rounds the same way
		{name: "round", min: 1, max: 1, hidden: true, cpu1: math.RoundToEven, cuda: "rint"},

		{name: "pow", min: 2, max: 2, sig: "pow(base, exponent)",
			build: func(g *graph, x []int32) int32 { return g.op2(opPow, x[0], x[1]) }},
		{name: "min", min: 2, max: variadic, sig: "min(a, b, …)",
			build: func(g *graph, x []int32) int32 { return g.fold(opMin, x) }},
		{name: "max", min: 2, max: variadic, sig: "max(a, b, …)",
			build: func(g *graph, x []int32) int32 { return g.fold(opMax, x) }},
		{name: "logsumexp", min: 1, max: variadic, sig: "logsumexp(a, b, …) = log(exp(a) + exp(b) + …), without overflow",
			build: logSumExp},
		{name: "smin", min: 3, max: variadic, sig: "smin(a, b, …, k): smooth minimum with softness k", build: smin},
		{name: "smax", min: 3, max: variadic, sig: "smax(a, b, …, k): smooth maximum with softness k", build: smax},
		{name: "softmin", min: 3, max: variadic, sig: "softmin(a, b, …, k)", build: smin},
		{name: "softmax", min: 3, max: variadic, sig: "softmax(a, b, …, k)", build: smax},
		{name: "softplus", min: 1, max: 1, build: func(g *graph, x []int32) int32 {
			// max(x, 0) + log(1 + e^{−|x|}) = log(1 + e^x), without overflow
			v := x[0]
			return g.op2(opAdd, g.op2(opMax, v, g.konst(0)),
				g.call("log", g.op2(opAdd, g.konst(1), g.call("exp", g.op1(opNeg, g.call("abs", v))))))
		}},
		{name: "sigmoid", min: 1, max: 1, build: func(g *graph, x []int32) int32 {
			return g.op2(opDiv, g.konst(1), g.op2(opAdd, g.konst(1), g.call("exp", g.op1(opNeg, x[0]))))
		}},

		{name: "where", min: 3, max: 3, sig: "where(condition, value_if_true, value_if_false)", lower: lowerWhere},
		{name: "norm", min: 1, max: 1, lower: lowerNorm},
		{name: "norm2", min: 1, max: 1, lower: lowerNorm},
		{name: "dot", min: 2, max: 2, sig: "dot(a, b)", lower: lowerDot},
	}
}

var (
	builtins      []builtin           // the table
	builtinByName map[string]*builtin // its entries by name
	funcOps       []*builtin          // the elementary function of operation opFunc + i
)

// Operations of elementary functions that the compiler writes itself (r = sqrt(r2), the
// minimum image, powers).
var opSqrt, opRound op

func init() {
	builtins = builtinTable()
	builtinByName = make(map[string]*builtin, len(builtins))
	for i := range builtins {
		b := &builtins[i]
		if _, dup := builtinByName[b.name]; dup {
			panic("dsl: builtin " + b.name + " listed twice")
		}
		if b.elementary() {
			if int(opFunc)+len(funcOps) > math.MaxUint8 {
				panic("dsl: too many elementary functions")
			}
			b.op = opFunc + op(len(funcOps))
			funcOps = append(funcOps, b)
		}
		builtinByName[b.name] = b
	}
	opSqrt = builtinByName["sqrt"].op
	opRound = builtinByName["round"].op
}

// funcOf returns the elementary function of an operation (nil for the core operations).
func funcOf(o op) *builtin {
	if o < opFunc || int(o-opFunc) >= len(funcOps) {
		return nil
	}
	return funcOps[o-opFunc]
}

// numOps is one past the last operation.
func numOps() op { return opFunc + op(len(funcOps)) }

// callable returns the builtin that expressions may call by name.
func callable(name string) (*builtin, bool) {
	b, ok := builtinByName[name]
	if !ok || b.hidden {
		return nil, false
	}
	return b, true
}

// call builds the elementary function name of the table on args.
func (g *graph) call(name string, args ...int32) int32 {
	b := builtinByName[name]
	if b == nil || !b.elementary() || len(args) != b.arity() {
		panic(fmt.Sprintf("dsl: no elementary function %s of %d arguments", name, len(args)))
	}
	if b.arity() == 1 {
		return g.op1(b.op, args[0])
	}
	return g.op2(b.op, args[0], args[1])
}

// fold combines x[0], x[1], … from the left with the binary operation o.
func (g *graph) fold(o op, x []int32) int32 {
	r := x[0]
	for _, v := range x[1:] {
		r = g.op2(o, r, v)
	}
	return r
}

func sign(a float64) float64 {
	if a > 0 {
		return 1
	} else if a < 0 {
		return -1
	}
	return 0
}

// logSumExp is log Σ e^{x_i}, written as m + log Σ e^{x_i − m} around m = max x_i so that no
// exponential overflows (and the largest term is e^0 = 1, so none underflows to a log of 0).
func logSumExp(g *graph, x []int32) int32 {
	if len(x) == 1 {
		return x[0]
	}
	m := g.fold(opMax, x)
	var s int32 = -1
	for _, v := range x {
		t := g.call("exp", g.op2(opSub, v, m))
		if s < 0 {
			s = t
		} else {
			s = g.op2(opAdd, s, t)
		}
	}
	return g.op2(opAdd, m, g.call("log", s))
}

// smin is the smooth minimum −k·log Σ e^{−x_i/k} of smin(x_1, …, x_m, k), written stably
// around m = min x_i. It tends to min x_i as k → 0; smin(a, b, k) ≤ min(a, b).
func smin(g *graph, args []int32) int32 {
	x, k := args[:len(args)-1], args[len(args)-1]
	m := g.fold(opMin, x)
	var s int32 = -1
	for _, v := range x {
		t := g.call("exp", g.op2(opDiv, g.op2(opSub, m, v), k))
		if s < 0 {
			s = t
		} else {
			s = g.op2(opAdd, s, t)
		}
	}
	return g.op2(opSub, m, g.op2(opMul, k, g.call("log", s)))
}

// smax is the smooth maximum k·log Σ e^{x_i/k} = −smin(−x_1, …, −x_m, k).
func smax(g *graph, args []int32) int32 {
	neg := make([]int32, len(args))
	for i, v := range args[:len(args)-1] {
		neg[i] = g.op1(opNeg, v)
	}
	neg[len(args)-1] = args[len(args)-1]
	return g.op1(opNeg, smin(g, neg))
}

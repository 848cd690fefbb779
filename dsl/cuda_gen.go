package dsl

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// cgen writes CUDA C.
type cgen struct {
	b   strings.Builder
	en  *Energy
	l   cudaLayout
	ind int
	err error
}

func (g *cgen) line(format string, args ...any) {
	g.b.WriteString(strings.Repeat("    ", g.ind))
	fmt.Fprintf(&g.b, format, args...)
	g.b.WriteByte('\n')
}

func (g *cgen) open(format string, args ...any) {
	g.line(format, args...)
	g.ind++
}

func (g *cgen) close() {
	g.ind--
	g.line("}")
}

func (g *cgen) fail(format string, args ...any) {
	if g.err == nil {
		g.err = fmt.Errorf("dsl: CUDA source: "+format, args...)
	}
}

// cLit is a C double literal that reads back as exactly v.
func cLit(v float64) string {
	switch {
	case math.IsNaN(v):
		return "adj_nan()"
	case math.IsInf(v, 1):
		return "adj_inf()"
	case math.IsInf(v, -1):
		return "(-adj_inf())"
	}
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	if v < 0 || v == 0 && math.Signbit(v) {
		if v == 0 {
			s = "-0.0"
		}
		return "(" + s + ")"
	}
	return s
}

const cudaPrelude = `// Generated from a DSL energy declaration: energies and gradients in double precision.
#ifndef ADJ_DSL_HELPERS
#define ADJ_DSL_HELPERS
__device__ __forceinline__ double adj_inf() { return __longlong_as_double(0x7ff0000000000000LL); }
__device__ __forceinline__ double adj_nan() { return __longlong_as_double(0x7ff8000000000000LL); }
__device__ __forceinline__ double adj_sign(double a) { return a > 0.0 ? 1.0 : (a < 0.0 ? -1.0 : 0.0); }
// min and max as Go's math.Min and math.Max: -Inf (+Inf) wins, then NaN; -0 < +0.
__device__ __forceinline__ double adj_min(double a, double b) {
    if (a == -adj_inf() || b == -adj_inf()) return -adj_inf();
    if (a != a || b != b) return a + b;
    if (a == b) return __double_as_longlong(a) < 0 ? a : b;
    return a < b ? a : b;
}
__device__ __forceinline__ double adj_max(double a, double b) {
    if (a == adj_inf() || b == adj_inf()) return adj_inf();
    if (a != a || b != b) return a + b;
    if (a == b) return __double_as_longlong(a) < 0 ? b : a;
    return a > b ? a : b;
}
__device__ __forceinline__ double adj_b(bool c) { return c ? 1.0 : 0.0; }
// adj_pair maps p in [0, n(n-1)/2) to the pair i < j, row by row (0,1), (0,2), …, (1,2), …
__device__ __forceinline__ void adj_pair(int p, int n, int* pi, int* pj) {
    const int m = 2 * n - 1;
    int i = (int)(((double)m - sqrt((double)m * (double)m - 8.0 * (double)p)) * 0.5);
    if (i < 0) i = 0;
    if (i > n - 2) i = n - 2;
    while (i > 0 && i * (m - i) / 2 > p) i--;
    while (i < n - 2 && (i + 1) * (m - i - 1) / 2 <= p) i++;
    *pi = i;
    *pj = p - i * (m - i) / 2 + i + 1;
}
#endif
`

func (g *cgen) prelude() { g.b.WriteString(cudaPrelude) }

// cOp is the C expression of one tape instruction, given its operands' expressions.
func cOp(o op, a, b, c string, k float64) (string, bool) {
	switch o {
	case opConst:
		return cLit(k), true
	case opAdd:
		return a + " + " + b, true
	case opSub:
		return a + " - " + b, true
	case opMul:
		return a + " * " + b, true
	case opDiv:
		return a + " / " + b, true
	case opNeg:
		return "-" + a, true
	case opPow:
		return "pow(" + a + ", " + b + ")", true
	case opPowC:
		return "pow(" + a + ", " + cLit(k) + ")", true
	case opMin:
		return "adj_min(" + a + ", " + b + ")", true
	case opMax:
		return "adj_max(" + a + ", " + b + ")", true
	case opLt:
		return "adj_b(" + a + " < " + b + ")", true
	case opLe:
		return "adj_b(" + a + " <= " + b + ")", true
	case opEq:
		return "adj_b(" + a + " == " + b + ")", true
	case opNe:
		return "adj_b(" + a + " != " + b + ")", true
	case opSelect:
		return "(" + a + " != 0.0 ? " + b + " : " + c + ")", true
	case opAddC:
		return a + " + " + cLit(k), true
	case opMulC:
		return a + " * " + cLit(k), true
	case opRSubC:
		return cLit(k) + " - " + a, true
	case opRDivC:
		return cLit(k) + " / " + a, true
	case opCopy:
		return a, true
	case opMulAdd:
		return a + " * " + b + " + " + c, true
	}
	if f := funcOf(o); f != nil {
		if f.arity() == 2 {
			return f.cuda + "(" + a + ", " + b + ")", true
		}
		return f.cuda + "(" + a + ")", true
	}
	return "", false
}

// tape writes a tape's straight-line code (inside the current block) with inputs[i] the C
// expression of input slot i, and returns the C expression of each output.
func (g *cgen) tape(t *tape, inputs []string) []string {
	if len(inputs) != t.nin {
		g.fail("tape with %d inputs given %d", t.nin, len(inputs))
		return nil
	}
	// inputs and constants are written only where the code or an output reads them
	read := map[int32]bool{}
	for _, in := range t.code {
		read[in.a], read[in.b], read[in.c] = true, true, true
	}
	for _, o := range t.outs {
		read[o] = true
	}
	kind := map[int32]string{}
	for i, in := range inputs {
		kind[int32(i)] = "in"
		if read[int32(i)] {
			g.line("const double t%d = %s;", i, in)
		}
	}
	for _, c := range t.consts {
		kind[c.slot] = "const"
		if read[c.slot] {
			g.line("const double t%d = %s;", c.slot, cLit(c.v))
		}
	}
	var temps []string
	for _, in := range t.code {
		if _, ok := kind[in.dst]; !ok {
			kind[in.dst] = "temp"
			temps = append(temps, fmt.Sprintf("t%d", in.dst))
		}
	}
	if len(temps) > 0 {
		g.line("double %s;", strings.Join(temps, ", "))
	}
	s := func(i int32) string {
		if i < 0 {
			return ""
		}
		return fmt.Sprintf("t%d", i)
	}
	for _, in := range t.code {
		e, ok := cOp(in.op, s(in.a), s(in.b), s(in.c), in.k)
		if !ok {
			g.fail("no C form for tape operation %d", in.op)
			return nil
		}
		g.line("t%d = %s;", in.dst, e)
	}
	outs := make([]string, len(t.outs))
	for i, o := range t.outs {
		if o < 0 {
			outs[i] = "0.0"
		} else {
			outs[i] = s(o)
		}
	}
	return outs
}

// particle is the C expression of a particle reference in a sum over pi (and pj).
func particle(p int) string {
	switch p {
	case refI:
		return "pi"
	case refJ:
		return "pj"
	}
	return strconv.Itoa(p)
}

// coordIndex is the C index of coordinate k of particle reference p.
func (g *cgen) coordIndex(p, k int) string {
	if p >= 0 {
		return strconv.Itoa(p*g.en.d + k)
	}
	return fmt.Sprintf("%s * %d + %d", particle(p), g.en.d, k)
}

package dsl

import (
	"fmt"
	"math"
	"sort"
)

// inKind is what an input slot of a compiled context holds.
type inKind uint8

const (
	inCoord inKind = iota // coordinate k of particle p
	inD                   // component k of the (minimum-image) pair difference x_i − x_j
	inR2                  // squared pair distance (+ softening); r is built as its square root
	inCom                 // component k of the centre of mass
	inSum                 // value of sum number m
	inU                   // component k of x_p − com (centred coordinate)
	inQU                  // ‖x_i − com‖² of a particle sum's particle
	inQX                  // ‖x_i‖² of a particle sum's particle
)

// Particle references: a summation variable (refI, refJ) or a fixed particle index ≥ 0.
const (
	refI = -1
	refJ = -2
)

type inSpec struct {
	kind inKind
	p    int
	k    int
}

// ctx is one compiled context: the top-level expression (one lane per configuration) or the
// body of a sum (one lane per particle or pair of each configuration).
type ctx struct {
	g     *graph
	specs []inSpec
	index map[inSpec]int
	sum   *Sum // nil at top level
	vars  [2]string
	out   int32
}

func newCtx(s *Sum) *ctx { return &ctx{g: newGraph(), index: map[inSpec]int{}, sum: s} }

func (c *ctx) in(s inSpec) int32 {
	if i, ok := c.index[s]; ok {
		return c.g.input(i)
	}
	i := len(c.specs)
	c.specs = append(c.specs, s)
	c.index[s] = i
	return c.g.input(i)
}

type vkind int

const (
	vErr vkind = iota
	vScalar
	vVector
	vIndex
	vBool
)

type value struct {
	kind vkind
	ids  []int32
	idx  int
}

func scalar(id int32) value { return value{kind: vScalar, ids: []int32{id}} }

type lowerMode int

const (
	modeConst  lowerMode = iota // constants and parameters only
	modeEnergy                  // a system's energy
	modeSigma                   // sigma(t)
)

// lowerer turns checked-as-it-goes expressions into graph nodes, reporting located errors.
type lowerer struct {
	mode    lowerMode
	n, d    int
	params  map[string]float64
	box     []float64
	soften  float64
	tvar    string
	top     *ctx
	kernels []*ctx
	cur     *ctx
	errs    []*Error
}

func (l *lowerer) errorf(p Pos, hint, format string, args ...any) value {
	if len(l.errs) < 20 {
		l.errs = append(l.errs, &Error{Pos: p, Msg: fmt.Sprintf(format, args...), Hint: hint})
	}
	return value{kind: vErr}
}

// Builtin functions of expressions: name → (min, max) number of arguments (max −1: any).
var exprFuncs = map[string][2]int{
	"exp": {1, 1}, "log": {1, 1}, "sqrt": {1, 1}, "sin": {1, 1}, "cos": {1, 1}, "tan": {1, 1},
	"tanh": {1, 1}, "sinh": {1, 1}, "cosh": {1, 1}, "abs": {1, 1}, "pow": {2, 2},
	"min": {2, -1}, "max": {2, -1}, "smin": {3, 3}, "smax": {3, 3}, "softmin": {3, 3}, "softmax": {3, 3},
	"softplus": {1, 1}, "sigmoid": {1, 1}, "where": {3, 3}, "norm": {1, 1}, "norm2": {1, 1}, "dot": {2, 2},
}

var geomNames = []string{"x", "r", "r2", "dr", "com"}

func (l *lowerer) knownNames() []string {
	var out []string
	for k := range l.params {
		out = append(out, k)
	}
	for k := range exprFuncs {
		out = append(out, k)
	}
	out = append(out, "pi")
	if l.mode == modeEnergy {
		out = append(out, geomNames...)
		out = append(out, "n")
		if l.cur != nil && l.cur.sum != nil {
			for _, v := range l.cur.vars {
				if v != "" {
					out = append(out, v)
				}
			}
		}
	}
	if l.mode == modeSigma {
		out = append(out, l.tvar)
	}
	sort.Strings(out)
	return out
}

func (l *lowerer) g() *graph { return l.cur.g }

func (l *lowerer) lower(e Expr) value {
	switch e := e.(type) {
	case *Num:
		return scalar(l.g().konst(e.Val))
	case *Str:
		return l.errorf(e.P, "strings are only used as file names in script statements", "a string is not a number")
	case *Ident:
		return l.ident(e)
	case *Unary:
		x := l.lower(e.X)
		if e.Op == "+" || x.kind == vErr {
			return x
		}
		if x.kind != vScalar && x.kind != vVector {
			return l.notNumber(e.X, x)
		}
		out := value{kind: x.kind}
		for _, id := range x.ids {
			out.ids = append(out.ids, l.g().op1(opNeg, id))
		}
		return out
	case *Binary:
		return l.binary(e)
	case *Call:
		return l.call(e)
	case *Index:
		return l.index(e)
	case *Field:
		x := l.lower(e.X)
		if x.kind == vErr {
			return x
		}
		if x.kind != vVector {
			return l.errorf(e.P, "components .x .y .z apply to a particle position x[i], a pair difference dr[i,j] or com", "%s has no components", describe(e.X))
		}
		k := map[string]int{"x": 0, "y": 1, "z": 2}[e.Name]
		if _, ok := map[string]int{"x": 0, "y": 1, "z": 2}[e.Name]; !ok {
			return l.errorf(e.P, "components are .x, .y and .z (or [k] with k from 0)", "unknown component .%s", e.Name)
		}
		if k >= len(x.ids) {
			return l.errorf(e.P, fmt.Sprintf("this system is %dd: use %s", l.d, compNames(l.d)), "component .%s does not exist in %dd", e.Name, l.d)
		}
		return scalar(x.ids[k])
	case *Sum:
		return l.sum(e)
	case *Sample, *Load:
		return l.errorf(e.At(), "sample and load are script statements: NAME = sample S N", "not allowed in an expression")
	}
	return l.errorf(e.At(), "", "unsupported expression")
}

func compNames(d int) string {
	s := []string{".x", ".y", ".z"}
	if d > 3 {
		return "[k] with k < " + fmt.Sprint(d)
	}
	return joinWords(s[:d])
}

func describe(e Expr) string {
	switch e := e.(type) {
	case *Ident:
		return quote(e.Name)
	case *Num:
		return "the number " + e.Text
	}
	return "this expression"
}

func (l *lowerer) notNumber(e Expr, v value) value {
	switch v.kind {
	case vBool:
		return l.errorf(e.At(), "comparisons are only allowed as the condition of where(COND, A, B)", "a comparison is not a number")
	case vIndex:
		return l.errorf(e.At(), "summation variables index particles: x[i], r[i,j]", "the particle index %s is not a number", describe(e))
	case vVector:
		return l.errorf(e.At(), "take a component (.x) or use norm(…), norm2(…) or dot(…, …)", "%s is a vector, a number is needed here", describe(e))
	}
	return value{kind: vErr}
}

func (l *lowerer) needScalar(e Expr) (int32, bool) {
	v := l.lower(e)
	if v.kind == vScalar {
		return v.ids[0], true
	}
	if v.kind != vErr {
		l.notNumber(e, v)
	}
	return 0, false
}

func (l *lowerer) ident(e *Ident) value {
	if l.mode == modeSigma && e.Name == l.tvar {
		return scalar(l.g().input(0))
	}
	if c := l.cur; c != nil && c.sum != nil {
		if e.Name == c.vars[0] {
			return value{kind: vIndex, idx: refI}
		}
		if e.Name == c.vars[1] && c.vars[1] != "" {
			return value{kind: vIndex, idx: refJ}
		}
	}
	if v, ok := l.params[e.Name]; ok {
		return scalar(l.g().konst(v))
	}
	switch e.Name {
	case "pi":
		return scalar(l.g().konst(math.Pi))
	}
	if l.mode == modeEnergy {
		switch e.Name {
		case "n":
			return scalar(l.g().konst(float64(l.n)))
		case "com":
			out := value{kind: vVector}
			for k := 0; k < l.d; k++ {
				out.ids = append(out.ids, l.cur.in(inSpec{kind: inCom, k: k}))
			}
			return out
		case "x":
			return l.errorf(e.P, "write x[i] for a particle's position, x[i].x or x[i][0] for a coordinate", "x needs a particle index")
		case "r", "r2", "dr":
			return l.errorf(e.P, "write "+e.Name+"[i,j] inside a pair sum: sum pairs i<j: …", "%s needs two particle indices", e.Name)
		}
	}
	if l.mode != modeEnergy {
		for _, g := range geomNames {
			if g == e.Name {
				what := "a constant"
				if l.mode == modeSigma {
					what = "sigma(" + l.tvar + ")"
				}
				return l.errorf(e.P, "particle positions only appear in a system's energy", "%s cannot use %s", what, e.Name)
			}
		}
	}
	if _, ok := exprFuncs[e.Name]; ok {
		return l.errorf(e.P, "call it: "+e.Name+"(…)", "%s is a function", e.Name)
	}
	hint := nearest(e.Name, l.knownNames())
	if hint == "" && l.mode == modeEnergy && (l.cur == nil || l.cur.sum == nil) && len(e.Name) == 1 {
		hint = "summation variables exist only inside their sum: sum i: … or sum pairs i<j: …"
	}
	return l.errorf(e.P, hint, "unknown name %q", e.Name)
}

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

func (l *lowerer) binary(e *Binary) value {
	x := l.lower(e.X)
	y := l.lower(e.Y)
	if x.kind == vErr || y.kind == vErr {
		return value{kind: vErr}
	}
	g := l.g()
	switch e.Op {
	case "<", "<=", ">", ">=", "==", "!=":
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
	// vector arithmetic
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

func (l *lowerer) call(e *Call) value {
	ar, ok := exprFuncs[e.Fun]
	if !ok {
		return l.errorf(e.P, nearest(e.Fun, l.knownNames()), "unknown function %q", e.Fun)
	}
	if len(e.Named) > 0 {
		return l.errorf(e.Named[0].Key.P, "", "%s takes no named arguments", e.Fun)
	}
	n := len(e.Args)
	if n < ar[0] || (ar[1] >= 0 && n > ar[1]) {
		want := fmt.Sprint(ar[0])
		if ar[1] < 0 {
			want = "at least " + want
		} else if ar[1] != ar[0] {
			want = fmt.Sprintf("%d to %d", ar[0], ar[1])
		}
		plural := "s"
		if want == "1" {
			plural = ""
		}
		return l.errorf(e.P, signature(e.Fun), "%s takes %s argument%s, got %d", e.Fun, want, plural, n)
	}
	g := l.g()
	switch e.Fun {
	case "where":
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
		return scalar(g.sel(c.ids[0], a, b))
	case "norm", "norm2":
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
	case "dot":
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
	unary := map[string]op{"exp": opExp, "log": opLog, "sqrt": opSqrt, "sin": opSin, "cos": opCos, "tan": opTan,
		"tanh": opTanh, "sinh": opSinh, "cosh": opCosh, "abs": opAbs}
	if o, ok := unary[e.Fun]; ok {
		return scalar(g.op1(o, args[0]))
	}
	switch e.Fun {
	case "pow":
		return scalar(g.op2(opPow, args[0], args[1]))
	case "min", "max":
		o := opMin
		if e.Fun == "max" {
			o = opMax
		}
		r := args[0]
		for _, a := range args[1:] {
			r = g.op2(o, r, a)
		}
		return scalar(r)
	case "smin", "softmin":
		return scalar(smin(g, args[0], args[1], args[2]))
	case "smax", "softmax":
		return scalar(g.op1(opNeg, smin(g, g.op1(opNeg, args[0]), g.op1(opNeg, args[1]), args[2])))
	case "softplus":
		x := args[0]
		return scalar(g.op2(opAdd, g.op2(opMax, x, g.konst(0)), g.op1(opLog, g.op2(opAdd, g.konst(1), g.op1(opExp, g.op1(opNeg, g.op1(opAbs, x)))))))
	case "sigmoid":
		return scalar(g.op2(opDiv, g.konst(1), g.op2(opAdd, g.konst(1), g.op1(opExp, g.op1(opNeg, args[0])))))
	}
	return l.errorf(e.P, "", "unsupported function %s", e.Fun)
}

// smin is the smooth minimum −k·log(e^{−a/k} + e^{−b/k}), written stably around min(a, b).
func smin(g *graph, a, b, k int32) int32 {
	m := g.op2(opMin, a, b)
	ea := g.op1(opExp, g.op2(opDiv, g.op2(opSub, m, a), k))
	eb := g.op1(opExp, g.op2(opDiv, g.op2(opSub, m, b), k))
	return g.op2(opSub, m, g.op2(opMul, k, g.op1(opLog, g.op2(opAdd, ea, eb))))
}

func signature(f string) string {
	sigs := map[string]string{
		"pow": "pow(base, exponent)", "min": "min(a, b, …)", "max": "max(a, b, …)",
		"smin": "smin(a, b, k): smooth minimum with softness k", "smax": "smax(a, b, k): smooth maximum with softness k",
		"softmin": "softmin(a, b, k)", "softmax": "softmax(a, b, k)", "where": "where(condition, value_if_true, value_if_false)",
		"dot": "dot(a, b)",
	}
	if s, ok := sigs[f]; ok {
		return s
	}
	return f + "(x)"
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

// constValue evaluates an expression that must be constant (let values, settings).
func constValue(e Expr, params map[string]float64) (float64, []*Error) {
	l := &lowerer{mode: modeConst, params: params}
	l.top = newCtx(nil)
	l.cur = l.top
	id, ok := l.needScalar(e)
	if !ok {
		return 0, l.errs
	}
	v, isC := l.top.g.isConst(id)
	if !isC {
		return 0, []*Error{{Pos: e.At(), Msg: "value must be a constant"}}
	}
	return v, nil
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

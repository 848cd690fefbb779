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

func (l *lowerer) knownNames() []string {
	var out []string
	for k := range l.params {
		out = append(out, k)
	}
	for _, b := range builtins {
		if !b.hidden {
			out = append(out, b.name)
		}
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
	g := l.g()
	outer := g.at
	g.at = e
	defer func() { g.at = outer }()
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
	if _, ok := callable(e.Name); ok {
		return l.errorf(e.P, "call it: "+e.Name+"(…)", "%s is a function", e.Name)
	}
	hint := nearest(e.Name, l.knownNames())
	if hint == "" && l.mode == modeEnergy && (l.cur == nil || l.cur.sum == nil) && len(e.Name) == 1 {
		hint = "summation variables exist only inside their sum: sum i: … or sum pairs i<j: …"
	}
	return l.errorf(e.P, hint, "unknown name %q", e.Name)
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

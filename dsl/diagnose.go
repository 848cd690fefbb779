package dsl

import (
	"fmt"
	"math"
)

// Explaining non-finite energies. The fast evaluation (tapes, native loops, CUDA) only
// computes numbers; when it produces +Inf or NaN from a finite configuration, Diagnose
// evaluates that one configuration again, node by node on the expression graphs, and names
// the term of the source where the values first stopped being finite. EnergyGrad does this
// once, for the first configuration whose energy is not finite (NonFinite returns the
// explanation), and a script session reports it with the statement that met it.

// finite reports whether v is neither infinite nor NaN.
func finite(v float64) bool { return v-v == 0 }

// allFinite reports whether every value is finite; the loop is branch-free, so checking a
// chunk's energies costs little next to computing them.
func allFinite(v []float64) bool {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+3 < len(v); i += 4 {
		s0 += v[i] * 0
		s1 += v[i+1] * 0
		s2 += v[i+2] * 0
		s3 += v[i+3] * 0
	}
	for ; i < len(v); i++ {
		s0 += v[i] * 0
	}
	return s0+s1+s2+s3 == 0
}

// NonFinite returns the explanation of the first configuration, among those evaluated so far
// on the CPU, that had finite coordinates but a non-finite energy; nil when there was none.
func (en *Energy) NonFinite() error {
	if e := en.nonFinite.Load(); e != nil {
		return e
	}
	return nil
}

// checkFinite explains, once, the first configuration of c0..c1-1 whose energy is not finite
// although its coordinates are. Only the energies are scanned (one number per configuration,
// cheap next to computing it); a gradient that is not finite beside a finite energy is
// explained by Diagnose, and along with the energy when both are.
func (en *Energy) checkFinite(x, e []float64, c0, c1 int) {
	if allFinite(e[c0:c1]) {
		return
	}
	nd := en.n * en.d
	for c := c0; c < c1; c++ {
		xc := x[c*nd : (c+1)*nd]
		if finite(e[c]) || !allFinite(xc) {
			continue
		}
		if !en.nonFiniteSeen.CompareAndSwap(false, true) {
			return
		}
		if err := en.diagnose(xc); err != nil {
			en.nonFinite.Store(err)
		}
		return
	}
}

// Diagnose evaluates the configuration x (n·d coordinates) term by term and, when its energy
// or gradient is not finite, returns a located error naming the term of the source whose
// value first stopped being finite (for example an exp that overflows), with a hint. It
// returns nil when the energy and the gradient are finite, or when x is not.
func (en *Energy) Diagnose(x []float64) error {
	nd := en.n * en.d
	if len(x) < nd {
		return fmt.Errorf("dsl: Diagnose: %d coordinates, the system has %d", len(x), nd)
	}
	if !allFinite(x[:nd]) {
		return nil
	}
	if err := en.diagnose(x[:nd]); err != nil {
		return err
	}
	return nil
}

// laneValues are the values of every node of a context's graph for one lane.
type laneValues struct {
	c    *compiledCtx
	lane int // -1 at top level
	v    []float64
}

func (en *Energy) diagnose(xc []float64) *Error {
	for _, k := range en.kernels {
		k.buildLists()
	}
	com := make([]float64, en.d)
	for p := 0; p < en.n; p++ {
		for k := 0; k < en.d; k++ {
			com[k] += xc[p*en.d+k] / float64(en.n)
		}
	}
	// values: every sum, lane by lane, then the top level
	sums := make([]float64, len(en.kernels))
	for m, k := range en.kernels {
		s := 0.0
		for l := range k.pi {
			lv := en.evalLane(k, l, xc, com, nil)
			if !finite(lv.v[k.out]) {
				return en.explain(lv, k.out, false)
			}
			s += lv.v[k.out]
		}
		sums[m] = k.scale * s
		if !finite(sums[m]) {
			return en.report(k.sum, fmt.Sprintf("the sum %s is %s although each of its terms is finite", exprString(k.sum, 60), describeValue(sums[m])),
				"scale its terms down, or write the energy in a form whose terms stay small (e.g. logsumexp of logarithms)")
		}
	}
	top := en.evalLane(en.top, -1, xc, com, sums)
	if !finite(top.v[en.top.out]) {
		return en.explain(top, en.top.out, false)
	}
	// the gradient: the top level (it seeds the sums), then the lanes of each sum
	seeds := make([]float64, len(en.kernels))
	for i, s := range en.top.specs {
		id := en.top.gradOuts[i]
		if !finite(top.v[id]) {
			return en.explain(top, id, true)
		}
		if s.kind == inSum {
			seeds[s.k] = top.v[id]
		}
	}
	for m, k := range en.kernels {
		if seeds[m] == 0 {
			continue
		}
		for l := range k.pi {
			lv := en.evalLane(k, l, xc, com, nil)
			for _, id := range k.gradOuts {
				if !finite(lv.v[id]) {
					return en.explain(lv, id, true)
				}
			}
		}
	}
	return nil
}

// evalLane evaluates every node of c's graph for lane l of configuration xc.
func (en *Energy) evalLane(c *compiledCtx, l int, xc, com, sums []float64) laneValues {
	g := c.g
	v := make([]float64, len(g.nodes))
	for i, nd := range g.nodes {
		switch nd.op {
		case opConst:
			v[i] = nd.k
		case opInput:
			v[i] = en.inputValue(c, c.specs[nd.a], l, xc, com, sums)
		default:
			ar := arity(nd.op)
			a, b, cc := v[nd.a], 0.0, 0.0
			if ar > 1 {
				b = v[nd.b]
			}
			if ar > 2 {
				cc = v[nd.c]
			}
			v[i] = evalOp(nd.op, a, b, cc, nd.k)
		}
	}
	return laneValues{c: c, lane: l, v: v}
}

// inputValue is the value of an input of c for lane l.
func (en *Energy) inputValue(c *compiledCtx, s inSpec, l int, xc, com, sums []float64) float64 {
	d := en.d
	particle := func(p int) int {
		switch p {
		case refI:
			return c.pi[l]
		case refJ:
			return c.pj[l]
		}
		return p
	}
	diff := func(k int) float64 {
		v := xc[c.pi[l]*d+k] - xc[c.pj[l]*d+k]
		if len(en.box) > 0 {
			v -= en.box[k] * math.RoundToEven(v/en.box[k])
		}
		return v
	}
	switch s.kind {
	case inCoord:
		return xc[particle(s.p)*d+s.k]
	case inD:
		return diff(s.k)
	case inR2:
		r2 := en.soften
		for k := 0; k < d; k++ {
			r2 += diff(k) * diff(k)
		}
		return r2
	case inCom:
		return com[s.k]
	case inSum:
		return sums[s.k]
	case inU:
		return xc[particle(s.p)*d+s.k] - com[s.k]
	case inQU, inQX:
		q := 0.0
		for k := 0; k < d; k++ {
			u := xc[particle(s.p)*d+k]
			if s.kind == inQU {
				u -= com[k]
			}
			q += u * u
		}
		return q
	}
	return math.NaN()
}

// operands are the argument nodes of node i that its value depends on (the branch taken
// by a select).
func operands(g *graph, v []float64, i int32) []int32 {
	nd := g.nodes[i]
	switch nd.op {
	case opConst, opInput:
		return nil
	case opSelect:
		if v[nd.a] != 0 {
			return []int32{nd.a, nd.b}
		}
		return []int32{nd.a, nd.c}
	}
	return []int32{nd.a, nd.b, nd.c}[:arity(nd.op)]
}

// culprit walks back from the non-finite node id through non-finite operands and returns the
// earliest node whose value is not finite although its operands are.
func culprit(g *graph, v []float64, id int32) int32 {
	best := id
	seen := map[int32]bool{}
	stack := []int32{id}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[i] {
			continue
		}
		seen[i] = true
		origin := true
		for _, o := range operands(g, v, i) {
			if !finite(v[o]) {
				origin = false
				stack = append(stack, o)
			}
		}
		if origin && (best == id || i < best) {
			best = i
		}
	}
	return best
}

// explain builds the error for the non-finite node id of a lane.
func (en *Energy) explain(lv laneValues, id int32, inGrad bool) *Error {
	c, g, v := lv.c, lv.c.g, lv.v
	i := culprit(g, v, id)
	nd := g.nodes[i]
	if nd.op == opInput && c.top && c.specs[nd.a].kind == inSum {
		return nil // not reached: a non-finite sum is explained before the top level
	}
	src := g.src[i]
	if src == nil {
		src = c.sum
	}
	what := "the energy"
	if inGrad {
		what = "the gradient of the energy"
	}
	msg := fmt.Sprintf("%s is %s at a finite configuration: %s", what, describeValue(v[id]), en.termProblem(g, v, i, src))
	if where := en.laneName(lv); where != "" {
		msg += " " + where
	}
	hint := ""
	switch {
	case inGrad && hasSelect(g):
		hint = "where(…) differentiates the branch it takes, but a branch that is not finite spoils the gradient all the same: keep both branches finite"
	case containsExp(g, i, 4):
		if f := funcOf(nd.op); f != nil && (f.name == "exp" || f.name == "log") || nd.op == opAdd || nd.op == opSub {
			hint = "write -log(exp(-a) + exp(-b)) as -logsumexp(-a, -b) (or smin(a, b, 1)) and log(exp(a) + exp(b)) as logsumexp(a, b): they neither overflow nor take the log of 0"
		}
	}
	if src == nil {
		return &Error{File: en.file, Msg: fmt.Sprintf("system %s: %s", en.system, msg), Hint: hint}
	}
	return en.report(src, msg, hint)
}

// report is a located error of the system's declaration at e.
func (en *Energy) report(e Expr, msg, hint string) *Error {
	err := &Error{Pos: startPos(e), Msg: fmt.Sprintf("system %s: %s", en.system, msg), Hint: hint}
	if en.src != "" {
		attach([]*Error{err}, en.file, en.src)
	} else {
		err.File = en.file
	}
	return err
}

// termProblem says what went wrong at node i, created by the source expression src.
func (en *Energy) termProblem(g *graph, v []float64, i int32, src Expr) string {
	nd := g.nodes[i]
	term := "this term"
	if src != nil {
		term = exprString(src, 100)
	}
	a := v[nd.a]
	if f := funcOf(nd.op); f != nil {
		switch {
		case f.name == "exp" && math.IsInf(v[i], 1):
			return fmt.Sprintf("%s overflows: exp(%.6g) is +Inf (exp overflows above about 709)", term, a)
		case f.name == "log" && a == 0:
			return fmt.Sprintf("%s takes the log of 0", term)
		case f.name == "log" && a < 0:
			return fmt.Sprintf("%s takes the log of %.6g < 0", term, a)
		case f.name == "sqrt" && a < 0:
			return fmt.Sprintf("%s takes the square root of %.6g < 0", term, a)
		}
		return fmt.Sprintf("%s gives %s(%.6g) = %s", term, f.name, a, describeValue(v[i]))
	}
	switch nd.op {
	case opDiv, opRDivC:
		if nd.op == opDiv && v[nd.b] == 0 || nd.op == opRDivC && a == 0 {
			return fmt.Sprintf("%s divides by zero", term)
		}
	case opInput:
		return fmt.Sprintf("%s is %s", term, describeValue(v[i]))
	case opPow, opPowC:
		return fmt.Sprintf("%s is %s (a power that overflows, of 0 to a negative power, or of a negative base)", term, describeValue(v[i]))
	}
	return fmt.Sprintf("%s is %s although its operands are finite (it overflows)", term, describeValue(v[i]))
}

// laneName says which particle or pair a lane is, "" at top level.
func (en *Energy) laneName(lv laneValues) string {
	c := lv.c
	if lv.lane < 0 || c.sum == nil {
		return ""
	}
	if c.kind == SumParticles {
		return fmt.Sprintf("(%s = %d)", c.sum.I.Name, c.pi[lv.lane])
	}
	return fmt.Sprintf("(%s = %d, %s = %d)", c.sum.I.Name, c.pi[lv.lane], c.sum.J.Name, c.pj[lv.lane])
}

// containsExp reports whether node i is, or is built within depth levels from, an exp.
func containsExp(g *graph, i int32, depth int) bool {
	nd := g.nodes[i]
	if f := funcOf(nd.op); f != nil && f.name == "exp" {
		return true
	}
	if depth == 0 || nd.op == opConst || nd.op == opInput {
		return false
	}
	for _, o := range []int32{nd.a, nd.b, nd.c}[:arity(nd.op)] {
		if containsExp(g, o, depth-1) {
			return true
		}
	}
	return false
}

// hasSelect reports whether the graph has a where(…).
func hasSelect(g *graph) bool {
	for _, nd := range g.nodes {
		if nd.op == opSelect {
			return true
		}
	}
	return false
}

// describeValue names a non-finite value.
func describeValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return fmt.Sprintf("%g", v)
}

package dsl

import (
	"fmt"
	"strconv"
)

// Parse parses a source file. The error, if any, is an ErrorList with located errors.
func Parse(src, filename string) (prog *Program, err error) {
	toks, lerr := lex(src)
	if lerr != nil {
		errs := []*Error{lerr}
		attach(errs, filename, src)
		return nil, ErrorList(errs)
	}
	p := &parser{toks: toks}
	prog = &Program{File: filename, Src: src}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			errs := []*Error{b.err}
			attach(errs, filename, src)
			prog, err = nil, ErrorList(errs)
		}
	}()
	for {
		p.skipNewlines()
		if p.tok().kind == tEOF {
			break
		}
		prog.Stmts = append(prog.Stmts, p.stmt())
		p.endStmt()
	}
	return prog, nil
}

type bailout struct{ err *Error }

type parser struct {
	toks  []token
	i     int
	depth int
}

const maxDepth = 200

func (p *parser) tok() token { return p.toks[p.i] }
func (p *parser) peek(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) advance() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) fail(pos Pos, hint, format string, args ...any) {
	panic(bailout{&Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Hint: hint}})
}

func (p *parser) isOp(s string) bool { t := p.tok(); return t.kind == tOp && t.text == s }
func (p *parser) isWord(s string) bool {
	t := p.tok()
	return t.kind == tIdent && t.text == s
}

func (p *parser) expectOp(s, hint string) token {
	if !p.isOp(s) {
		p.fail(p.tok().pos, hint, "expected %q, found %s", s, p.tok().describe())
	}
	return p.advance()
}

func (p *parser) expectWord(s, hint string) token {
	if !p.isWord(s) {
		p.fail(p.tok().pos, hint, "expected %q, found %s", s, p.tok().describe())
	}
	return p.advance()
}

func (p *parser) ident(what string) *Ident {
	t := p.tok()
	if t.kind != tIdent {
		p.fail(t.pos, "", "expected %s, found %s", what, t.describe())
	}
	p.advance()
	return &Ident{P: t.pos, Name: t.text}
}

func (p *parser) str(what string) *Str {
	t := p.tok()
	if t.kind != tString {
		p.fail(t.pos, "write the path in double quotes", "expected %s, found %s", what, t.describe())
	}
	p.advance()
	return &Str{P: t.pos, Val: t.text}
}

func (p *parser) skipNewlines() {
	for p.tok().kind == tNewline {
		p.advance()
	}
}

func (p *parser) endStmt() {
	t := p.tok()
	if t.kind == tNewline || t.kind == tEOF {
		p.skipNewlines()
		return
	}
	if t.kind == tOp && t.text == "}" {
		return
	}
	p.fail(t.pos, "put one statement per line, or separate statements with ';'", "unexpected %s after the end of the statement", t.describe())
}

var stmtWords = []string{"let", "system", "sde", "sampler", "train", "refine", "report", "plot", "print", "save"}

func (p *parser) stmt() Stmt {
	t := p.tok()
	if t.kind != tIdent {
		p.fail(t.pos, "a statement starts with one of: "+joinWords(stmtWords)+", or NAME = …", "unexpected %s at the start of a statement", t.describe())
	}
	switch t.text {
	case "let":
		return p.let()
	case "system":
		return p.system()
	case "sde":
		return p.sde()
	case "sampler":
		return p.sampler()
	case "train":
		p.advance()
		tr := &Train{P: t.pos, Sampler: p.ident("a sampler name")}
		if p.isWord("for") {
			p.advance()
		}
		tr.Amount = p.expr()
		tr.Unit = p.ident("a unit (minutes, seconds or epochs)")
		if p.isOp("{") {
			p.block(func() {
				key := p.ident("a training option (checkpoint, checkpoint_every, diagnose_every)")
				if p.isOp("=") {
					p.advance()
				}
				tr.Settings = append(tr.Settings, Setting{Key: key, Value: p.expr()})
			})
		}
		return tr
	case "refine":
		if nt := p.peek(1); nt.kind != tOp || nt.text != "=" { // refine = 2 assigns a parameter
			return p.refine()
		}
	case "report", "plot", "print":
		p.advance()
		return &Command{P: t.pos, Verb: t.text, X: p.expr()}
	case "save":
		p.advance()
		s := &Save{P: t.pos, X: p.expr()}
		if p.isWord("to") {
			p.advance()
		}
		s.Path = p.str("a file name")
		return s
	}
	if p.peek(1).kind == tOp && p.peek(1).text == "=" {
		name := p.ident("a name")
		p.advance()
		return &Assign{P: name.P, Name: name, Value: p.scriptExpr()}
	}
	p.fail(t.pos, nearest(t.text, stmtWords), "unknown statement %q", t.text)
	return nil
}

func joinWords(ws []string) string {
	s := ""
	for i, w := range ws {
		if i > 0 {
			s += ", "
		}
		s += w
	}
	return s
}

func (p *parser) scriptExpr() Expr {
	t := p.tok()
	if t.kind == tIdent && t.text == "sample" && p.peek(1).kind == tIdent {
		p.advance()
		smp := &Sample{P: t.pos, Sampler: p.ident("a sampler name"), N: p.expr()}
		if w := p.tok(); w.kind == tIdent {
			if w.text != "resample" {
				p.fail(w.pos, orList(nearest(w.text, []string{"resample"}), "write sample S N, or sample S N resample"), "unexpected %s after sample %s", w.describe(), smp.Sampler.Name)
			}
			p.advance()
			smp.Resample = true
		}
		return smp
	}
	if t.kind == tIdent && t.text == "refine" && p.peek(1).kind == tIdent {
		return p.refine()
	}
	if t.kind == tIdent && t.text == "load" && p.peek(1).kind == tString {
		p.advance()
		ld := &Load{P: t.pos, Path: p.str("a file name")}
		if p.isWord("with") {
			p.advance()
			ld.With = p.ident("the name of an sde")
		}
		return ld
	}
	return p.expr()
}

// refine parses refine X K [method NAME].
func (p *parser) refine() *Refine {
	r := &Refine{P: p.advance().pos, X: p.ident("the name of samples")}
	if t := p.tok(); t.kind == tNewline || t.kind == tEOF {
		p.fail(t.pos, "write refine X K: K moves from each sample of X", "expected the number of moves, found %s", t.describe())
	}
	r.Steps = p.expr()
	if w := p.tok(); w.kind == tIdent {
		if w.text != "method" {
			p.fail(w.pos, orList(nearest(w.text, []string{"method"}), "write refine X K, or refine X K method mala|hmc|gibbs"), "unexpected %s after refine %s", w.describe(), r.X.Name)
		}
		p.advance()
		r.Method = p.ident("a method (mala, hmc or gibbs)")
	}
	return r
}

func (p *parser) let() *Let {
	l := &Let{P: p.advance().pos}
	for {
		l.Names = append(l.Names, p.ident("a parameter name"))
		p.expectOp("=", "write let NAME = VALUE")
		l.Vals = append(l.Vals, p.expr())
		if !p.isOp(",") {
			return l
		}
		p.advance()
	}
}

// block parses "{" items "}" calling item for each item.
func (p *parser) block(item func()) Pos {
	p.expectOp("{", "a declaration's body is written between { and }")
	for {
		p.skipNewlines()
		if p.isOp("}") {
			return p.advance().pos
		}
		if p.tok().kind == tEOF {
			p.fail(p.tok().pos, "close the block with }", "unexpected end of input inside { … }")
		}
		item()
		p.endStmt()
	}
}

var systemWords = []string{"particles", "let", "energy", "symmetry", "box", "temperature", "soften"}

func (p *parser) system() *SystemDecl {
	s := &SystemDecl{P: p.advance().pos}
	s.Name = p.ident("the system's name")
	s.End = p.block(func() {
		t := p.tok()
		if t.kind != tIdent {
			p.fail(t.pos, "a system holds: "+joinWords(systemWords), "unexpected %s in a system", t.describe())
		}
		switch t.text {
		case "particles":
			p.advance()
			s.Particles = p.expr()
			p.expectWord("in", "write particles N in Dd, e.g. particles 13 in 3d")
			dt := p.tok()
			if dt.kind != tNumber {
				p.fail(dt.pos, "write particles N in Dd, e.g. particles 13 in 3d", "expected the dimension, found %s", dt.describe())
			}
			p.advance()
			v, _ := strconv.ParseFloat(dt.text, 64)
			s.Dim = &Num{P: dt.pos, Val: v, Text: dt.text}
			p.expectWord("d", "write the dimension as 1d, 2d or 3d")
		case "let":
			s.Lets = append(s.Lets, p.let())
		case "energy":
			p.advance()
			p.expectOp("=", "write energy = EXPRESSION")
			if s.Energy != nil {
				p.fail(t.pos, "combine the terms into one expression with +", "energy declared twice")
			}
			s.Energy = p.expr()
		case "symmetry", "symmetries":
			p.advance()
			for {
				s.Symmetry = append(s.Symmetry, p.ident("a symmetry (translation, rotation, permutation)"))
				if !p.isOp(",") {
					break
				}
				p.advance()
			}
		case "box":
			p.advance()
			s.BoxPos = t.pos
			for {
				s.Box = append(s.Box, p.expr())
				if p.isOp(",") || p.isWord("x") {
					p.advance()
					continue
				}
				break
			}
			s.Periodic = true
			if p.isWord("periodic") {
				p.advance()
			}
		case "temperature":
			p.advance()
			s.Temperature = p.expr()
		case "soften":
			p.advance()
			s.Soften = p.expr()
		default:
			p.fail(t.pos, nearest(t.text, systemWords), "unknown system item %q", t.text)
		}
	})
	return s
}

func (p *parser) sde() *SDEDecl {
	s := &SDEDecl{P: p.advance().pos}
	s.Name = p.ident("the sde's name")
	s.End = p.block(func() {
		t := p.tok()
		switch {
		case t.kind == tIdent && t.text == "sigma":
			p.advance()
			if p.isOp("(") {
				p.advance()
				s.SigmaVar = p.ident("the time variable")
				p.expectOp(")", "write sigma(t) = EXPRESSION")
			}
			p.expectOp("=", "write sigma = geometric(MIN, MAX), sigma = constant(S) or sigma(t) = EXPRESSION")
			s.Sigma = p.expr()
		case t.kind == tIdent && t.text == "steps":
			p.advance()
			if p.isOp("=") {
				p.advance()
			}
			s.Steps = p.expr()
		default:
			p.fail(t.pos, nearest(t.text, []string{"sigma", "steps"}), "unexpected %s in an sde (it holds sigma and steps)", t.describe())
		}
	})
	return s
}

func (p *parser) sampler() *SamplerDecl {
	s := &SamplerDecl{P: p.advance().pos}
	s.Name = p.ident("the sampler's name")
	p.expectOp("=", "write sampler NAME = adjoint(SYSTEM, SDE) { … }")
	s.Method = p.ident("a sampling method (adjoint)")
	p.expectOp("(", "write sampler NAME = adjoint(SYSTEM, SDE) { … }")
	for !p.isOp(")") {
		s.Args = append(s.Args, p.expr())
		if !p.isOp(",") {
			break
		}
		p.advance()
	}
	p.expectOp(")", "close the argument list with )")
	if p.isOp("{") {
		p.block(func() {
			key := p.ident("a setting name")
			if p.isOp("=") {
				p.advance()
			}
			s.Settings = append(s.Settings, Setting{Key: key, Value: p.expr()})
		})
	}
	return s
}

// Expressions, lowest precedence first.

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.fail(p.tok().pos, "split the expression with let", "expression nested too deeply")
	}
}

func (p *parser) expr() Expr {
	p.enter()
	defer func() { p.depth-- }()
	x := p.additive()
	if t := p.tok(); t.kind == tOp {
		switch t.text {
		case "<", "<=", ">", ">=", "==", "!=":
			p.advance()
			y := p.additive()
			x = &Binary{P: t.pos, Op: t.text, X: x, Y: y}
			if t2 := p.tok(); t2.kind == tOp && (t2.text == "<" || t2.text == "<=" || t2.text == ">" || t2.text == ">=" || t2.text == "==" || t2.text == "!=") {
				p.fail(t2.pos, "comparisons do not chain", "unexpected %s", t2.describe())
			}
		}
	}
	return x
}

func (p *parser) additive() Expr {
	x := p.multiplicative()
	for {
		t := p.tok()
		if t.kind == tOp && (t.text == "+" || t.text == "-") {
			p.advance()
			x = &Binary{P: t.pos, Op: t.text, X: x, Y: p.multiplicative()}
			continue
		}
		return x
	}
}

func (p *parser) multiplicative() Expr {
	x := p.unary()
	for {
		t := p.tok()
		if t.kind == tOp && (t.text == "*" || t.text == "/") {
			p.advance()
			x = &Binary{P: t.pos, Op: t.text, X: x, Y: p.unary()}
			continue
		}
		return x
	}
}

func (p *parser) unary() Expr {
	t := p.tok()
	if t.kind == tOp && (t.text == "-" || t.text == "+") {
		p.enter()
		defer func() { p.depth-- }()
		p.advance()
		return &Unary{P: t.pos, Op: t.text, X: p.unary()}
	}
	return p.power()
}

func (p *parser) power() Expr {
	x := p.postfix()
	if t := p.tok(); t.kind == tOp && t.text == "^" {
		p.enter()
		defer func() { p.depth-- }()
		p.advance()
		return &Binary{P: t.pos, Op: "^", X: x, Y: p.unary()}
	}
	return x
}

func (p *parser) postfix() Expr {
	x := p.primary()
	for {
		t := p.tok()
		switch {
		case t.kind == tOp && t.text == "[":
			p.advance()
			ix := &Index{P: t.pos, X: x}
			for {
				ix.Idx = append(ix.Idx, p.expr())
				if !p.isOp(",") {
					break
				}
				p.advance()
			}
			p.expectOp("]", "close the index with ]")
			x = ix
		case t.kind == tOp && t.text == ".":
			p.advance()
			name := p.ident("a component name (x, y or z)")
			x = &Field{P: name.P, X: x, Name: name.Name}
		default:
			return x
		}
	}
}

func (p *parser) primary() Expr {
	t := p.tok()
	switch t.kind {
	case tNumber:
		p.advance()
		v, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			p.fail(t.pos, "numbers look like 4, 0.5, 1e-3 or 2.5E+2", "malformed number %s", t.text)
		}
		return &Num{P: t.pos, Val: v, Text: t.text}
	case tString:
		p.advance()
		return &Str{P: t.pos, Val: t.text}
	case tIdent:
		if t.text == "sum" {
			return p.sum()
		}
		p.advance()
		if p.isOp("(") {
			return p.call(t)
		}
		return &Ident{P: t.pos, Name: t.text}
	case tOp:
		if t.text == "(" {
			p.advance()
			x := p.expr()
			p.expectOp(")", "close the parenthesis")
			return x
		}
	}
	p.fail(t.pos, "", "expected an expression, found %s", t.describe())
	return nil
}

func (p *parser) call(name token) Expr {
	c := &Call{P: name.pos, Fun: name.text}
	p.advance() // (
	for !p.isOp(")") {
		t := p.tok()
		nt := p.peek(1)
		named := t.kind == tIdent && (nt.kind == tNumber || nt.kind == tString || (nt.kind == tOp && nt.text == "=") ||
			(nt.kind == tIdent && nt.text != "x"))
		if named && t.text == "sum" {
			named = false
		}
		if named {
			key := p.ident("an argument name")
			if p.isOp("=") {
				p.advance()
			}
			c.Named = append(c.Named, Setting{Key: key, Value: p.expr()})
		} else {
			c.Args = append(c.Args, p.expr())
		}
		if !p.isOp(",") {
			break
		}
		p.advance()
	}
	p.expectOp(")", "close the argument list with )")
	return c
}

func (p *parser) sum() Expr {
	s := &Sum{P: p.advance().pos}
	pairs := false
	if p.isWord("pairs") {
		p.advance()
		pairs = true
	}
	s.I = p.ident("the summation variable")
	if p.isOp("<") || p.isOp("!=") {
		op := p.advance()
		s.J = p.ident("the second summation variable")
		s.Kind = SumPairsLess
		if op.text == "!=" {
			s.Kind = SumPairsNe
		}
	} else if pairs {
		p.fail(p.tok().pos, "write sum pairs i<j: … or sum pairs i!=j: …", "expected < or != after the first pair variable, found %s", p.tok().describe())
	}
	p.expectOp(":", "write sum i: BODY or sum pairs i<j: BODY")
	// The body runs over the following terms, up to a + or − whose term holds another sum:
	// sum pairs i<j: A + B + 0.5 * sum i: C  is  (Σ A + B) + 0.5 Σ C.
	p.enter()
	defer func() { p.depth-- }()
	body := p.multiplicative()
	for {
		t := p.tok()
		if t.kind == tOp && (t.text == "+" || t.text == "-") && !p.termHasSum(p.i+1) {
			p.advance()
			body = &Binary{P: t.pos, Op: t.text, X: body, Y: p.multiplicative()}
			continue
		}
		break
	}
	if t := p.tok(); t.kind == tOp {
		switch t.text {
		case "<", "<=", ">", ">=", "==", "!=":
			p.fail(t.pos, "use where(COND, A, B) for a conditional term", "a comparison cannot be summed")
		}
	}
	s.Body = body
	return s
}

// termHasSum reports whether the additive term starting at token k contains a sum.
func (p *parser) termHasSum(k int) bool {
	depth := 0
	prevOp := true
	for ; k < len(p.toks); k++ {
		t := p.toks[k]
		switch t.kind {
		case tEOF, tNewline:
			return false
		case tIdent:
			if t.text == "sum" {
				return true
			}
			prevOp = false
			continue
		case tOp:
			switch t.text {
			case "(", "[":
				depth++
			case ")", "]":
				depth--
				if depth < 0 {
					return false
				}
			case "+", "-":
				if depth == 0 && !prevOp {
					return false
				}
			case ",", "}", "<", "<=", ">", ">=", "==", "!=":
				if depth == 0 {
					return false
				}
			}
			prevOp = t.text != ")" && t.text != "]"
			continue
		}
		prevOp = false
	}
	return false
}

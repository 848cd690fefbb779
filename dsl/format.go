package dsl

import (
	"strings"
)

// exprString writes an expression back as source text (normalised spacing, parentheses only
// where precedence needs them), shortened to at most max runes with "…".
func exprString(e Expr, max int) string {
	var b strings.Builder
	writeExpr(&b, e)
	s := []rune(b.String())
	if max > 1 && len(s) > max {
		return string(s[:max-1]) + "…"
	}
	return string(s)
}

// precedence of binary operators (higher binds tighter); unary minus sits between the
// multiplicative operators and ^.
func precedence(op string) int {
	switch op {
	case "<", "<=", ">", ">=", "==", "!=":
		return 1
	case "+", "-":
		return 2
	case "*", "/":
		return 3
	case "^":
		return 5
	}
	return 6
}

// exprPrec is the precedence of an expression as an operand.
func exprPrec(e Expr) int {
	switch e := e.(type) {
	case *Binary:
		return precedence(e.Op)
	case *Unary:
		return 4
	case *Sum:
		return 0
	}
	return 6
}

func writeOperand(b *strings.Builder, e Expr, min int) {
	if exprPrec(e) < min {
		b.WriteByte('(')
		writeExpr(b, e)
		b.WriteByte(')')
		return
	}
	writeExpr(b, e)
}

func writeExpr(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case *Num:
		b.WriteString(e.Text)
	case *Ident:
		b.WriteString(e.Name)
	case *Str:
		b.WriteString(quote(e.Val))
	case *Unary:
		b.WriteString(e.Op)
		writeOperand(b, e.X, 4)
	case *Binary:
		p := precedence(e.Op)
		left, right := p, p+1 // left-associative
		if e.Op == "^" {
			left, right = p+1, p // right-associative
		}
		writeOperand(b, e.X, left)
		b.WriteString(" " + e.Op + " ")
		writeOperand(b, e.Y, right)
	case *Call:
		b.WriteString(e.Fun + "(")
		for i, a := range e.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			writeExpr(b, a)
		}
		for i, s := range e.Named {
			if i > 0 || len(e.Args) > 0 {
				b.WriteString(", ")
			}
			b.WriteString(s.Key.Name + " ")
			writeExpr(b, s.Value)
		}
		b.WriteByte(')')
	case *Index:
		writeOperand(b, e.X, 6)
		b.WriteByte('[')
		for i, a := range e.Idx {
			if i > 0 {
				b.WriteByte(',')
			}
			writeExpr(b, a)
		}
		b.WriteByte(']')
	case *Field:
		writeOperand(b, e.X, 6)
		b.WriteString("." + e.Name)
	case *Sum:
		b.WriteString("sum ")
		switch e.Kind {
		case SumParticles:
			b.WriteString(e.I.Name)
		case SumPairsLess:
			b.WriteString("pairs " + e.I.Name + "<" + e.J.Name)
		case SumPairsNe:
			b.WriteString("pairs " + e.I.Name + "!=" + e.J.Name)
		}
		b.WriteString(": ")
		writeExpr(b, e.Body)
	default:
		b.WriteString("…")
	}
}

// startPos is where an expression begins in the source (a binary expression's position is
// its operator's).
func startPos(e Expr) Pos {
	switch e := e.(type) {
	case *Binary:
		return startPos(e.X)
	case *Index:
		return startPos(e.X)
	case *Field:
		return startPos(e.X)
	}
	return e.At()
}

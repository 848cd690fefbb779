package dsl

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Pos is a position in the source: 1-based line and column (in runes).
type Pos struct {
	Line, Col int
}

type tokKind int

const (
	tEOF tokKind = iota
	tNewline
	tIdent
	tNumber
	tString
	tOp
)

type token struct {
	kind tokKind
	text string // identifier, operator, number text or string value
	pos  Pos
	end  Pos // position just after the token
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tNewline:
		return "end of line"
	case tString:
		return "string " + quote(t.text)
	case tNumber:
		return "number " + t.text
	}
	return quote(t.text)
}

func quote(s string) string { return "\"" + s + "\"" }

// lexer turns source into tokens. Newlines end statements except inside parentheses or
// brackets and after a token that cannot end an expression (an operator or a comma).
type lexer struct {
	src   string
	off   int
	line  int
	col   int
	depth int // ( and [ nesting
	last  token
	toks  []token
	err   *Error
}

var unicodeOps = map[rune]string{'≠': "!=", '≤': "<=", '≥': ">=", '−': "-", '·': "*", '×': "x"}

func lex(src string) ([]token, *Error) {
	lx := &lexer{src: src, line: 1, col: 1}
	lx.run()
	return lx.toks, lx.err
}

func (lx *lexer) peekRune(k int) rune {
	off := lx.off
	for ; k > 0 && off < len(lx.src); k-- {
		_, w := utf8.DecodeRuneInString(lx.src[off:])
		off += w
	}
	if off >= len(lx.src) {
		return 0
	}
	r, _ := utf8.DecodeRuneInString(lx.src[off:])
	return r
}

func (lx *lexer) next() rune {
	r, w := utf8.DecodeRuneInString(lx.src[lx.off:])
	lx.off += w
	if r == '\n' {
		lx.line++
		lx.col = 1
	} else {
		lx.col++
	}
	return r
}

func (lx *lexer) pos() Pos { return Pos{lx.line, lx.col} }

func (lx *lexer) emit(k tokKind, text string, p Pos) {
	t := token{kind: k, text: text, pos: p, end: lx.pos()}
	lx.toks = append(lx.toks, t)
	lx.last = t
}

// continues reports whether the last token forces the expression to go on past a newline.
func (lx *lexer) continues() bool {
	if lx.depth > 0 {
		return true
	}
	switch lx.last.kind {
	case tNewline, tEOF:
		return true // collapse blank lines
	case tOp:
		switch lx.last.text {
		case ")", "]", "}":
			return false
		}
		return true
	}
	return false
}

// nextLineContinues reports whether the next non-blank, non-comment line starts with a binary
// operator (+ - * / ^), which continues the expression of the line before.
func (lx *lexer) nextLineContinues() bool {
	rest := lx.src[lx.off:]
	for len(rest) > 0 {
		rest = strings.TrimLeft(rest, " \t\r\n")
		if strings.HasPrefix(rest, "#") || strings.HasPrefix(rest, "//") {
			if i := strings.IndexByte(rest, '\n'); i >= 0 {
				rest = rest[i:]
				continue
			}
			return false
		}
		break
	}
	if rest == "" {
		return false
	}
	r, _ := utf8.DecodeRuneInString(rest)
	switch r {
	case '+', '-', '*', '/', '^', '−', '·':
		return true
	}
	return false
}

func (lx *lexer) fail(p Pos, msg, hint string) {
	if lx.err == nil {
		lx.err = &Error{Pos: p, Msg: msg, Hint: hint}
	}
}

func (lx *lexer) run() {
	lx.last = token{kind: tNewline}
	for lx.off < len(lx.src) && lx.err == nil {
		p := lx.pos()
		r := lx.peekRune(0)
		switch {
		case r == '\n' || r == ';':
			lx.next()
			if r == ';' || !lx.continues() && !lx.nextLineContinues() {
				if lx.last.kind != tNewline {
					lx.emit(tNewline, "\n", p)
				}
			}
		case r == ' ' || r == '\t' || r == '\r' || r == '\f' || r == '\v' || r == '\uFEFF':
			lx.next()
		case r == '#' || (r == '/' && lx.peekRune(1) == '/'):
			for lx.off < len(lx.src) && lx.peekRune(0) != '\n' {
				lx.next()
			}
		case r == '"':
			lx.lexString(p)
		case r >= '0' && r <= '9' || (r == '.' && isDigit(lx.peekRune(1))):
			lx.lexNumber(p)
		case r == '_' || unicode.IsLetter(r):
			start := lx.off
			for lx.off < len(lx.src) {
				c := lx.peekRune(0)
				if c == '_' || unicode.IsLetter(c) || unicode.IsDigit(c) {
					lx.next()
					continue
				}
				break
			}
			lx.emit(tIdent, lx.src[start:lx.off], p)
		default:
			lx.lexOp(p, r)
		}
	}
	if lx.last.kind != tNewline {
		lx.emit(tNewline, "\n", lx.pos())
	}
	lx.emit(tEOF, "", lx.pos())
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func (lx *lexer) lexNumber(p Pos) {
	start := lx.off
	for isDigit(lx.peekRune(0)) {
		lx.next()
	}
	if lx.peekRune(0) == '.' && lx.peekRune(1) != '.' {
		lx.next()
		for isDigit(lx.peekRune(0)) {
			lx.next()
		}
	}
	if c := lx.peekRune(0); c == 'e' || c == 'E' {
		n1 := lx.peekRune(1)
		if isDigit(n1) || ((n1 == '+' || n1 == '-') && isDigit(lx.peekRune(2))) {
			lx.next()
			if n1 == '+' || n1 == '-' {
				lx.next()
			}
			for isDigit(lx.peekRune(0)) {
				lx.next()
			}
		}
	}
	lx.emit(tNumber, lx.src[start:lx.off], p)
}

func (lx *lexer) lexString(p Pos) {
	lx.next()
	var b strings.Builder
	for {
		if lx.off >= len(lx.src) || lx.peekRune(0) == '\n' {
			lx.fail(p, "unterminated string", "close the string with \" on the same line")
			return
		}
		r := lx.next()
		if r == '"' {
			break
		}
		if r == '\\' && lx.off < len(lx.src) {
			e := lx.next()
			switch e {
			case 'n':
				b.WriteRune('\n')
			case 't':
				b.WriteRune('\t')
			default:
				b.WriteRune(e)
			}
			continue
		}
		b.WriteRune(r)
	}
	lx.emit(tString, b.String(), p)
}

func (lx *lexer) lexOp(p Pos, r rune) {
	if s, ok := unicodeOps[r]; ok {
		lx.next()
		if s == "x" {
			lx.emit(tIdent, s, p)
		} else {
			lx.emit(tOp, s, p)
		}
		return
	}
	two := string(r) + string(lx.peekRune(1))
	switch two {
	case "<=", ">=", "==", "!=", "**":
		lx.next()
		lx.next()
		if two == "**" {
			two = "^"
		}
		lx.emit(tOp, two, p)
		return
	}
	switch r {
	case '+', '-', '*', '/', '^', '<', '>', '=', ',', ':', '.', '{', '}':
		lx.next()
		lx.emit(tOp, string(r), p)
	case '(', '[':
		lx.next()
		lx.depth++
		lx.emit(tOp, string(r), p)
	case ')', ']':
		lx.next()
		if lx.depth > 0 {
			lx.depth--
		}
		lx.emit(tOp, string(r), p)
	default:
		lx.fail(p, "unexpected character "+quote(string(r)), "operators are + - * / ^ < <= > >= == != and the punctuation ( ) [ ] { } , : . =")
	}
}

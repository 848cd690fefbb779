package interp

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"sort"
	"strings"
)

// segKind says how a run of a cell is evaluated.
type segKind int

const (
	segImport segKind = iota // import declarations
	segDecl                  // const, type, var and func declarations (methods included)
	segStmt                  // statements, run in the interpreter's wrapped main
	segExpr                  // the cell's last expression, whose value is shown
)

// segment is one run of a cell, with its position in the cell.
type segment struct {
	kind   segKind
	text   string // the source of the run, as written in the cell (after rewriting)
	line   int    // 1-based line of its first character in the cell
	col    int    // 1-based column (in bytes) of its first character
	isCall bool   // segExpr only: the expression is a function call
}

// src returns the segment's source padded so that yaegi's line numbers equal the cell's.
func (s segment) src() string {
	return strings.Repeat("\n", s.line-1) + strings.Repeat(" ", s.col-1) + s.text
}

// prefixLen is the length of the text yaegi puts before line 1 of a segment.
func (s segment) prefixLen() int {
	switch s.kind {
	case segStmt, segExpr:
		return len("package main; func main() {")
	}
	return len("package main;")
}

// chunk is one top-level statement or declaration of a cell (byte offsets).
type chunk struct {
	start, end int
	kind       segKind
}

// splitCell cuts a cell into runs of imports, declarations and statements, in order; the last
// statement becomes a segExpr when it is an expression. A scanning error is returned as is.
func splitCell(code string) ([]segment, error) {
	fset := token.NewFileSet()
	file := fset.AddFile("cell", -1, len(code))
	var errs scanner.ErrorList
	var sc scanner.Scanner
	sc.Init(file, []byte(code), func(pos token.Position, msg string) { errs.Add(pos, msg) }, scanner.ScanComments)
	var chunks []chunk
	comment := -1 // offset of the first comment since the last chunk: a declaration's doc
	depth := 0
	start := -1
	var first, second token.Token
	ntok := 0
	lastEnd := 0
	skipPackage := false
	closeChunk := func(end int) {
		if start < 0 {
			return
		}
		k := segStmt
		switch first {
		case token.IMPORT:
			k = segImport
		case token.CONST, token.TYPE, token.VAR:
			k = segDecl
		case token.FUNC:
			if second == token.IDENT {
				k = segDecl
			} else if isDeclSource(code[start:end]) {
				k = segDecl
			}
		}
		chunks = append(chunks, chunk{start: start, end: end, kind: k})
		start = -1
		ntok = 0
	}
	for {
		pos, tok, lit := sc.Scan()
		off := file.Offset(pos)
		if tok == token.EOF {
			closeChunk(lastEnd)
			break
		}
		if tok == token.COMMENT {
			if start < 0 && comment < 0 {
				comment = off
			}
			continue
		}
		switch tok {
		case token.LPAREN, token.LBRACE, token.LBRACK:
			depth++
		case token.RPAREN, token.RBRACE, token.RBRACK:
			depth--
		}
		if tok == token.SEMICOLON && depth <= 0 {
			closeChunk(lastEnd) // trailing comments are not part of the chunk
			continue
		}
		switch {
		case tok == token.SEMICOLON && lit == "\n":
			// An inserted semicolon has no text.
		case lit != "":
			lastEnd = off + len(lit)
		default:
			lastEnd = off + len(tok.String())
		}
		lastEnd = min(lastEnd, len(code))
		if start < 0 && tok == token.PACKAGE {
			// A pasted program: its package clause is dropped, its main runs (see renameMain).
			skipPackage = true
		}
		if skipPackage {
			if tok == token.IDENT {
				skipPackage = false
			}
			continue
		}
		if start < 0 {
			start = off
			first = tok
			switch tok {
			case token.FUNC, token.TYPE, token.CONST, token.VAR:
				if comment >= 0 {
					start = comment
				}
			}
			comment = -1
		} else if ntok == 1 {
			second = tok
		}
		ntok++
	}
	if errs.Len() > 0 {
		return nil, errs
	}
	// Merge consecutive chunks of the same kind.
	type run struct {
		start, end int
		kind       segKind
		call       bool
	}
	var runs []run
	for _, c := range chunks {
		if n := len(runs); n > 0 && runs[n-1].kind == c.kind {
			runs[n-1].end = c.end
			continue
		}
		runs = append(runs, run{c.start, c.end, c.kind, false})
	}
	// The last statement of the cell becomes the shown expression.
	if n := len(chunks); n > 0 && chunks[n-1].kind == segStmt {
		last := chunks[n-1]
		if e, err := parser.ParseExpr(code[last.start:last.end]); err == nil {
			_, call := ast.Unparen(e).(*ast.CallExpr)
			r := &runs[len(runs)-1]
			if r.start == last.start {
				r.kind, r.call = segExpr, call
			} else {
				r.end = last.start
				runs = append(runs, run{last.start, last.end, segExpr, call})
			}
		}
	}
	segs := make([]segment, 0, len(runs))
	for _, r := range runs {
		p := file.Position(file.Pos(r.start))
		text := strings.TrimRight(code[r.start:r.end], " \t\r\n;")
		segs = append(segs, segment{kind: r.kind, text: text, line: p.Line, col: p.Column, isCall: r.call})
	}
	return segs, nil
}

// isDeclSource reports whether src parses as top-level declarations.
func isDeclSource(src string) bool {
	_, err := parser.ParseFile(token.NewFileSet(), "", "package p;"+src, parser.SkipObjectResolution)
	return err == nil
}

// edit replaces code[off:off+n] with text.
type edit struct {
	off, n int
	text   string
}

// rewriteGo turns every `go f(args)` in a segment into `__adjrt.Go(f, args)`: the goroutine then
// runs under a recover that reports a panic instead of killing the process. The edits keep every
// line where it was, so positions still point into the cell.
func rewriteGo(s segment) segment {
	if !strings.Contains(s.text, "go") {
		return s
	}
	var prefix, suffix string
	switch s.kind {
	case segImport:
		return s
	case segDecl:
		prefix = "package p;"
	default:
		prefix, suffix = "package p; func _() {", "\n}"
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", prefix+s.text+suffix, parser.SkipObjectResolution)
	if err != nil {
		return s // yaegi reports the error
	}
	tf := fset.File(f.Pos())
	off := func(p token.Pos) int { return tf.Offset(p) - len(prefix) }
	var edits []edit
	ast.Inspect(f, func(n ast.Node) bool {
		g, ok := n.(*ast.GoStmt)
		if !ok || g.Call.Ellipsis.IsValid() {
			return true
		}
		w := off(g.Call.Fun.Pos()) - off(g.Go) // "go" and the blanks after it
		if strings.Contains(s.text[off(g.Go):off(g.Go)+w], "\n") {
			w = 2
		}
		edits = append(edits, edit{off(g.Go), w, "__adjrt.Go("})
		if len(g.Call.Args) == 0 {
			edits = append(edits, edit{off(g.Call.Lparen), 1, ""})
		} else {
			edits = append(edits, edit{off(g.Call.Lparen), 1, ", "})
		}
		return true
	})
	if len(edits) == 0 {
		return s
	}
	sort.Slice(edits, func(a, b int) bool { return edits[a].off > edits[b].off })
	t := s.text
	for _, e := range edits {
		t = t[:e.off] + e.text + t[e.off+e.n:]
	}
	s.text = t
	return s
}

// renameMain renames a top-level func main of a declaration segment to __adjMain: yaegi would
// otherwise run it again with every later cell. The caller runs it once after the cell. The
// line of the declaration is returned (0 when there is none).
func renameMain(s segment) (segment, int) {
	if s.kind != segDecl || !strings.Contains(s.text, "main") {
		return s, 0
	}
	const prefix = "package p;"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", prefix+s.text, parser.SkipObjectResolution)
	if err != nil {
		return s, 0
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv != nil || fd.Name.Name != "main" {
			continue
		}
		off := fset.Position(fd.Name.Pos()).Offset - len(prefix)
		line := s.line + strings.Count(s.text[:off], "\n")
		s.text = s.text[:off] + "__adjMain" + s.text[off+len("main"):]
		return s, line
	}
	return s, 0
}

// cellPos converts a yaegi "line:col" of segment s into the cell's line and column.
func (s segment) cellPos(line, col int) (int, int) {
	if line == 1 {
		col -= s.prefixLen()
		if col < 1 {
			col = 1
		}
	}
	return line, col
}

func (s segment) String() string {
	return fmt.Sprintf("%d@%d:%d %q", s.kind, s.line, s.col, s.text)
}

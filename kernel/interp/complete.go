package interp

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/scanner"
	"go/token"
	"path"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"adjoint/kernel/symbols"
	"adjoint/lib/display"
)

var goKeywords = []string{
	"break", "case", "chan", "const", "continue", "default", "defer", "else", "fallthrough",
	"for", "func", "go", "goto", "if", "import", "interface", "map", "package", "range", "return",
	"select", "struct", "switch", "type", "var",
}

var goBuiltins = []string{
	"append", "cap", "close", "complex", "copy", "delete", "imag", "len", "make", "new", "panic",
	"print", "println", "real", "recover",
	"bool", "byte", "complex128", "complex64", "error", "float32", "float64", "int", "int16",
	"int32", "int64", "int8", "rune", "string", "uint", "uint16", "uint32", "uint64", "uint8",
	"uintptr", "any", "true", "false", "nil", "iota",
}

// noteDecls records the names a successfully evaluated segment declared or imported, for
// completion and inspection. It returns the methods whose source changed since their first
// definition.
func (i *Interp) noteDecls(s segment) (changed []string) {
	var src string
	switch s.kind {
	case segImport, segDecl:
		src = "package p\n" + s.text
	default:
		return
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.SkipObjectResolution|parser.ParseComments)
	if err != nil {
		return
	}
	i.namesMu.Lock()
	defer i.namesMu.Unlock()
	for _, im := range f.Imports {
		p, err := strconv.Unquote(im.Path.Value)
		if err != nil {
			continue
		}
		name := path.Base(p)
		if im.Name != nil {
			name = im.Name.Name
		}
		if name != "_" && name != "." {
			i.imports[name] = p
		}
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				i.names[d.Name.Name] = true
			}
			c := *d
			c.Body, c.Doc = nil, nil
			key := d.Name.Name
			if d.Recv != nil && len(d.Recv.List) == 1 {
				key = recvName(d.Recv.List[0].Type) + "." + key
				// yaegi keeps the first definition of a method: say so when it changes.
				full := *d
				full.Doc = nil
				src := nodeText(fset, &full)
				if old, ok := i.methodSrc[key]; ok && old != src {
					changed = append(changed, key)
				} else if !ok {
					i.methodSrc[key] = src
				}
			}
			i.decls[key] = symbols.Doc{Sig: nodeText(fset, &c), Doc: strings.TrimSpace(d.Doc.Text())}
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				switch sp := sp.(type) {
				case *ast.TypeSpec:
					i.names[sp.Name.Name] = true
					doc := sp.Doc
					if doc == nil {
						doc = d.Doc
					}
					i.decls[sp.Name.Name] = symbols.Doc{Sig: "type " + nodeText(fset, sp), Doc: strings.TrimSpace(doc.Text())}
				case *ast.ValueSpec:
					for _, n := range sp.Names {
						i.names[n.Name] = true
					}
				}
			}
		}
	}
	return changed
}

// dropKnownImports blanks the imports of s that cells already have under the same name (yaegi
// refuses a second import of a package), keeping every line in place. skip is set when nothing
// is left to import.
func (i *Interp) dropKnownImports(s segment) (out segment, skip bool) {
	const prefix = "package p;"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", prefix+s.text, parser.ImportsOnly)
	if err != nil {
		return s, false // yaegi reports the error
	}
	tf := fset.File(f.Pos())
	b := []byte(s.text)
	left := 0
	i.namesMu.Lock()
	for _, im := range f.Imports {
		p, err := strconv.Unquote(im.Path.Value)
		if err != nil {
			left++
			continue
		}
		name := path.Base(p)
		if im.Name != nil {
			name = im.Name.Name
		}
		if i.imports[name] != p {
			left++
			continue
		}
		from, to := tf.Offset(im.Pos())-len(prefix), tf.Offset(im.End())-len(prefix)
		for k := from; k < to; k++ {
			if b[k] != '\n' {
				b[k] = ' '
			}
		}
	}
	i.namesMu.Unlock()
	if left == 0 {
		return s, true
	}
	s.text = string(b)
	return s, false
}

// recvName is the type name of a method receiver (T for T and *T).
func recvName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.StarExpr:
		return recvName(e.X)
	case *ast.Ident:
		return e.Name
	case *ast.IndexExpr:
		return recvName(e.X)
	}
	return ""
}

func nodeText(fset *token.FileSet, n ast.Node) string {
	var b strings.Builder
	if err := printer.Fprint(&b, fset, n); err != nil {
		return ""
	}
	return b.String()
}

// pkgPath returns the import path that a package name refers to in cells.
func (i *Interp) pkgPath(name string) (string, bool) {
	i.namesMu.Lock()
	defer i.namesMu.Unlock()
	p, ok := i.imports[name]
	return p, ok
}

func isIdentRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// Complete returns the names that can replace code[start:end] (positions in code points) at
// cursor: after `pkg.` the exported names of the package, after `v.` the exported fields and
// methods of a global's type, otherwise keywords, builtins, package names and the globals
// declared by earlier cells.
func (i *Interp) Complete(code string, cursor int) (matches []string, start, end int) {
	rs := []rune(code)
	if cursor < 0 || cursor > len(rs) {
		cursor = len(rs)
	}
	start = cursor
	for start > 0 && isIdentRune(rs[start-1]) {
		start--
	}
	prefix := string(rs[start:cursor])
	var cands []string
	if start > 0 && rs[start-1] == '.' {
		q := start - 1
		for q > 0 && (isIdentRune(rs[q-1]) || rs[q-1] == '.') {
			q--
		}
		cands = i.members(strings.Split(strings.Trim(string(rs[q:start-1]), "."), "."))
	} else {
		cands = append(cands, goKeywords...)
		cands = append(cands, goBuiltins...)
		i.namesMu.Lock()
		for n := range i.imports {
			if !strings.HasPrefix(n, "__") {
				cands = append(cands, n)
			}
		}
		for n := range i.names {
			cands = append(cands, n)
		}
		i.namesMu.Unlock()
		for n := range i.yi.Globals() {
			cands = append(cands, n)
		}
	}
	seen := map[string]bool{}
	for _, c := range cands {
		if strings.HasPrefix(c, prefix) && !strings.HasPrefix(c, "__adj") && !seen[c] {
			seen[c] = true
			matches = append(matches, c)
		}
	}
	sort.Strings(matches)
	return matches, start, cursor
}

// members lists the exported names reachable from a selector chain: a package's symbols, or the
// fields and methods of a global variable or of its fields (v.F.G).
func (i *Interp) members(chain []string) []string {
	var out []string
	qual := chain[0]
	if p, ok := i.pkgPath(qual); ok && len(chain) == 1 {
		for _, syms := range i.yi.Symbols(p) {
			for n := range syms {
				if token.IsExported(n) {
					out = append(out, n)
				}
			}
		}
		return out
	}
	v, ok := i.yi.Globals()[qual]
	if !ok || !v.IsValid() {
		return nil
	}
	for _, f := range chain[1:] {
		for v.IsValid() && (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) {
			if v.IsNil() {
				return nil
			}
			v = v.Elem()
		}
		if !v.IsValid() || v.Kind() != reflect.Struct {
			return nil
		}
		v = v.FieldByName(f)
	}
	if !v.IsValid() {
		return nil
	}
	t := v.Type()
	if t.Kind() == reflect.Interface && !v.IsNil() {
		t = v.Elem().Type()
	}
	for k := 0; k < t.NumMethod(); k++ {
		out = append(out, t.Method(k).Name)
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct {
		for k := 0; k < t.NumField(); k++ {
			if f := t.Field(k); f.IsExported() {
				out = append(out, f.Name)
			}
		}
		pt := reflect.PointerTo(t)
		for k := 0; k < pt.NumMethod(); k++ {
			out = append(out, pt.Method(k).Name)
		}
	}
	return out
}

// Inspect returns documentation for the name at cursor (code points): the declaration and doc
// comment of standard-library and library names, the type and value of globals.
func (i *Interp) Inspect(code string, cursor, detail int) (display.Bundle, bool) {
	rs := []rune(code)
	if cursor < 0 || cursor > len(rs) {
		cursor = len(rs)
	}
	// Inside a call's parentheses, inspect the function being called.
	c := cursor
	for c > 0 && (rs[c-1] == '(' || rs[c-1] == ' ') && (c == len(rs) || !isIdentRune(rs[c])) {
		c--
		if rs[c] == '(' {
			break
		}
	}
	end := c
	for end < len(rs) && isIdentRune(rs[end]) {
		end++
	}
	start := c
	for start > 0 && (isIdentRune(rs[start-1]) || rs[start-1] == '.') {
		start--
	}
	expr := strings.Trim(string(rs[start:end]), ".")
	if expr == "" {
		return display.Bundle{}, false
	}
	parts := strings.Split(expr, ".")
	text, ok := i.describe(parts)
	if !ok {
		return display.Bundle{}, false
	}
	// Markdown for front ends that render it: the declaration as Go code, then the doc.
	sig, doc, _ := strings.Cut(text, "\n\n")
	md := "```go\n" + sig + "\n```"
	if doc != "" {
		md += "\n\n" + doc
	}
	return display.Bundle{Data: map[string]any{display.MIMEText: text, display.MIMEMarkdown: md}}, true
}

func lookupDoc(pkg, name string) (symbols.Doc, bool) {
	docs, err := symbols.Docs()
	if err != nil {
		return symbols.Doc{}, false
	}
	d, ok := docs[pkg][name]
	return d, ok
}

func formatDoc(d symbols.Doc) string {
	if d.Doc == "" {
		return d.Sig
	}
	return d.Sig + "\n\n" + d.Doc
}

// describe documents pkg.Name, pkg.Type.Method, var, var.Method.
func (i *Interp) describe(parts []string) (string, bool) {
	if p, ok := i.pkgPath(parts[0]); ok {
		if len(parts) == 1 {
			return "package " + parts[0] + " // import " + strconv.Quote(p), true
		}
		name := strings.Join(parts[1:], ".")
		if d, ok := lookupDoc(p, name); ok {
			return formatDoc(d), true
		}
		for _, syms := range i.yi.Symbols(p) {
			if v, ok := syms[parts[1]]; ok && v.IsValid() {
				return fmt.Sprintf("%s.%s %s", parts[0], parts[1], v.Type()), true
			}
		}
		return "", false
	}
	i.namesMu.Lock()
	d, ok := i.decls[strings.Join(parts, ".")]
	i.namesMu.Unlock()
	if ok {
		return formatDoc(d), true
	}
	v, ok := i.yi.Globals()[parts[0]]
	if !ok || !v.IsValid() {
		return "", false
	}
	t := v.Type()
	if t.Kind() == reflect.Interface && !v.IsNil() {
		t = v.Elem().Type()
	}
	if len(parts) == 1 {
		val := fmt.Sprintf("%v", v.Interface())
		if len(val) > 200 {
			val = val[:200] + "…"
		}
		return fmt.Sprintf("var %s %s = %s", parts[0], t, val), true
	}
	// A method or field of a library type: its documentation, else its type.
	nt := t
	if nt.Kind() == reflect.Pointer {
		nt = nt.Elem()
	}
	if nt.PkgPath() != "" {
		if d, ok := lookupDoc(nt.PkgPath(), nt.Name()+"."+parts[1]); ok {
			return formatDoc(d), true
		}
	}
	if m, ok := t.MethodByName(parts[1]); ok {
		return fmt.Sprintf("func (%s) %s%s", t, parts[1], strings.TrimPrefix(m.Type.String(), "func")), true
	}
	if nt.Kind() == reflect.Struct {
		if f, ok := nt.FieldByName(parts[1]); ok {
			return fmt.Sprintf("field %s %s", f.Name, f.Type), true
		}
	}
	return "", false
}

// IsComplete says whether code is ready to run: "incomplete" (with the indent for the next line)
// while brackets are open or a line ends in an operator, "invalid" on a syntax error, otherwise
// "complete".
func (i *Interp) IsComplete(code string) (status, indent string) {
	if strings.TrimSpace(code) == "" {
		return "complete", ""
	}
	if _, _, _, ok := parseMagic(code); ok {
		return "complete", ""
	}
	fset := token.NewFileSet()
	file := fset.AddFile("cell", -1, len(code))
	var errs scanner.ErrorList
	var sc scanner.Scanner
	sc.Init(file, []byte(code), func(pos token.Position, msg string) { errs.Add(pos, msg) }, 0)
	depth := 0
	last := token.ILLEGAL
	for {
		_, tok, lit := sc.Scan()
		if tok == token.EOF {
			break
		}
		switch tok {
		case token.LPAREN, token.LBRACE, token.LBRACK:
			depth++
		case token.RPAREN, token.RBRACE, token.RBRACK:
			depth--
		}
		if tok == token.SEMICOLON && lit == "\n" {
			continue
		}
		last = tok
	}
	for _, e := range errs {
		if strings.Contains(e.Msg, "raw string literal not terminated") || strings.Contains(e.Msg, "comment not terminated") {
			return "incomplete", ""
		}
	}
	if errs.Len() > 0 || depth < 0 {
		return "invalid", ""
	}
	if depth > 0 {
		return "incomplete", strings.Repeat("\t", depth)
	}
	if continues(last) {
		return "incomplete", ""
	}
	segs, err := splitCell(code)
	if err != nil {
		return "invalid", ""
	}
	for _, s := range segs {
		var src string
		switch s.kind {
		case segImport, segDecl:
			src = "package p;" + s.text
		default:
			src = "package p; func _() {" + s.text + "\n}"
		}
		if _, err := parser.ParseFile(token.NewFileSet(), "", src, parser.SkipObjectResolution); err != nil {
			return "invalid", ""
		}
	}
	return "complete", ""
}

// continues reports whether a line ending in tok must go on (a binary operator, a comma, ...).
func continues(tok token.Token) bool {
	switch tok {
	case token.ADD, token.SUB, token.MUL, token.QUO, token.REM, token.AND, token.OR, token.XOR,
		token.SHL, token.SHR, token.AND_NOT, token.LAND, token.LOR, token.ARROW, token.EQL,
		token.LSS, token.GTR, token.ASSIGN, token.NOT, token.NEQ, token.LEQ, token.GEQ,
		token.DEFINE, token.COMMA, token.PERIOD, token.COLON,
		token.ADD_ASSIGN, token.SUB_ASSIGN, token.MUL_ASSIGN, token.QUO_ASSIGN, token.REM_ASSIGN,
		token.AND_ASSIGN, token.OR_ASSIGN, token.XOR_ASSIGN, token.SHL_ASSIGN, token.SHR_ASSIGN,
		token.AND_NOT_ASSIGN:
		return true
	}
	return false
}

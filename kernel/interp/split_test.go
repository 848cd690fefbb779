package interp

import (
	"adjoint/kernel/symbols"
	"strings"
	"testing"
)

func TestSplitCell(t *testing.T) {
	cases := []struct {
		code  string
		kinds []segKind
		lines []int
	}{
		{"x := 1", []segKind{segStmt}, []int{1}},
		{"x", []segKind{segExpr}, []int{1}},
		{"import \"fmt\"\nfunc f() {}\nx := 1\nf()", []segKind{segImport, segDecl, segStmt, segExpr}, []int{1, 2, 3, 4}},
		{"a := 1\nb := 2\n\ntype T int\nvar c T\n\nfmt.Println(a)\nb", []segKind{segStmt, segDecl, segStmt, segExpr}, []int{1, 4, 7, 8}},
		{"func (t T) M() {}\nfunc() {}()", []segKind{segDecl, segExpr}, []int{1, 2}},
		{"func (a int) { }(3)", []segKind{segExpr}, []int{1}},
		{"for i := 0; i < 3; i++ {\n}\n", []segKind{segStmt}, []int{1}},
		{"package main\nfunc main() {}", []segKind{segDecl}, []int{2}},
		{"// only a comment\n", nil, nil},
	}
	for _, c := range cases {
		segs, err := splitCell(c.code)
		if err != nil {
			t.Errorf("splitCell(%q): %v", c.code, err)
			continue
		}
		if len(segs) != len(c.kinds) {
			t.Errorf("splitCell(%q) = %v, want kinds %v", c.code, segs, c.kinds)
			continue
		}
		for k, s := range segs {
			if s.kind != c.kinds[k] || s.line != c.lines[k] {
				t.Errorf("splitCell(%q)[%d] = %v, want kind %d line %d", c.code, k, s, c.kinds[k], c.lines[k])
			}
		}
	}
}

func TestRewriteGo(t *testing.T) {
	cases := []struct{ in, want string }{
		{"go f(1, 2)", "__adjrt.Go(f, 1, 2)"},
		{"go f()", "__adjrt.Go(f)"},
		{"go func() {\n\tx()\n}()", "__adjrt.Go(func() {\n\tx()\n})"},
		{"go obj.M(a)", "__adjrt.Go(obj.M, a)"},
		{"go f(xs...)", "go f(xs...)"},
	}
	for _, c := range cases {
		got := rewriteGo(segment{kind: segStmt, text: c.in, line: 1, col: 1}).text
		if got != c.want {
			t.Errorf("rewriteGo(%q) = %q, want %q", c.in, got, c.want)
		}
		if strings.Count(got, "\n") != strings.Count(c.in, "\n") {
			t.Errorf("rewriteGo(%q) moved lines", c.in)
		}
	}
	d := rewriteGo(segment{kind: segDecl, text: "func w() {\n\tgo f(1)\n}", line: 1, col: 1}).text
	if !strings.Contains(d, "__adjrt.Go(f, 1)") {
		t.Errorf("go statement inside a declared function not rewritten: %q", d)
	}
}

// FuzzSplit checks that splitting, completeness and completion never panic.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{"x := 1", "fmt.Println(\"a\"", "func f() {", "`raw", "}}}", "go f(", "package main\nfunc main(){}", "a.b.c(", "é := 1; é"} {
		f.Add(s)
	}
	in := &Interp{imports: map[string]string{}, names: map[string]bool{}, decls: map[string]symbols.Doc{}, methodSrc: map[string]string{}}
	f.Fuzz(func(t *testing.T, code string) {
		segs, _ := splitCell(code)
		for _, s := range segs {
			rewriteGo(s)
			renameMain(s)
		}
		in.IsComplete(code)
		dropKnown := segment{kind: segImport, text: code, line: 1, col: 1}
		in.dropKnownImports(dropKnown)
	})
}

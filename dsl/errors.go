package dsl

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Error is a located error in a source file: it names line:column, shows the line with a
// caret under the column, and gives a hint when one is known.
type Error struct {
	File string
	Pos  Pos
	Msg  string
	Hint string
	Line string // the source line (filled in by attach)
}

func (e *Error) Error() string {
	var b strings.Builder
	name := e.File
	if name == "" {
		name = "<input>"
	}
	fmt.Fprintf(&b, "%s:%d:%d: %s", name, e.Pos.Line, e.Pos.Col, e.Msg)
	if e.Line != "" {
		line := strings.ReplaceAll(e.Line, "\t", " ")
		fmt.Fprintf(&b, "\n    %s\n    %s^", line, strings.Repeat(" ", max(0, e.Pos.Col-1)))
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, "\n  hint: %s", e.Hint)
	}
	return b.String()
}

// ErrorList is several errors of one source, in source order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap gives the individual errors to errors.Is/As.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// attach fills in the file name and source line of each error.
func attach(errs []*Error, file, src string) {
	lines := strings.Split(src, "\n")
	for _, e := range errs {
		e.File = file
		if e.Pos.Line >= 1 && e.Pos.Line <= len(lines) {
			l := strings.TrimRight(lines[e.Pos.Line-1], "\r")
			if utf8.ValidString(l) && len(l) < 400 {
				e.Line = l
			}
		}
	}
}

// editDistance is the Levenshtein distance between a and b (in runes).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			c := 1
			if ra[i-1] == rb[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// nearest returns up to three candidates closest to name by edit distance, as a hint.
func nearest(name string, candidates []string) string {
	type cand struct {
		s string
		d int
	}
	var cs []cand
	seen := map[string]bool{}
	for _, c := range candidates {
		if seen[c] || c == name {
			continue
		}
		seen[c] = true
		d := editDistance(strings.ToLower(name), strings.ToLower(c))
		limit := max(1, (utf8.RuneCountInString(name)+1)/3)
		if d <= limit || strings.HasPrefix(c, name) && len(name) >= 2 {
			cs = append(cs, cand{c, d})
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].s < cs[j].s
	})
	if len(cs) == 0 {
		return ""
	}
	if len(cs) > 3 {
		cs = cs[:3]
	}
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.s
	}
	return "did you mean " + strings.Join(names, ", ") + "?"
}

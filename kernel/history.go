package kernel

import (
	"regexp"
	"strings"
	"sync"
)

// HistoryRequest is the content of a history_request.
type HistoryRequest struct {
	Output         bool   `json:"output"`
	Raw            bool   `json:"raw"`
	HistAccessType string `json:"hist_access_type"` // "tail", "range" or "search"
	Session        int    `json:"session"`          // range: 0 or the current session number
	Start          int    `json:"start"`            // range: first line
	Stop           *int   `json:"stop"`             // range: line after the last (nil: to the end)
	N              *int   `json:"n"`                // tail, search: how many of the latest
	Pattern        string `json:"pattern"`          // search: glob (* any text, ? one character)
	Unique         bool   `json:"unique"`           // search: drop repeated inputs
}

// history keeps the inputs (and plain-text results) of this session's cells in memory.
type history struct {
	mu      sync.Mutex
	session int
	entries []histEntry
}

type histEntry struct {
	line   int
	input  string
	output any // text/plain of the result, or nil
}

func (h *history) add(input string, output any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.entries = append(h.entries, histEntry{line: len(h.entries) + 1, input: input, output: output})
}

// query returns the entries a request asks for, as [session, line, input] or, with Output,
// [session, line, [input, output]].
func (h *history) query(r HistoryRequest) []any {
	h.mu.Lock()
	defer h.mu.Unlock()
	var sel []histEntry
	switch r.HistAccessType {
	case "range":
		if r.Session != 0 && r.Session != h.session {
			break // earlier sessions are not kept
		}
		for _, e := range h.entries {
			if e.line >= r.Start && (r.Stop == nil || e.line < *r.Stop) {
				sel = append(sel, e)
			}
		}
	case "search":
		pat := r.Pattern
		if pat == "" {
			pat = "*"
		}
		re := globRegexp(pat)
		seen := map[string]bool{}
		for i := len(h.entries) - 1; i >= 0; i-- {
			e := h.entries[i]
			if !re.MatchString(e.input) || (r.Unique && seen[e.input]) {
				continue
			}
			seen[e.input] = true
			sel = append(sel, e)
		}
		for i, j := 0, len(sel)-1; i < j; i, j = i+1, j-1 {
			sel[i], sel[j] = sel[j], sel[i]
		}
		sel = lastN(sel, r.N)
	default: // "tail"
		sel = lastN(h.entries, r.N)
	}
	out := make([]any, 0, len(sel))
	for _, e := range sel {
		if r.Output {
			out = append(out, []any{h.session, e.line, []any{e.input, e.output}})
		} else {
			out = append(out, []any{h.session, e.line, e.input})
		}
	}
	return out
}

func lastN(es []histEntry, n *int) []histEntry {
	if n != nil && *n >= 0 && *n < len(es) {
		return es[len(es)-*n:]
	}
	return es
}

// globRegexp turns a glob (* any text including newlines, ? one character, [...] a class)
// into an anchored regular expression.
func globRegexp(glob string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	rs := []rune(glob)
	for i := 0; i < len(rs); i++ {
		switch c := rs[i]; c {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '[':
			j := i + 1
			for j < len(rs) && rs[j] != ']' {
				j++
			}
			if j < len(rs) && j > i+1 {
				class := string(rs[i+1 : j])
				if strings.HasPrefix(class, "!") {
					class = "^" + class[1:]
				}
				b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
				i = j
			} else {
				b.WriteString(regexp.QuoteMeta("["))
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`$`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return regexp.MustCompile(`^` + regexp.QuoteMeta(glob) + `$`)
	}
	return re
}

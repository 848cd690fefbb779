package kernel

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
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

// Defaults of the history's bounds (see Options).
const (
	DefaultHistoryLength      = 10000
	DefaultHistoryOutputs     = 1000
	DefaultHistoryOutputBytes = 4 << 10
)

// history keeps the inputs (and plain-text results) of this session's latest cells in memory.
// Its bounds are set by New; the zero value keeps everything.
type history struct {
	mu      sync.Mutex
	session int
	entries []histEntry
	count   int // cells added so far (the line of the latest)

	maxEntries     int // entries kept (0: all)
	maxOutputs     int // latest entries that keep their output (0: all)
	maxOutputBytes int // longer outputs are cut (0: no limit)

	file    string // when set, inputs are also appended here as JSON lines
	id      string // the kernel session, recorded in the file
	fileErr error  // the first failure to write the file (then writing stops)
}

type histEntry struct {
	line   int
	input  string
	output any // text/plain of the result, or nil
}

// add records a cell; it returns an error only for the first failure to append to the file.
func (h *history) add(input string, output any) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.count++
	e := histEntry{line: h.count, input: input, output: cutOutput(output, h.maxOutputBytes)}
	if h.maxEntries > 0 && len(h.entries) >= h.maxEntries {
		drop := len(h.entries) - h.maxEntries + 1
		clear(h.entries[:drop]) // the backing array keeps its head until append moves it
		h.entries = h.entries[drop:]
	}
	h.entries = append(h.entries, e)
	if k := len(h.entries) - 1 - h.maxOutputs; h.maxOutputs > 0 && k >= 0 {
		h.entries[k].output = nil
	}
	if h.file == "" || h.fileErr != nil {
		return nil
	}
	h.fileErr = appendHistory(h.file, map[string]any{"session": h.id, "line": e.line, "input": input,
		"time": time.Now().UTC().Format(time.RFC3339)})
	return h.fileErr
}

// cutOutput shortens a text output longer than max bytes (at a rune boundary), saying so.
func cutOutput(output any, max int) any {
	s, ok := output.(string)
	if !ok || max <= 0 || len(s) <= max {
		return output
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("… [%d more bytes not kept in the history]", len(s)-cut)
}

func appendHistory(path string, rec map[string]any) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("history file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("history file: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("history file: %w", err)
	}
	return f.Close()
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

// historyBound turns an Options value into a bound: 0 takes the default, a negative value
// means none (0).
func historyBound(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

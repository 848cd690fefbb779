package dsl

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"adjoint/lib/adjoint"
	"adjoint/lib/energy"
	"adjoint/lib/sde"
)

// offsetOf returns the byte offset of a position (lines from 1, columns in runes from 1).
func offsetOf(src string, p Pos) int {
	off := 0
	for line := 1; line < p.Line; line++ {
		i := strings.IndexByte(src[off:], '\n')
		if i < 0 {
			return -1
		}
		off += i + 1
	}
	for col := 1; col < p.Col && off < len(src); col++ {
		_, w := utf8.DecodeRuneInString(src[off:])
		off += w
	}
	return off
}

// blockText returns the text of a declaration that starts at p and ends with the brace that
// closes its first "{" (comments and strings skipped), or "" when there is none.
func blockText(src string, p Pos) string {
	start := offsetOf(src, p)
	if start < 0 || start >= len(src) {
		return ""
	}
	depth := 0
	for i := start; i < len(src); i++ {
		switch c := src[i]; {
		case c == '#' || c == '/' && i+1 < len(src) && src[i+1] == '/':
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				return ""
			}
			i += j
		case c == '"':
			j := strings.IndexByte(src[i+1:], '"')
			if j < 0 {
				return ""
			}
			i += j + 1
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				return src[start : i+1]
			}
		}
	}
	return ""
}

// systemSource returns a self-contained declaration of a system: the script's parameters as
// lets, then the system's own text, so that SystemFromSource rebuilds it without the script.
func systemSource(src string, p Pos, params map[string]float64) string {
	text := blockText(src, p)
	if text == "" {
		return ""
	}
	names := make([]string, 0, len(params))
	for n := range params {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "let %s = %s\n", n, strconv.FormatFloat(params[n], 'g', -1, 64))
	}
	b.WriteString(text)
	b.WriteByte('\n')
	return b.String()
}

// SystemFromSource rebuilds the system name from the DSL text a checkpoint recorded
// (energy.System.Source); adjoint.LoadOptions.FromSource takes it, so that checkpoints of
// systems declared in scripts load without the script.
func SystemFromSource(name, source string) (*energy.System, error) {
	s := NewSession()
	s.DryRun = true
	binds, err := s.Exec(context.Background(), source, "system "+name+" (from the checkpoint)", nil)
	if err != nil {
		return nil, err
	}
	for _, b := range binds {
		if sys, ok := b.Value.(*energy.System); ok && b.Name == name {
			return sys, nil
		}
	}
	return nil, fmt.Errorf("the recorded source declares no system %q", name)
}

// ScheduleFromSource rebuilds the schedule of the sde name from the DSL text a checkpoint
// recorded (sde.WithSource); adjoint.LoadOptions.ScheduleFromSource takes it, so that
// checkpoints of samplers with a sigma(t) = … schedule load without the script.
func ScheduleFromSource(name, source string) (sde.Schedule, error) {
	s := NewSession()
	s.DryRun = true
	binds, err := s.Exec(context.Background(), source, "sde "+name+" (from the checkpoint)", nil)
	if err != nil {
		return nil, err
	}
	for _, b := range binds {
		if d, ok := b.Value.(*SDE); ok && b.Name == name {
			return d.Schedule, nil
		}
	}
	return nil, fmt.Errorf("the recorded source declares no sde %q", name)
}

// LoadOptions are the options with which scripts, notebooks and the command line read
// checkpoints: systems declared in the DSL are rebuilt from the source the checkpoint recorded,
// or else found among the systems declared in this process.
func LoadOptions() adjoint.LoadOptions {
	return adjoint.LoadOptions{FromSource: SystemFromSource, Resolve: declaredSystem, ScheduleFromSource: ScheduleFromSource}
}

// LoadSampler reads a checkpoint of any system: a benchmark, a zoo target or a system declared in the
// DSL (rebuilt from the source the checkpoint recorded).
func LoadSampler(path string) (*adjoint.Sampler, error) {
	return adjoint.LoadCheckpoint(path, LoadOptions())
}

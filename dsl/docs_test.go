package dsl

import (
	"math"

	"adjoint/lib/energy"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// docBlocks returns the ```adj code blocks of docs/dsl.md with their starting line numbers.
func docBlocks(t *testing.T) ([]string, []int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "dsl.md"))
	if err != nil {
		t.Fatalf("docs/dsl.md: %v", err)
	}
	var blocks []string
	var starts []int
	var cur []string
	in := false
	start := 0
	for i, line := range strings.Split(string(b), "\n") {
		switch {
		case !in && strings.TrimSpace(line) == "```adj":
			in, cur, start = true, nil, i+2
		case in && strings.TrimSpace(line) == "```":
			in = false
			blocks = append(blocks, strings.Join(cur, "\n"))
			starts = append(starts, start)
		case in:
			cur = append(cur, line)
		}
	}
	if in {
		t.Fatal("docs/dsl.md: unterminated ```adj block")
	}
	return blocks, starts
}

// TestDocExamples runs every ```adj example of docs/dsl.md, in order, through parse and check;
// declarations (systems, sdes, samplers, parameters) are compiled and built, statements that
// train, sample, load or evaluate are only checked.
func TestDocExamples(t *testing.T) {
	blocks, starts := docBlocks(t)
	if len(blocks) < 10 {
		t.Fatalf("only %d adj examples in docs/dsl.md", len(blocks))
	}
	s := NewSession()
	s.DryRun = true
	for i, src := range blocks {
		name := "docs/dsl.md:" + strconv.Itoa(starts[i])
		binds, err := s.Exec(t.Context(), src, name, nil)
		if err != nil {
			t.Errorf("example at %s:\n%v", name, err)
			continue
		}
		for _, b := range binds {
			if b.Value == nil {
				t.Errorf("%s: %s bound to nil", name, b.Name)
			}
		}
	}
	// the systems of the examples compile to working energies
	for _, name := range []string{"dw4", "lj13", "ring", "funcs", "wall", "pieces", "gas", "spring", "harmonic", "softwells"} {
		v, ok := s.Value(name)
		if !ok {
			t.Errorf("docs example system %s not declared", name)
			continue
		}
		sys, ok := v.(*energy.System)
		if !ok {
			t.Errorf("%s is %T, not a system", name, v)
			continue
		}
		nd := sys.Dim()
		x := make([]float64, 3*nd)
		for i := range x {
			x[i] = 0.37*float64(i%7) - 0.9 + 0.11*float64(i)
		}
		e, g := make([]float64, 3), make([]float64, 3*nd)
		sys.Energy.EnergyGrad(x, e, g)
		for _, v := range append(e, g...) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("%s: non-finite energy or gradient at a test configuration", name)
				break
			}
		}
	}
}

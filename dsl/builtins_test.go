package dsl

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// evalAt compiles `energy = EXPR` for one particle in 2-D and evaluates it, with its
// gradient, at (x, y).
func evalAt(t *testing.T, expr string, x, y float64) (e float64, g [2]float64) {
	t.Helper()
	sys := compileOne(t, "system s { particles 1 in 2d\n energy = "+expr+" }")
	es := make([]float64, 1)
	sys.Energy.EnergyGrad([]float64{x, y}, es, g[:])
	return es[0], g
}

// TestSoftReductions checks logsumexp, smin and smax of two and more values against closed
// forms, also where the naive formula overflows.
func TestSoftReductions(t *testing.T) {
	lse := func(v ...float64) float64 { // reference in a form that cannot overflow
		m := math.Inf(-1)
		for _, a := range v {
			m = math.Max(m, a)
		}
		s := 0.0
		for _, a := range v {
			s += math.Exp(a - m)
		}
		return m + math.Log(s)
	}
	x, y := 0.7, -1.3
	cases := []struct {
		expr string
		want float64
		dx   float64 // ∂/∂x
	}{
		{"logsumexp(x[0].x)", x, 1},
		{"logsumexp(x[0].x, x[0].y)", math.Log(math.Exp(x) + math.Exp(y)), math.Exp(x) / (math.Exp(x) + math.Exp(y))},
		{"logsumexp(x[0].x, x[0].y, 2)", math.Log(math.Exp(x) + math.Exp(y) + math.Exp(2)), math.Exp(x) / (math.Exp(x) + math.Exp(y) + math.Exp(2))},
		// e^1000 overflows; the shifted form does not
		{"logsumexp(1000*x[0].x/0.7, 999)", lse(1000, 999), 1000 / 0.7 * 1 / (1 + math.Exp(-1))},
		{"-logsumexp(-1000*x[0].x/0.7, -999)", -lse(-1000, -999), 1000 / 0.7 * math.Exp(-1) / (1 + math.Exp(-1))},
		{"smin(x[0].x, x[0].y, 0.5)", -0.5 * math.Log(math.Exp(-x/0.5)+math.Exp(-y/0.5)), math.Exp(-x/0.5) / (math.Exp(-x/0.5) + math.Exp(-y/0.5))},
		{"smin(x[0].x, x[0].y, 1.5, 0.5)", -0.5 * lse(-x/0.5, -y/0.5, -1.5/0.5), math.Exp(-x/0.5) / (math.Exp(-x/0.5) + math.Exp(-y/0.5) + math.Exp(-3))},
		{"smax(x[0].x, x[0].y, 1.5, 0.5)", 0.5 * lse(x/0.5, y/0.5, 1.5/0.5), math.Exp(x/0.5) / (math.Exp(x/0.5) + math.Exp(y/0.5) + math.Exp(3))},
		{"softmax(x[0].x, x[0].y, 0.25)", 0.25 * lse(x/0.25, y/0.25), math.Exp(x/0.25) / (math.Exp(x/0.25) + math.Exp(y/0.25))},
		// two equal values: smin(a, a, k) = a − k log 2, the n-ary form of three: a − k log 3
		{"smin(x[0].x, x[0].x, 0.1)", x - 0.1*math.Log(2), 1},
		{"smin(x[0].x, x[0].x, x[0].x, 0.1)", x - 0.1*math.Log(3), 1},
		// a softness far below the spread gives the hard minimum, without underflow to log 0
		{"smin(x[0].x, x[0].y, 1e-3)", y, 0},
		{"smax(x[0].x, x[0].y, 1e-3)", x, 1},
	}
	for _, c := range cases {
		e, g := evalAt(t, c.expr, x, y)
		if math.Abs(e-c.want) > 1e-12*max(1, math.Abs(c.want)) {
			t.Errorf("%s = %.17g, want %.17g", c.expr, e, c.want)
		}
		if math.Abs(g[0]-c.dx) > 1e-9*max(1, math.Abs(c.dx)) {
			t.Errorf("∂/∂x %s = %.17g, want %.17g", c.expr, g[0], c.dx)
		}
	}
}

// TestSminTwoValuesUnchanged checks that the n-ary smooth minimum of two values is the former
// two-value one: −k·log(e^{−a/k} + e^{−b/k}) around min(a, b).
func TestSminTwoValuesUnchanged(t *testing.T) {
	for _, v := range [][2]float64{{0.3, 0.9}, {-4, 2}, {5, 5}, {100, -100}} {
		a, b, k := v[0], v[1], 0.7
		m := math.Min(a, b)
		want := m - k*math.Log(math.Exp((m-a)/k)+math.Exp((m-b)/k))
		e, _ := evalAt(t, "smin(x[0].x, x[0].y, 0.7)", a, b)
		if e != want {
			t.Errorf("smin(%g, %g, 0.7) = %.17g, want %.17g", a, b, e, want)
		}
		e, _ = evalAt(t, "smax(x[0].x, x[0].y, 0.7)", a, b)
		M := math.Max(a, b)
		if w := M + k*math.Log(math.Exp((a-M)/k)+math.Exp((b-M)/k)); math.Abs(e-w) > 1e-14*max(1, math.Abs(w)) {
			t.Errorf("smax(%g, %g, 0.7) = %.17g, want %.17g", a, b, e, w)
		}
	}
}

// TestBuiltinTable checks the table's entries: each callable function is documented in
// docs/dsl.md, has one kind, and elementary functions have every form.
func TestBuiltinTable(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "dsl.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range builtins {
		kinds := 0
		for _, set := range []bool{b.elementary(), b.build != nil, b.lower != nil} {
			if set {
				kinds++
			}
		}
		if kinds != 1 {
			t.Errorf("%s: %d kinds (want exactly one of elementary, build, lower)", b.name, kinds)
		}
		if b.elementary() {
			if b.cuda == "" {
				t.Errorf("%s: elementary without a CUDA form", b.name)
			}
			if funcOf(b.op) != &builtins[indexOf(b.name)] {
				t.Errorf("%s: operation %d does not map back to it", b.name, b.op)
			}
		}
		if b.max != variadic && b.max < b.min {
			t.Errorf("%s: arity %d to %d", b.name, b.min, b.max)
		}
		if !b.hidden && !strings.Contains(string(doc), "`"+b.name+"(") && !strings.Contains(string(doc), " "+b.name+",") {
			t.Errorf("builtin %s is not documented in docs/dsl.md", b.name)
		}
	}
}

func indexOf(name string) int {
	for i := range builtins {
		if builtins[i].name == name {
			return i
		}
	}
	return -1
}

package dsl

import (
	"math"
	"testing"
)

// evalTape runs a tape on one lane.
func evalTape(t *tape, in ...float64) []float64 {
	buf := make([]float64, max(1, t.nslots))
	t.fillConsts(buf, 1)
	copy(buf, in)
	t.run(buf, 1, 1)
	out := make([]float64, len(t.outs))
	for i, o := range t.outs {
		if o >= 0 {
			out[i] = buf[o]
		}
	}
	return out
}

func TestGraphSharesPowers(t *testing.T) {
	g := newGraph()
	x := g.input(0)
	a := g.powc(x, -6)
	n1 := len(g.nodes)
	b := g.powc(x, -12)
	if len(g.nodes)-n1 != 1 {
		t.Errorf("x^-12 after x^-6 added %d nodes, want 1 (the square of x^-6)", len(g.nodes)-n1)
	}
	if g.nodes[b].op != opMul || g.nodes[b].a != a || g.nodes[b].b != a {
		t.Errorf("x^-12 is not (x^-6)²: %+v", g.nodes[b])
	}
	// even powers of a square root need no square root
	y := g.input(1)
	p := g.powc(g.op1(opSqrt, y), 4)
	if g.nodes[p].op != opMul || g.nodes[p].a != y {
		t.Errorf("sqrt(y)^4 = %+v, want y*y", g.nodes[p])
	}
}

func TestGraphFoldsConstants(t *testing.T) {
	g := newGraph()
	x := g.input(0)
	cases := []struct {
		name string
		id   int32
		want int32
	}{
		{"2+3", g.op2(opAdd, g.konst(2), g.konst(3)), g.konst(5)},
		{"x*1", g.op2(opMul, x, g.konst(1)), x},
		{"x+0", g.op2(opAdd, g.konst(0), x), x},
		{"x-x", g.op2(opSub, x, x), g.konst(0)},
		{"--x", g.op1(opNeg, g.op1(opNeg, x)), x},
		{"x^1", g.powc(x, 1), x},
		{"exp(0)", g.call("exp", g.konst(0)), g.konst(1)},
		{"2*(3*x)", g.op2(opMul, g.konst(2), g.op2(opMul, g.konst(3), x)), g.op2(opMul, g.konst(6), x)},
		{"cse", g.op2(opAdd, g.call("sin", x), g.konst(1)), g.op2(opAdd, g.konst(1), g.call("sin", x))},
	}
	for _, c := range cases {
		if c.id != c.want {
			t.Errorf("%s: node %d (%+v), want %d", c.name, c.id, g.nodes[c.id], c.want)
		}
	}
}

// TestTapeGradients checks derived gradients of elementary functions against closed forms.
func TestTapeGradients(t *testing.T) {
	cases := []struct {
		name  string
		build func(g *graph, x int32) int32
		f, df func(x float64) float64
	}{
		{"x^3", func(g *graph, x int32) int32 { return g.powc(x, 3) }, func(x float64) float64 { return x * x * x }, func(x float64) float64 { return 3 * x * x }},
		{"x^-6", func(g *graph, x int32) int32 { return g.powc(x, -6) }, func(x float64) float64 { return math.Pow(x, -6) }, func(x float64) float64 { return -6 * math.Pow(x, -7) }},
		{"x^2.5", func(g *graph, x int32) int32 { return g.powc(x, 2.5) }, func(x float64) float64 { return math.Pow(x, 2.5) }, func(x float64) float64 { return 2.5 * math.Pow(x, 1.5) }},
		{"tanh", func(g *graph, x int32) int32 { return g.call("tanh", x) }, math.Tanh, func(x float64) float64 { return 1 - math.Tanh(x)*math.Tanh(x) }},
		{"log", func(g *graph, x int32) int32 { return g.call("log", x) }, math.Log, func(x float64) float64 { return 1 / x }},
		{"sqrt", func(g *graph, x int32) int32 { return g.op1(opSqrt, x) }, math.Sqrt, func(x float64) float64 { return 0.5 / math.Sqrt(x) }},
		{"1/x", func(g *graph, x int32) int32 { return g.op2(opDiv, g.konst(1), x) }, func(x float64) float64 { return 1 / x }, func(x float64) float64 { return -1 / (x * x) }},
		{"x^x", func(g *graph, x int32) int32 { return g.op2(opPow, x, x) }, func(x float64) float64 { return math.Pow(x, x) }, func(x float64) float64 { return math.Pow(x, x) * (math.Log(x) + 1) }},
	}
	for _, c := range cases {
		g := newGraph()
		x := g.input(0)
		out := c.build(g, x)
		gr := g.grad(out)
		tp := compileTape(g, []int32{out, gr[0]})
		for _, v := range []float64{0.3, 1.1, 2.7} {
			got := evalTape(tp, v)
			if math.Abs(got[0]-c.f(v)) > 1e-13*max(1, math.Abs(c.f(v))) || math.Abs(got[1]-c.df(v)) > 1e-12*max(1, math.Abs(c.df(v))) {
				t.Errorf("%s at %v: f %v df %v, want %v %v", c.name, v, got[0], got[1], c.f(v), c.df(v))
			}
		}
	}
}

// TestHornerForms checks the factored Horner evaluation against the polynomial term by term.
func TestHornerForms(t *testing.T) {
	cases := []map[int]float64{
		{2: -4, 4: 0.9},         // even (DW-4 in r − 4)
		{1: 0.5},                // harmonic in q
		{0: 1, 3: 2, 5: -1},     // odd, with a constant
		{4: 3, 6: 1, 8: 0.25},   // even with w^2 factored out
		{0: 7},                  // constant
		{1: 1, 2: 1, 7: 1e-3},   // mixed
		{3: 1.5, 4: -2, 8: 0.1}, // lowest power 3
	}
	for _, terms := range cases {
		pk := &polyKernel{}
		pk.setHorner(terms)
		for _, v := range []float64{-1.7, 0.3, 2.2} {
			var f, df float64
			for m, c := range terms {
				f += c * math.Pow(v, float64(m))
				if m > 0 {
					df += float64(m) * c * math.Pow(v, float64(m-1))
				}
			}
			gf, gdf := pk.horn(v)
			if math.Abs(gf-f) > 1e-12*max(1, math.Abs(f)) || math.Abs(gdf-df) > 1e-12*max(1, math.Abs(df)) {
				t.Errorf("%v at %v: (%v, %v), want (%v, %v)", terms, v, gf, gdf, f, df)
			}
		}
	}
}

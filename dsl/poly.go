package dsl

import (
	"math"
)

// A pair-sum body that is a sum of powers of r (Lennard-Jones, soft spheres, Coulomb-like
// terms, …) runs on a fused native loop instead of the tape: per pair it forms the powers by
// repeated multiplication and derives the radial force factor in the same pass.

// laurent is Σ c_k r^k as exponent → coefficient.
type laurent map[int]float64

const maxPolyTerms = 16

// polyOf expresses node id of a pair-sum graph whose only input is r2 as a Laurent polynomial
// in r. Products of two sums are not expanded (that would lose accuracy to cancellation).
func polyOf(g *graph, id int32, memo map[int32]laurent) (laurent, bool) {
	return polyIn(g, id, -1, memo)
}

// polyIn is polyOf in the variable node v (v < 0: the variable is r, the input being r2).
func polyIn(g *graph, id, v int32, memo map[int32]laurent) (laurent, bool) {
	if p, ok := memo[id]; ok {
		return p, p != nil
	}
	var p laurent
	if id == v {
		p = laurent{1: 1}
	} else {
		p = polyOf1(g, id, v, memo)
	}
	if p != nil && len(p) > maxPolyTerms {
		p = nil
	}
	for k := range p {
		if k < -64 || k > 64 {
			p = nil
			break
		}
	}
	memo[id] = p
	return p, p != nil
}

func single(p laurent) (int, float64, bool) {
	if len(p) != 1 {
		return 0, 0, false
	}
	for k, c := range p {
		return k, c, true
	}
	return 0, 0, false
}

func polyOf1(g *graph, id, v int32, memo map[int32]laurent) laurent {
	nd := g.nodes[id]
	switch nd.op {
	case opConst:
		if nd.k == 0 {
			return laurent{}
		}
		return laurent{0: nd.k}
	case opInput:
		if v >= 0 {
			return nil
		}
		return laurent{2: 1}
	case opSqrt:
		a, ok := polyIn(g, nd.a, v, memo)
		k, c, one := single(a)
		if !ok || !one || k%2 != 0 || c <= 0 {
			return nil
		}
		return laurent{k / 2: math.Sqrt(c)}
	case opNeg:
		a, ok := polyIn(g, nd.a, v, memo)
		if !ok {
			return nil
		}
		out := laurent{}
		for k, c := range a {
			out[k] = -c
		}
		return out
	case opAdd, opSub:
		a, ok1 := polyIn(g, nd.a, v, memo)
		b, ok2 := polyIn(g, nd.b, v, memo)
		if !ok1 || !ok2 {
			return nil
		}
		out := laurent{}
		for k, c := range a {
			out[k] += c
		}
		for k, c := range b {
			if nd.op == opSub {
				c = -c
			}
			out[k] += c
		}
		for k, c := range out {
			if c == 0 {
				delete(out, k)
			}
		}
		return out
	case opMul, opDiv:
		a, ok1 := polyIn(g, nd.a, v, memo)
		b, ok2 := polyIn(g, nd.b, v, memo)
		if !ok1 || !ok2 {
			return nil
		}
		kb, cb, oneB := single(b)
		if nd.op == opDiv {
			if !oneB {
				return nil
			}
			out := laurent{}
			for k, c := range a {
				out[k-kb] = c / cb
			}
			return out
		}
		if !oneB {
			ka, ca, oneA := single(a)
			if !oneA {
				return nil
			}
			a, kb, cb = b, ka, ca
		}
		out := laurent{}
		for k, c := range a {
			out[k+kb] = c * cb
		}
		return out
	}
	return nil
}

// shiftedPoly finds a node r ± c (r = sqrt of input 0) in which the body out is a polynomial of
// degree ≤ 8, and returns its kernel.
func shiftedPoly(g *graph, out int32) *polyKernel {
	var r int32 = -1
	for i, nd := range g.nodes {
		if nd.op == opSqrt && g.nodes[nd.a].op == opInput {
			r = int32(i)
			break
		}
	}
	if r < 0 {
		return nil
	}
	for i, nd := range g.nodes {
		var shift float64
		switch {
		case nd.op == opAdd && nd.a == r && g.nodes[nd.b].op == opConst:
			shift = -g.nodes[nd.b].k
		case nd.op == opAdd && nd.b == r && g.nodes[nd.a].op == opConst:
			shift = -g.nodes[nd.a].k
		case nd.op == opSub && nd.a == r && g.nodes[nd.b].op == opConst:
			shift = g.nodes[nd.b].k
		default:
			continue
		}
		p, ok := polyIn(g, out, int32(i), map[int32]laurent{})
		if !ok || len(p) == 0 {
			continue
		}
		pk := &polyKernel{shifted: true, shift: shift}
		for m := range p {
			if m < 0 || m > 8 {
				return nil
			}
		}
		pk.setHorner(p)
		return pk
	}
	return nil
}

package dsl

import (
	"math"
)

// instr is one tape instruction: dst = op(a, b, c; k), all operands slot numbers.
type instr struct {
	op        op
	dst, a, b int32
	c         int32
	k         float64
}

// tape is a compiled straight-line program over slots. Slots 0..nin-1 hold the inputs;
// constant slots are filled once per workspace; the rest are temporaries reused after their
// last use. Each slot holds one value per lane, so every instruction runs as a tight loop
// over lanes (configurations, particles or pairs).
type tape struct {
	code   []instr
	nslots int
	nin    int
	consts []slotConst
	outs   []int32 // slot of each output; -1 for an output that is identically 0
}

type slotConst struct {
	slot int32
	v    float64
}

// compileTape schedules the nodes needed by outs into a tape.
func compileTape(g *graph, outs []int32) *tape {
	n := len(g.nodes)
	live := make([]bool, n)
	var mark func(int32)
	stack := []int32{}
	mark = func(r int32) {
		stack = append(stack[:0], r)
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if live[i] {
				continue
			}
			live[i] = true
			nd := g.nodes[i]
			ar := arity(nd.op)
			if ar > 0 {
				stack = append(stack, nd.a)
			}
			if ar > 1 {
				stack = append(stack, nd.b)
			}
			if ar > 2 {
				stack = append(stack, nd.c)
			}
		}
	}
	for _, o := range outs {
		mark(o)
	}
	t := &tape{nin: len(g.inputs)}
	slot := make([]int32, n)
	for i := range slot {
		slot[i] = -1
	}
	for k, id := range g.inputs {
		slot[id] = int32(k)
	}
	t.nslots = t.nin
	// Decide the instruction form of each live node; constant operands are folded into
	// the k field where a form exists, other constants get a constant slot.
	type form struct {
		op      op
		a, b, c int32 // node ids (-1: none)
		k       float64
	}
	forms := make([]form, n)
	needSlot := make([]bool, n)
	for i := 0; i < n; i++ {
		if !live[i] {
			continue
		}
		nd := g.nodes[i]
		if nd.op == opConst || nd.op == opInput {
			continue
		}
		f := form{op: nd.op, a: nd.a, b: nd.b, c: nd.c, k: nd.k}
		ar := arity(nd.op)
		if ar < 3 {
			f.c = -1
		}
		if ar < 2 {
			f.b = -1
		}
		ka, ca := g.isConst(nd.a)
		var kb float64
		var cb bool
		if ar >= 2 {
			kb, cb = g.isConst(nd.b)
		}
		switch {
		case nd.op == opAdd && cb:
			f = form{op: opAddC, a: nd.a, b: -1, c: -1, k: kb}
		case nd.op == opAdd && ca:
			f = form{op: opAddC, a: nd.b, b: -1, c: -1, k: ka}
		case nd.op == opMul && ca:
			f = form{op: opMulC, a: nd.b, b: -1, c: -1, k: ka}
		case nd.op == opMul && cb:
			f = form{op: opMulC, a: nd.a, b: -1, c: -1, k: kb}
		case nd.op == opSub && cb:
			f = form{op: opAddC, a: nd.a, b: -1, c: -1, k: -kb}
		case nd.op == opSub && ca:
			f = form{op: opRSubC, a: nd.b, b: -1, c: -1, k: ka}
		case nd.op == opDiv && ca:
			f = form{op: opRDivC, a: nd.b, b: -1, c: -1, k: ka}
		}
		forms[i] = f
		for _, arg := range []int32{f.a, f.b, f.c} {
			if arg >= 0 {
				needSlot[arg] = true
			}
		}
	}
	for _, o := range outs {
		needSlot[o] = true
	}
	for i := 0; i < n; i++ {
		if live[i] && needSlot[i] && g.nodes[i].op == opConst {
			slot[i] = int32(t.nslots)
			t.consts = append(t.consts, slotConst{int32(t.nslots), g.nodes[i].k})
			t.nslots++
		}
	}
	// last use of each node (outputs live to the end)
	last := make([]int, n)
	for i := 0; i < n; i++ {
		if !live[i] || forms[i].op == opConst && g.nodes[i].op == opConst {
			continue
		}
		f := forms[i]
		for _, arg := range []int32{f.a, f.b, f.c} {
			if arg >= 0 {
				last[arg] = i
			}
		}
	}
	for _, o := range outs {
		last[o] = n
	}
	var free []int32
	for i := 0; i < n; i++ {
		nd := g.nodes[i]
		if !live[i] || nd.op == opConst || nd.op == opInput {
			continue
		}
		f := forms[i]
		in := instr{op: f.op, a: -1, b: -1, c: -1, k: f.k}
		if f.a >= 0 {
			in.a = slot[f.a]
		}
		if f.b >= 0 {
			in.b = slot[f.b]
		}
		if f.c >= 0 {
			in.c = slot[f.c]
		}
		// release operands whose last use is this node, then allocate dst (may reuse one)
		for _, arg := range []int32{f.a, f.b, f.c} {
			if arg >= 0 && last[arg] == i && g.nodes[arg].op != opConst && g.nodes[arg].op != opInput {
				dup := false
				for _, s := range free {
					if s == slot[arg] {
						dup = true
					}
				}
				if !dup {
					free = append(free, slot[arg])
				}
			}
		}
		if len(free) > 0 {
			slot[i] = free[len(free)-1]
			free = free[:len(free)-1]
		} else {
			slot[i] = int32(t.nslots)
			t.nslots++
		}
		in.dst = slot[i]
		t.code = append(t.code, in)
	}
	t.outs = make([]int32, len(outs))
	for k, o := range outs {
		if g.isK(o, 0) {
			t.outs[k] = -1
		} else {
			t.outs[k] = slot[o]
		}
	}
	return t
}

// fillConsts writes the constant slots of a workspace whose slots hold stride lanes.
func (t *tape) fillConsts(buf []float64, stride int) {
	for _, c := range t.consts {
		s := buf[int(c.slot)*stride : int(c.slot+1)*stride]
		for i := range s {
			s[i] = c.v
		}
	}
}

// run executes the tape on the first L lanes of each slot.
func (t *tape) run(buf []float64, stride, L int) {
	sl := func(s int32) []float64 {
		o := int(s) * stride
		return buf[o : o+L : o+L]
	}
	for _, in := range t.code {
		d := sl(in.dst)
		a := sl(in.a)
		switch in.op {
		case opAdd:
			b := sl(in.b)
			for i := range d {
				d[i] = a[i] + b[i]
			}
		case opSub:
			b := sl(in.b)
			for i := range d {
				d[i] = a[i] - b[i]
			}
		case opMul:
			b := sl(in.b)
			for i := range d {
				d[i] = a[i] * b[i]
			}
		case opDiv:
			b := sl(in.b)
			for i := range d {
				d[i] = a[i] / b[i]
			}
		case opAddC:
			k := in.k
			for i := range d {
				d[i] = a[i] + k
			}
		case opMulC:
			k := in.k
			for i := range d {
				d[i] = a[i] * k
			}
		case opRSubC:
			k := in.k
			for i := range d {
				d[i] = k - a[i]
			}
		case opRDivC:
			k := in.k
			for i := range d {
				d[i] = k / a[i]
			}
		case opNeg:
			for i := range d {
				d[i] = -a[i]
			}
		case opSqrt:
			for i := range d {
				d[i] = math.Sqrt(a[i])
			}
		case opExp:
			for i := range d {
				d[i] = math.Exp(a[i])
			}
		case opSelect:
			b, c := sl(in.b), sl(in.c)
			for i := range d {
				if a[i] != 0 {
					d[i] = b[i]
				} else {
					d[i] = c[i]
				}
			}
		default:
			var b, c []float64
			if in.b >= 0 {
				b = sl(in.b)
			}
			if in.c >= 0 {
				c = sl(in.c)
			}
			for i := range d {
				var bv, cv float64
				if b != nil {
					bv = b[i]
				}
				if c != nil {
					cv = c[i]
				}
				d[i] = evalOp(in.op, a[i], bv, cv, in.k)
			}
		}
	}
}

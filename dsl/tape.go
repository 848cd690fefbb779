package dsl

import (
	"math"
	"slices"
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

// compileTape schedules the nodes needed by outs into a tape: it marks the nodes the outputs
// need, chooses the instruction form of each (folding constant operands into k), gives the
// constants that remain operands a slot, finds the last use of every node, and emits the
// instructions, reusing a temporary's slot after its last use.
func compileTape(g *graph, outs []int32) *tape {
	s := &scheduler{g: g, outs: outs}
	s.markLive()
	s.chooseForms()
	t := &tape{nin: len(g.inputs), nslots: len(g.inputs)}
	s.slotInputs()
	s.slotConsts(t)
	s.findLastUses()
	s.emit(t)
	t.outs = make([]int32, len(outs))
	for k, o := range outs {
		if g.isK(o, 0) {
			t.outs[k] = -1
		} else {
			t.outs[k] = s.slot[o]
		}
	}
	return t
}

// form is the instruction chosen for a graph node; a, b, c are node ids (-1: none).
type form struct {
	op      op
	a, b, c int32
	k       float64
}

// args are the operand node ids of the form (-1 where there is none).
func (f form) args() [3]int32 { return [3]int32{f.a, f.b, f.c} }

// scheduler holds the state of compileTape, indexed by node id.
type scheduler struct {
	g        *graph
	outs     []int32
	live     []bool  // needed by an output
	forms    []form  // instruction form of each computed live node
	needSlot []bool  // read by an instruction or an output
	slot     []int32 // slot holding the node's value (-1: none yet)
	last     []int   // last node that reads the node (len(nodes) for outputs)
}

// computed reports whether node i becomes an instruction (it is live, neither constant nor
// input).
func (s *scheduler) computed(i int) bool {
	o := s.g.nodes[i].op
	return s.live[i] && o != opConst && o != opInput
}

// markLive marks the nodes the outputs depend on.
func (s *scheduler) markLive() {
	g := s.g
	s.live = make([]bool, len(g.nodes))
	var stack []int32
	for _, r := range s.outs {
		stack = append(stack[:0], r)
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if s.live[i] {
				continue
			}
			s.live[i] = true
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
}

// chooseForms decides the instruction form of each computed node: a constant operand is
// folded into the k field where a form exists (x + k, x·k, k − x, k / x); other constants
// will get a constant slot.
func (s *scheduler) chooseForms() {
	g := s.g
	n := len(g.nodes)
	s.forms = make([]form, n)
	s.needSlot = make([]bool, n)
	for i := 0; i < n; i++ {
		if !s.computed(i) {
			continue
		}
		f := foldConstOperand(g, g.nodes[i])
		s.forms[i] = f
		for _, arg := range f.args() {
			if arg >= 0 {
				s.needSlot[arg] = true
			}
		}
	}
	for _, o := range s.outs {
		s.needSlot[o] = true
	}
}

// foldConstOperand is the instruction form of node nd.
func foldConstOperand(g *graph, nd node) form {
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
		return form{op: opAddC, a: nd.a, b: -1, c: -1, k: kb}
	case nd.op == opAdd && ca:
		return form{op: opAddC, a: nd.b, b: -1, c: -1, k: ka}
	case nd.op == opMul && ca:
		return form{op: opMulC, a: nd.b, b: -1, c: -1, k: ka}
	case nd.op == opMul && cb:
		return form{op: opMulC, a: nd.a, b: -1, c: -1, k: kb}
	case nd.op == opSub && cb:
		return form{op: opAddC, a: nd.a, b: -1, c: -1, k: -kb}
	case nd.op == opSub && ca:
		return form{op: opRSubC, a: nd.b, b: -1, c: -1, k: ka}
	case nd.op == opDiv && ca:
		return form{op: opRDivC, a: nd.b, b: -1, c: -1, k: ka}
	}
	return f
}

// slotInputs gives input i slot i.
func (s *scheduler) slotInputs() {
	s.slot = make([]int32, len(s.g.nodes))
	for i := range s.slot {
		s.slot[i] = -1
	}
	for k, id := range s.g.inputs {
		s.slot[id] = int32(k)
	}
}

// slotConsts gives every constant that is still read a slot of its own, filled once per
// workspace.
func (s *scheduler) slotConsts(t *tape) {
	for i, nd := range s.g.nodes {
		if s.live[i] && s.needSlot[i] && nd.op == opConst {
			s.slot[i] = int32(t.nslots)
			t.consts = append(t.consts, slotConst{int32(t.nslots), nd.k})
			t.nslots++
		}
	}
}

// findLastUses records the last reader of every node; outputs live to the end.
func (s *scheduler) findLastUses() {
	n := len(s.g.nodes)
	s.last = make([]int, n)
	for i := 0; i < n; i++ {
		if !s.computed(i) {
			continue
		}
		for _, arg := range s.forms[i].args() {
			if arg >= 0 {
				s.last[arg] = i
			}
		}
	}
	for _, o := range s.outs {
		s.last[o] = n
	}
}

// emit appends the instructions in node order. Before a node gets its destination slot, the
// slots of temporaries it reads for the last time are freed, so the destination may reuse one.
func (s *scheduler) emit(t *tape) {
	g := s.g
	var free []int32
	for i := range g.nodes {
		if !s.computed(i) {
			continue
		}
		f := s.forms[i]
		in := instr{op: f.op, a: -1, b: -1, c: -1, k: f.k}
		if f.a >= 0 {
			in.a = s.slot[f.a]
		}
		if f.b >= 0 {
			in.b = s.slot[f.b]
		}
		if f.c >= 0 {
			in.c = s.slot[f.c]
		}
		for _, arg := range f.args() {
			if arg >= 0 && s.last[arg] == i && s.computed(int(arg)) && !slices.Contains(free, s.slot[arg]) {
				free = append(free, s.slot[arg])
			}
		}
		if len(free) > 0 {
			s.slot[i] = free[len(free)-1]
			free = free[:len(free)-1]
		} else {
			s.slot[i] = int32(t.nslots)
			t.nslots++
		}
		in.dst = s.slot[i]
		t.code = append(t.code, in)
	}
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
			if f := funcOf(in.op); f != nil && f.cpu1 != nil {
				fn := f.cpu1
				for i := range d {
					d[i] = fn(a[i])
				}
				continue
			}
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

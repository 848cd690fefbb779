package tensor

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"
)

// Act is an activation fused into Linear and EdgeCombine.
type Act int

const (
	// ActNone is the identity.
	ActNone Act = iota
	// ActSiLU is x·sigmoid(x).
	ActSiLU
	// ActTanh is tanh(x).
	ActTanh
	// ActReLU is max(x, 0).
	ActReLU
	// ActSigmoid is 1/(1+exp(−x)).
	ActSigmoid
)

// ParseAct maps "silu", "tanh", "relu", "sigmoid", "none" (or "") to an Act.
func ParseAct(s string) (Act, error) {
	switch s {
	case "silu", "":
		return ActSiLU, nil
	case "tanh":
		return ActTanh, nil
	case "relu":
		return ActReLU, nil
	case "sigmoid":
		return ActSigmoid, nil
	case "none", "linear":
		return ActNone, nil
	}
	return ActNone, fmt.Errorf("tensor: unknown activation %q (want silu, tanh, relu, sigmoid or none)", s)
}

// String names the activation.
func (a Act) String() string {
	switch a {
	case ActSiLU:
		return "silu"
	case ActTanh:
		return "tanh"
	case ActReLU:
		return "relu"
	case ActSigmoid:
		return "sigmoid"
	}
	return "none"
}

type opKind uint8

const (
	opLinear opKind = iota + 1
	opAct
	opAdd
	opSub
	opMul
	opConcat
	opRepeat
	opPairDiff
	opSqNorm
	opNormDiff
	opEdgeCombine
	opGate
	opDotTanh
	opCoordUpdate
	opSumPairs
	opRemoveMean
	opMSE
	opSum
)

type node struct {
	kind opKind
	act  Act
	out  *Tensor
	in   [6]*Tensor
	aux  *Tensor // saved forward values (pre-activations, gates)
	f    float64
}

// Tape records operations for a backward pass and owns the intermediate tensors. It is not
// safe for concurrent use; use one Tape per goroutine.
type Tape struct {
	dtype  DType
	nodes  []node
	arena  []*Tensor
	next   int
	err    error
	j32    *jobSet[float32]
	j64    *jobSet[float64]
	wg     sync.WaitGroup
	free32 [][]float32
	free64 [][]float64
}

// NewTape returns an empty tape whose intermediate tensors have the given element type.
func NewTape(dtype DType) *Tape { return &Tape{dtype: dtype} }

// DType is the element type of the tape's tensors.
func (tp *Tape) DType() DType { return tp.dtype }

// Reset forgets the recorded operations; the intermediate tensors are reused by the next
// recording (tensors returned before Reset must not be used after it).
func (tp *Tape) Reset() {
	clear(tp.nodes)
	tp.nodes = tp.nodes[:0]
	tp.next = 0
	tp.err = nil
}

// Err is the first error an operation met since the last Reset (shape or type mismatch);
// operations after an error return placeholder tensors.
func (tp *Tape) Err() error { return tp.err }

func (tp *Tape) fail(format string, args ...any) {
	if tp.err == nil {
		tp.err = fmt.Errorf("tensor: "+format, args...)
	}
}

// alloc returns an arena tensor with the given shape (contents undefined, gradient unset).
func (tp *Tape) alloc(rank int, s0, s1, s2, s3 int) *Tensor {
	shape := [MaxRank]int{s0, s1, s2, s3}
	n := 1
	for i := 0; i < rank; i++ {
		n *= shape[i]
	}
	var t *Tensor
	if tp.next < len(tp.arena) {
		t = tp.arena[tp.next]
	} else {
		t = &Tensor{}
		tp.arena = append(tp.arena, t)
	}
	tp.next++
	t.dtype = tp.dtype
	t.setShape(shape, rank)
	t.grad = false
	t.interm = false
	t.g32, t.g64 = nil, nil
	if tp.dtype == Float64 {
		if cap(t.f64) < n {
			t.f64 = make([]float64, n)
		}
		t.f64 = t.f64[:n]
	} else {
		if cap(t.f32) < n {
			t.f32 = make([]float32, n)
		}
		t.f32 = t.f32[:n]
	}
	return t
}

func (tp *Tape) allocLike(x *Tensor) *Tensor {
	s := x.shape
	return tp.alloc(x.rank, s[0], s[1], s[2], s[3])
}

// record appends a node; the output requires a gradient when any input does.
func (tp *Tape) record(n node) {
	need := false
	for _, in := range n.in {
		if in != nil && in.grad {
			need = true
		}
	}
	if !need {
		return
	}
	n.out.grad = true
	n.out.interm = true
	tp.nodes = append(tp.nodes, n)
}

func (tp *Tape) check(ts ...*Tensor) bool {
	if tp.err != nil {
		return false
	}
	for _, t := range ts {
		if t == nil {
			continue
		}
		if t.dtype != tp.dtype {
			tp.fail("%s tensor on a %s tape", t.dtype, tp.dtype)
			return false
		}
	}
	return true
}

// placeholder is returned by an operation after an error so that callers can go on and check
// Err once.
func (tp *Tape) placeholder() *Tensor { return tp.alloc(1, 1, 0, 0, 0) }

// Backward runs the recorded operations backwards from loss, a one-element tensor, and
// accumulates d loss/d leaf into the gradient of every leaf that requires one. Gradients of
// leaves are accumulated (zero them between steps); intermediate gradients are reset here and
// are scratch space afterwards (some operations overwrite them in place).
func (tp *Tape) Backward(loss *Tensor) error {
	if tp.err != nil {
		return tp.err
	}
	if loss == nil || loss.Len() != 1 {
		return errors.New("tensor: backward needs a one-element loss")
	}
	if !loss.grad {
		return errors.New("tensor: loss does not depend on any tensor that requires a gradient")
	}
	// Intermediate gradients live only between the first consumer's backward step and the
	// producer's: their buffers come from a free list and go back to it, so memory holds the
	// live gradients only.
	tp.acquireGrad(loss)
	if loss.g64 != nil {
		loss.g64[0] = 1
	} else {
		loss.g32[0] = 1
	}
	for i := len(tp.nodes) - 1; i >= 0; i-- {
		n := &tp.nodes[i]
		if n.out.g32 == nil && n.out.g64 == nil {
			continue // no gradient reaches this output
		}
		for _, in := range n.in {
			if in != nil && in.grad && in.interm && in.g32 == nil && in.g64 == nil {
				tp.acquireGrad(in)
			}
		}
		if tp.dtype == Float64 {
			backward[float64](tp, n)
		} else {
			backward[float32](tp, n)
		}
		tp.releaseGrad(n.out)
	}
	return tp.err
}

// acquireGrad gives an intermediate tensor a zeroed gradient buffer from the free list.
func (tp *Tape) acquireGrad(t *Tensor) {
	if tp.dtype == Float64 {
		t.g64 = takeBuf(&tp.free64, t.Len())
	} else {
		t.g32 = takeBuf(&tp.free32, t.Len())
	}
}

// releaseGrad returns an intermediate tensor's gradient buffer to the free list.
func (tp *Tape) releaseGrad(t *Tensor) {
	if !t.interm {
		return
	}
	if t.g32 != nil {
		tp.free32 = append(tp.free32, t.g32)
		t.g32 = nil
	}
	if t.g64 != nil {
		tp.free64 = append(tp.free64, t.g64)
		t.g64 = nil
	}
}

// takeBuf removes the smallest buffer of capacity ≥ n from free (or makes one) and zeroes it.
func takeBuf[T float](free *[][]T, n int) []T {
	best := -1
	for i, b := range *free {
		if cap(b) >= n && (best < 0 || cap(b) < cap((*free)[best])) {
			best = i
		}
	}
	if best < 0 {
		return make([]T, n)
	}
	b := (*free)[best][:n]
	last := len(*free) - 1
	(*free)[best] = (*free)[last]
	(*free)[last] = nil
	*free = (*free)[:last]
	clear(b)
	return b
}

// data/grad accessors in the element type T.
func data[T float](t *Tensor) []T {
	if t == nil {
		return nil
	}
	var z T
	if unsafe.Sizeof(z) == 4 {
		return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(t.f32))), len(t.f32))
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(t.f64))), len(t.f64))
}

func grad[T float](t *Tensor) []T {
	if t == nil || !t.grad {
		return nil
	}
	var z T
	if unsafe.Sizeof(z) == 4 {
		return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(t.g32))), len(t.g32))
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(t.g64))), len(t.g64))
}

func backward[T float](tp *Tape, n *node) {
	switch n.kind {
	case opLinear:
		linearBackward[T](tp, n)
	case opAct:
		actBackward[T](tp, n)
	case opAdd, opSub, opMul:
		binaryBackward[T](n)
	case opConcat:
		concatBackward[T](n)
	case opRepeat:
		repeatBackward[T](n)
	case opPairDiff:
		pairDiffBackward[T](n)
	case opSqNorm:
		sqNormBackward[T](n)
	case opNormDiff:
		normDiffBackward[T](n)
	case opEdgeCombine:
		edgeCombineBackward[T](tp, n)
	case opGate:
		gateBackward[T](tp, n)
	case opDotTanh:
		dotTanhBackward[T](tp, n)
	case opCoordUpdate:
		coordUpdateBackward[T](n)
	case opSumPairs:
		sumPairsBackward[T](tp, n)
	case opRemoveMean:
		removeMeanBackward[T](n)
	case opMSE:
		mseBackward[T](n)
	case opSum:
		sumBackward[T](n)
	}
}

// Input returns a tensor of the tape's element type for constant inputs (no gradient); it is
// reused after Reset like every intermediate, so fill it after each Reset.
func (tp *Tape) Input(shape ...int) *Tensor {
	var s [MaxRank]int
	if len(shape) < 1 || len(shape) > MaxRank {
		tp.fail("Input: rank %d not in 1..%d", len(shape), MaxRank)
		return tp.placeholder()
	}
	copy(s[:], shape)
	return tp.alloc(len(shape), s[0], s[1], s[2], s[3])
}

// SetF32 copies float32 values into t (converting for a float64 tensor).
func (t *Tensor) SetF32(v []float32) error {
	if len(v) != t.Len() {
		return fmt.Errorf("tensor: %d values for %d elements", len(v), t.Len())
	}
	if t.dtype == Float32 {
		copy(t.f32, v)
		return nil
	}
	for i, x := range v {
		t.f64[i] = float64(x)
	}
	return nil
}

// CopyToF32 copies the values of t into dst (converting from float64).
func (t *Tensor) CopyToF32(dst []float32) error {
	if len(dst) != t.Len() {
		return fmt.Errorf("tensor: %d slots for %d elements", len(dst), t.Len())
	}
	if t.dtype == Float32 {
		copy(dst, t.f32)
		return nil
	}
	for i, x := range t.f64 {
		dst[i] = float32(x)
	}
	return nil
}

package tensor

import (
	"fmt"
	"strings"
)

// DType is the element type of a Tensor.
type DType int

const (
	// Float32 tensors hold []float32 data (training and inference).
	Float32 DType = iota
	// Float64 tensors hold []float64 data (gradient checks, precision tests).
	Float64
)

// String names the element type.
func (d DType) String() string {
	if d == Float64 {
		return "float64"
	}
	return "float32"
}

// MaxRank is the largest rank a Tensor may have.
const MaxRank = 4

// Tensor is a dense row-major array of float32 or float64 numbers with an optional gradient.
type Tensor struct {
	shape [MaxRank]int
	rank  int
	dtype DType
	f32   []float32
	g32   []float32
	f64   []float64
	g64   []float64
	grad  bool
	// interm marks an intermediate recorded on a tape (its gradient buffer is borrowed).
	interm bool
}

func checkShape(shape []int) (int, error) {
	if len(shape) < 1 || len(shape) > MaxRank {
		return 0, fmt.Errorf("tensor: rank %d not in 1..%d", len(shape), MaxRank)
	}
	n := 1
	for _, s := range shape {
		if s < 0 {
			return 0, fmt.Errorf("tensor: negative dimension in shape %v", shape)
		}
		n *= s
	}
	return n, nil
}

// Zeros returns a zero tensor of the given element type and shape.
func Zeros(dtype DType, shape ...int) (*Tensor, error) {
	n, err := checkShape(shape)
	if err != nil {
		return nil, err
	}
	t := &Tensor{dtype: dtype, rank: len(shape)}
	copy(t.shape[:], shape)
	if dtype == Float64 {
		t.f64 = make([]float64, n)
	} else {
		t.f32 = make([]float32, n)
	}
	return t, nil
}

// FromF32 wraps data (not copied) as a float32 tensor of the given shape.
func FromF32(data []float32, shape ...int) (*Tensor, error) {
	n, err := checkShape(shape)
	if err != nil {
		return nil, err
	}
	if n != len(data) {
		return nil, fmt.Errorf("tensor: %d values for shape %v (want %d)", len(data), shape, n)
	}
	t := &Tensor{dtype: Float32, rank: len(shape), f32: data}
	copy(t.shape[:], shape)
	return t, nil
}

// FromF64 wraps data (not copied) as a float64 tensor of the given shape.
func FromF64(data []float64, shape ...int) (*Tensor, error) {
	n, err := checkShape(shape)
	if err != nil {
		return nil, err
	}
	if n != len(data) {
		return nil, fmt.Errorf("tensor: %d values for shape %v (want %d)", len(data), shape, n)
	}
	t := &Tensor{dtype: Float64, rank: len(shape), f64: data}
	copy(t.shape[:], shape)
	return t, nil
}

// DType is the element type.
func (t *Tensor) DType() DType { return t.dtype }

// Rank is the number of dimensions.
func (t *Tensor) Rank() int { return t.rank }

// Dim is the size of dimension i (negative i counts from the end).
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += t.rank
	}
	return t.shape[i]
}

// Shape returns a copy of the shape.
func (t *Tensor) Shape() []int { return append([]int(nil), t.shape[:t.rank]...) }

// Len is the number of elements.
func (t *Tensor) Len() int {
	n := 1
	for i := 0; i < t.rank; i++ {
		n *= t.shape[i]
	}
	return n
}

// rows is the product of all dimensions but the last.
func (t *Tensor) rows() int { return t.Len() / t.shape[t.rank-1] }

// cols is the last dimension.
func (t *Tensor) cols() int { return t.shape[t.rank-1] }

// F32 is the float32 data (nil for a float64 tensor).
func (t *Tensor) F32() []float32 { return t.f32 }

// F64 is the float64 data (nil for a float32 tensor).
func (t *Tensor) F64() []float64 { return t.f64 }

// Grad32 is the float32 gradient (nil unless the tensor requires a gradient).
func (t *Tensor) Grad32() []float32 { return t.g32 }

// Grad64 is the float64 gradient (nil unless the tensor requires a gradient).
func (t *Tensor) Grad64() []float64 { return t.g64 }

// At returns element i of the flat data as float64.
func (t *Tensor) At(i int) float64 {
	if t.dtype == Float64 {
		return t.f64[i]
	}
	return float64(t.f32[i])
}

// Set sets element i of the flat data.
func (t *Tensor) Set(i int, v float64) {
	if t.dtype == Float64 {
		t.f64[i] = v
	} else {
		t.f32[i] = float32(v)
	}
}

// GradAt returns element i of the gradient as float64 (0 without a gradient).
func (t *Tensor) GradAt(i int) float64 {
	switch {
	case t.g64 != nil:
		return t.g64[i]
	case t.g32 != nil:
		return float64(t.g32[i])
	}
	return 0
}

// RequiresGrad reports whether backward passes fill this tensor's gradient.
func (t *Tensor) RequiresGrad() bool { return t.grad }

// SetRequiresGrad marks the tensor as a leaf whose gradient backward passes accumulate
// (parameters); it allocates the gradient buffer.
func (t *Tensor) SetRequiresGrad(on bool) {
	t.grad = on
	if on {
		t.ensureGrad()
	}
}

func (t *Tensor) ensureGrad() {
	n := t.Len()
	if t.dtype == Float64 {
		if cap(t.g64) < n {
			t.g64 = make([]float64, n)
		}
		t.g64 = t.g64[:n]
	} else {
		if cap(t.g32) < n {
			t.g32 = make([]float32, n)
		}
		t.g32 = t.g32[:n]
	}
}

// ZeroGrad sets the gradient to zero.
func (t *Tensor) ZeroGrad() {
	clear(t.g32)
	clear(t.g64)
}

// String describes the tensor briefly.
func (t *Tensor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Tensor(%s, %v)", t.dtype, t.Shape())
	return b.String()
}

// reshapeTo sets shape in place; used by the tape arena.
func (t *Tensor) setShape(shape [MaxRank]int, rank int) {
	t.shape = shape
	t.rank = rank
}

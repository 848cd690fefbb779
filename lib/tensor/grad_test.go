package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

type gradCase struct {
	name   string
	shapes [][]int
	// positive marks inputs that must be positive (squared norms).
	positive []bool
	// constant marks inputs that get no gradient.
	constant []bool
	build    func(tp *Tape, in []*Tensor) *Tensor
}

func randTensor(rng *rand.Rand, shape []int, positive bool) *Tensor {
	t, err := Zeros(Float64, shape...)
	if err != nil {
		panic(err)
	}
	for i := range t.f64 {
		if positive {
			t.f64[i] = 0.1 + 2*rng.Float64()
		} else {
			t.f64[i] = rng.NormFloat64()
		}
	}
	return t
}

// weightedSum builds Σ out ⊙ w for a fixed random w, so every output element matters.
func weightedSum(tp *Tape, out, w *Tensor) *Tensor {
	return tp.Sum(tp.Mul(out, w))
}

func gradCases() []gradCase {
	nilT := func(in []*Tensor, i int) *Tensor {
		if i < len(in) {
			return in[i]
		}
		return nil
	}
	_ = nilT
	cases := []gradCase{
		{name: "Linear/silu", shapes: [][]int{{5, 7}, {7, 4}, {4}}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.Linear(in[0], in[1], in[2], ActSiLU) }},
		{name: "Linear/tanh/rank3", shapes: [][]int{{2, 3, 5}, {5, 6}, {6}}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.Linear(in[0], in[1], in[2], ActTanh) }},
		{name: "Linear/relu", shapes: [][]int{{6, 5}, {5, 3}, {3}}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.Linear(in[0], in[1], in[2], ActReLU) }},
		{name: "Linear/sigmoid/nobias", shapes: [][]int{{6, 5}, {5, 3}}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.Linear(in[0], in[1], nil, ActSigmoid) }},
		{name: "Linear/none/parallel", shapes: [][]int{{96, 32}, {32, 16}, {16}}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.Linear(in[0], in[1], in[2], ActNone) }},
		{name: "Linear/silu/parallel", shapes: [][]int{{96, 32}, {32, 16}, {16}}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.Linear(in[0], in[1], in[2], ActSiLU) }},
		{name: "Activation/silu", shapes: [][]int{{4, 5}}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.Activation(in[0], ActSiLU) }},
		{name: "Activation/tanh", shapes: [][]int{{4, 5}}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.Activation(in[0], ActTanh) }},
		{name: "Activation/sigmoid", shapes: [][]int{{4, 5}}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.Activation(in[0], ActSigmoid) }},
		{name: "Add", shapes: [][]int{{3, 4}, {3, 4}}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.Add(in[0], in[1]) }},
		{name: "Sub", shapes: [][]int{{3, 4}, {3, 4}}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.Sub(in[0], in[1]) }},
		{name: "Mul", shapes: [][]int{{3, 4}, {3, 4}}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.Mul(in[0], in[1]) }},
		{name: "Concat", shapes: [][]int{{2, 3, 4}, {2, 3, 2}}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.Concat(in[0], in[1]) }},
		{name: "Repeat", shapes: [][]int{{3, 4}}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.Repeat(in[0], 5) }},
		{name: "RemoveMean", shapes: [][]int{{2, 4, 3}}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.RemoveMean(in[0]) }},
		{name: "MSE", shapes: [][]int{{3, 4}, {3, 4}}, constant: []bool{false, true}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.MSE(in[0], in[1]) }},
		{name: "PairDiff", shapes: [][]int{{2, 4, 3}}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.PairDiff(in[0]) }},
		{name: "SqNorm", shapes: [][]int{{2, 4, 3, 3}}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.SqNorm(in[0]) }},
		{name: "NormDiff", shapes: [][]int{{2, 3, 2, 3}, {2, 3, 2}}, positive: []bool{false, true}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.NormDiff(in[0], in[1]) }},
		{name: "EdgeCombine/silu", shapes: [][]int{{2, 4, 5}, {2, 4, 5}, {2, 4, 3}, {2, 4, 3}, {5}, {5}},
			build: func(tp *Tape, in []*Tensor) *Tensor {
				return tp.EdgeCombine(in[0], in[1], in[2], in[3], in[4], in[5], ActSiLU)
			}},
		{name: "EdgeCombine/none/noattr", shapes: [][]int{{2, 3, 4}, {2, 3, 4}, {2, 3, 2}, {4}},
			build: func(tp *Tape, in []*Tensor) *Tensor {
				return tp.EdgeCombine(in[0], in[1], in[2], nil, in[3], nil, ActNone)
			}},
		{name: "EdgeCombine/silu/parallel", shapes: [][]int{{8, 6, 32}, {8, 6, 32}, {8, 6, 5}, {8, 6, 5}, {32}, {32}},
			build: func(tp *Tape, in []*Tensor) *Tensor {
				return tp.EdgeCombine(in[0], in[1], in[2], in[3], in[4], in[5], ActSiLU)
			}},
		{name: "Gate", shapes: [][]int{{2, 3, 2, 5}, {5}, {1}}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.Gate(in[0], in[1], in[2]) }},
		{name: "Gate/parallel", shapes: [][]int{{600, 16}, {16}, {1}}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.Gate(in[0], in[1], in[2]) }},
		{name: "DotTanh", shapes: [][]int{{2, 3, 2, 5}, {5}}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.DotTanh(in[0], in[1], 3) }},
		{name: "DotTanh/parallel", shapes: [][]int{{800, 16}, {16}}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.DotTanh(in[0], in[1], 0.7) }},
		{name: "CoordUpdate", shapes: [][]int{{2, 3, 2}, {2, 3, 2, 2}, {2, 3, 2}}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.CoordUpdate(in[0], in[1], in[2]) }},
		{name: "SumPairs", shapes: [][]int{{2, 4, 3, 5}}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.SumPairs(in[0]) }},
		{name: "SumPairs/parallel", shapes: [][]int{{16, 9, 8, 32}}, build: func(tp *Tape, in []*Tensor) *Tensor { return tp.SumPairs(in[0]) }},
	}
	return cases
}

// TestGradientsFiniteDifferences checks every operation's backward pass against central finite
// differences in float64, with the parallel paths forced on.
func TestGradientsFiniteDifferences(t *testing.T) {
	SetWorkers(3)
	defer SetWorkers(0)
	for ci, c := range gradCases() {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(ci)+1, 7))
			in := make([]*Tensor, len(c.shapes))
			for i, s := range c.shapes {
				pos := i < len(c.positive) && c.positive[i]
				in[i] = randTensor(rng, s, pos)
				if !(i < len(c.constant) && c.constant[i]) {
					in[i].SetRequiresGrad(true)
				}
			}
			tp := NewTape(Float64)
			out := c.build(tp, in)
			if tp.Err() != nil {
				t.Fatal(tp.Err())
			}
			w := randTensor(rng, out.Shape(), false)
			loss := weightedSum(tp, out, w)
			if err := tp.Backward(loss); err != nil {
				t.Fatal(err)
			}
			eval := func() float64 {
				tp2 := NewTape(Float64)
				o := c.build(tp2, in)
				var s float64
				for i := range o.f64 {
					s += o.f64[i] * w.f64[i]
				}
				return s
			}
			const h = 1e-6
			for i, x := range in {
				if !x.grad {
					continue
				}
				n := x.Len()
				// Check every element of small inputs, a random subset of big ones.
				idx := rng.Perm(n)
				if len(idx) > 60 {
					idx = idx[:60]
				}
				for _, k := range idx {
					old := x.f64[k]
					x.f64[k] = old + h
					fp := eval()
					x.f64[k] = old - h
					fm := eval()
					x.f64[k] = old
					fd := (fp - fm) / (2 * h)
					an := x.g64[k]
					if math.Abs(fd-an) > 1e-6*math.Max(1, math.Abs(fd)) {
						t.Fatalf("input %d element %d: analytic %.10g, finite difference %.10g", i, k, an, fd)
					}
				}
			}
		})
	}
}

func TestExp32Accuracy(t *testing.T) {
	worst := 0.0
	for x := -80.0; x < 80; x += 0.0137 {
		got := float64(exp32(float32(x)))
		want := math.Exp(float64(float32(x)))
		worst = math.Max(worst, math.Abs(got-want)/want)
	}
	if worst > 1e-6 {
		t.Fatalf("exp32 relative error %.3g > 1e-6", worst)
	}
	for _, x := range []float32{-3, -0.5, 0.01, 0.7, 4} {
		if d := math.Abs(float64(tanhT(x)) - math.Tanh(float64(x))); d > 1e-6 {
			t.Fatalf("tanh32(%g) off by %g", x, d)
		}
	}
}

func TestShapeErrors(t *testing.T) {
	a, _ := Zeros(Float64, 3, 4)
	w, _ := Zeros(Float64, 5, 2)
	tp := NewTape(Float64)
	tp.Linear(a, w, nil, ActNone)
	if tp.Err() == nil {
		t.Fatal("Linear with mismatched shapes gave no error")
	}
	tp.Reset()
	f, _ := Zeros(Float32, 3, 4)
	tp.Add(a, f)
	if tp.Err() == nil {
		t.Fatal("mixing float32 into a float64 tape gave no error")
	}
	if _, err := FromF32(make([]float32, 5), 2, 3); err == nil {
		t.Fatal("FromF32 with the wrong length gave no error")
	}
	if _, err := ParseAct("gelu"); err == nil {
		t.Fatal("unknown activation accepted")
	}
}

// TestFloat32MatchesFloat64 runs one layer in both precisions.
func TestFloat32MatchesFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x64, w64, b64 := randTensor(rng, []int{40, 30}, false), randTensor(rng, []int{30, 20}, false), randTensor(rng, []int{20}, false)
	to32 := func(t64 *Tensor) *Tensor {
		d := make([]float32, t64.Len())
		for i, v := range t64.f64 {
			d[i] = float32(v)
		}
		t32, _ := FromF32(d, t64.Shape()...)
		return t32
	}
	y64 := NewTape(Float64).Linear(x64, w64, b64, ActSiLU)
	y32 := NewTape(Float32).Linear(to32(x64), to32(w64), to32(b64), ActSiLU)
	for i := range y64.f64 {
		if d := math.Abs(y64.f64[i] - float64(y32.f32[i])); d > 1e-4*math.Max(1, math.Abs(y64.f64[i])) {
			t.Fatalf("element %d: float64 %g, float32 %g", i, y64.f64[i], y32.f32[i])
		}
	}
}

// TestBackendGemm compares the backend's products (all transposes, the alpha/beta cases the
// operations use and a general one, sizes with partial tiles and several k panels) with a
// plain triple loop.
func TestBackendGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	be := CurrentBackend()
	for _, sz := range [][3]int{{150, 130, 7}, {151, 133, 300}, {6, 16, 1}, {5, 40, 9}, {64, 128, 128}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, ab := range [][2]float64{{2, 0.5}, {1, 0}, {1, 1}} {
			alpha, beta := ab[0], ab[1]
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					a, b := randVec64(rng, m*k), randVec64(rng, k*n)
					lda, ldb := k, n
					if ta {
						lda = m
					}
					if tb {
						ldb = k
					}
					at := func(i, p int) float64 {
						if ta {
							return a[p*lda+i]
						}
						return a[i*lda+p]
					}
					bt := func(p, j int) float64 {
						if tb {
							return b[j*ldb+p]
						}
						return b[p*ldb+j]
					}
					c := randVec64(rng, m*n)
					c32, a32, b32 := to32s(c), to32s(a), to32s(b)
					want := make([]float64, len(c))
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							s := beta * c[i*n+j]
							for p := 0; p < k; p++ {
								s += alpha * at(i, p) * bt(p, j)
							}
							want[i*n+j] = s
						}
					}
					be.Dgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, n)
					be.Sgemm(ta, tb, m, n, k, float32(alpha), a32, lda, b32, ldb, float32(beta), c32, n)
					for i := range want {
						tol := math.Max(1, math.Abs(want[i]))
						if math.Abs(c[i]-want[i]) > 1e-12*tol*float64(k) || math.Abs(float64(c32[i])-want[i]) > 1e-5*tol*math.Sqrt(float64(k)) {
							t.Fatalf("%v alpha=%g beta=%g transA=%v transB=%v element %d: got %g (float32 %g), want %g",
								sz, alpha, beta, ta, tb, i, c[i], c32[i], want[i])
						}
					}
				}
			}
		}
	}
}

func to32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func randVec64(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

package tensor

import (
	"math/rand/v2"
	"testing"
)

func randF32(rng *rand.Rand, shape ...int) *Tensor {
	t, _ := Zeros(Float32, shape...)
	for i := range t.f32 {
		t.f32[i] = float32(rng.NormFloat64())
	}
	return t
}

// BenchmarkLinearSiLU is forward and backward of a 8192×128 → 128 SiLU layer in float32
// (the shape of an EGNN edge layer); steady state should not allocate buffers.
func BenchmarkLinearSiLU(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x, w, bias := randF32(rng, 8192, 128), randF32(rng, 128, 128), randF32(rng, 128)
	w.SetRequiresGrad(true)
	bias.SetRequiresGrad(true)
	tp := NewTape(Float32)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		tp.Reset()
		loss := tp.Sum(tp.Linear(x, w, bias, ActSiLU))
		if err := tp.Backward(loss); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEdgeLayer is the split first edge layer plus gate on an LJ-13-sized batch of 32.
func BenchmarkEdgeLayer(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	B, n, H := 32, 13, 128
	a, bm := randF32(rng, B, n, H), randF32(rng, B, n, H)
	r, e := randF32(rng, B, n, n-1), randF32(rng, B, n, n-1)
	wr, we, wg, bg := randF32(rng, H), randF32(rng, H), randF32(rng, H), randF32(rng, 1)
	for _, p := range []*Tensor{a, bm, wr, we, wg, bg} {
		p.SetRequiresGrad(true)
	}
	tp := NewTape(Float32)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		tp.Reset()
		m := tp.Gate(tp.EdgeCombine(a, bm, r, e, wr, we, ActSiLU), wg, bg)
		if err := tp.Backward(tp.Sum(tp.SumPairs(m))); err != nil {
			b.Fatal(err)
		}
	}
}

//go:build amd64 && !purego

package tensor

import (
	"math"
	"testing"
)

// TestSgemmSubnormals: the AVX2 kernel flushes subnormal operands to zero (DAZ/FTZ), and the
// caller's floating-point mode is restored afterwards, so Go arithmetic still produces
// subnormals.
func TestSgemmSubnormals(t *testing.T) {
	if !haveFMA {
		t.Skip("no AVX2/FMA on this CPU: the portable product keeps subnormals")
	}
	const m, n, k = 12, 32, 8
	sub := math.Float32frombits(0x00000100) // a subnormal
	a := make([]float32, m*k)
	b := make([]float32, k*n)
	for i := range a {
		a[i] = sub
	}
	for i := range b {
		b[i] = 1
	}
	c := make([]float32, m*n)
	sgemmFast(false, false, m, n, k, a, k, b, n, 0, c, n)
	for i, v := range c {
		if v != 0 {
			t.Fatalf("c[%d] = %g: subnormal operands were not flushed", i, v)
		}
	}
	// Normal operands are unaffected.
	for i := range a {
		a[i] = 0.5
	}
	sgemmFast(false, false, m, n, k, a, k, b, n, 0, c, n)
	if c[0] != 4 || c[m*n-1] != 4 {
		t.Fatalf("product %g, %g, want 4", c[0], c[m*n-1])
	}
	x := []float32{math.Float32frombits(0x00800000)} // the smallest normal
	if y := x[0] / 4; y == 0 {
		t.Fatal("flush-to-zero leaked out of the kernel")
	}
}

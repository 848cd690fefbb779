package tensor

import (
	"math"
	"testing"
)

// TestSiLUFloat32 checks the float32 SiLU kernel (vector lanes and scalar tail) against
// float64 math, including the saturated ends and in-place use.
func TestSiLUFloat32(t *testing.T) {
	var z []float32
	for v := float32(-95); v < 95; v += 0.0173 {
		z = append(z, v)
	}
	y, s := make([]float32, len(z)), make([]float32, len(z))
	siluF32(z, y, s)
	for i, v := range z {
		sg := 1 / (1 + math.Exp(-float64(v)))
		want := float64(v) * sg
		if math.Abs(float64(y[i])-want) > 2e-6*math.Max(1, math.Abs(want)) || math.Abs(float64(s[i])-sg) > 1e-6 {
			t.Fatalf("silu(%g) = %g (sigmoid %g), want %g (%g)", v, y[i], s[i], want, sg)
		}
	}
	inPlace := append([]float32(nil), z...)
	siluF32(inPlace, inPlace, nil)
	for i := range y {
		if inPlace[i] != y[i] {
			t.Fatalf("in-place silu differs at %d: %g vs %g", i, inPlace[i], y[i])
		}
	}
}

// TestSigmoidStaysNormal: the float32 sigmoid and SiLU of very negative inputs are zero or
// normal floats, never subnormal (subnormals slow x86 arithmetic by up to 100×).
func TestSigmoidStaysNormal(t *testing.T) {
	const minNormal = 1.1754944e-38
	z := []float32{-80, -88, -100, -1e4, -3.4e38, -87.5, -90, -95, -81}
	// Every length from 1: the elements past the last multiple of 8 take the scalar path
	// even where a vector kernel exists.
	for n := 1; n <= len(z); n++ {
		y := make([]float32, n)
		sig := make([]float32, n)
		siluF32(z[:n], y, sig)
		for i := range n {
			for _, v := range []float32{sig[i], y[i], sigmoidT(z[i])} {
				if a := float32(math.Abs(float64(v))); a != 0 && a < minNormal {
					t.Errorf("length %d: sigmoid/SiLU of %g gives the subnormal %g", n, z[i], v)
				}
			}
		}
	}
}

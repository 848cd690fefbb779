package tensor

import (
	"math"
	"unsafe"
)

// The clamp of exp32's argument, shared by every float32 exp and sigmoid path (scalar, the
// AVX2 kernel's constant table).
const (
	exp32Min = -87
	exp32Max = 80
)

// exp32 is exp for float32 with a relative error of a few ulp: Cody–Waite range reduction to
// r ∈ [−ln2/2, ln2/2] and a degree-6 polynomial, scaled by 2^k through the exponent bits.
// Rounding to the nearest integer uses the 1.5·2^23 trick (no branches, no calls). x is
// clamped to [−87, 80]: the result stays a normal float, and so does the sigmoid built on it
// (≥ 1.8e-35; with 88 it would reach 6e-39, a subnormal). Saturated units of a diverging
// network otherwise fill activations with subnormals, which slow x86 arithmetic by up to 100×.
func exp32(x float32) float32 {
	x = min(max(x, exp32Min), exp32Max)
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
		magic = 12582912 // 1.5·2^23
	)
	t := x*log2e + magic
	kf := t - magic
	k := int32(math.Float32bits(t)) - int32(math.Float32bits(magic))
	r := x - kf*ln2hi - kf*ln2lo
	p := float32(1.0/720)*r + float32(1.0/120)
	p = p*r + float32(1.0/24)
	p = p*r + float32(1.0/6)
	p = p*r + 0.5
	p = p*r + 1
	p = p*r + 1
	return p * math.Float32frombits(uint32(k+127)<<23)
}

type float interface{ ~float32 | ~float64 }

// expT is exp in the precision of T (fast float32 path).
func expT[T float](x T) T {
	if unsafe.Sizeof(x) == 4 {
		return T(exp32(float32(x)))
	}
	return T(math.Exp(float64(x)))
}

// sigmoidT is 1/(1+exp(−x)).
func sigmoidT[T float](x T) T { return 1 / (1 + expT(-x)) }

// tanhT is tanh in the precision of T.
func tanhT[T float](x T) T {
	if unsafe.Sizeof(x) == 4 {
		if x > 9 {
			return 1
		} else if x < -9 {
			return -1
		}
		e := exp32(float32(2 * x))
		return T((e - 1) / (e + 1))
	}
	return T(math.Tanh(float64(x)))
}

// siluF32 is y = z·sigmoid(z) (z and y may alias), storing sigmoid(z) into sig when it is not
// nil; exp32 is written out in the loop so the compiler keeps everything in registers.
func siluF32(z, y, sig []float32) {
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
		magic = 12582912
	)
	y = y[:len(z)]
	if sig != nil {
		sig = sig[:len(z)]
	}
	if n8 := len(z) &^ 7; haveAVX2 && n8 > 0 {
		s := sig
		if s == nil {
			s = y
		}
		siluAVX2(&z[0], &y[0], &s[0], n8, &siluConsts)
		z, y = z[n8:], y[n8:]
		if sig != nil {
			sig = sig[n8:]
		}
	}
	for i, v := range z {
		x := min(max(-v, exp32Min), exp32Max)
		t := x*log2e + magic
		kf := t - magic
		k := int32(math.Float32bits(t)) - int32(math.Float32bits(magic))
		r := x - kf*ln2hi - kf*ln2lo
		p := float32(1.0/720)*r + float32(1.0/120)
		p = p*r + float32(1.0/24)
		p = p*r + float32(1.0/6)
		p = p*r + 0.5
		p = p*r + 1
		p = p*r + 1
		s := 1 / (1 + p*math.Float32frombits(uint32(k+127)<<23))
		if sig != nil {
			sig[i] = s
		}
		y[i] = v * s
	}
}

// float32frombitsInt reinterprets an int32 bit pattern as float32 (for integer lanes in the
// constant table of siluAVX2).
func float32frombitsInt(i int32) float32 { return math.Float32frombits(uint32(i)) }

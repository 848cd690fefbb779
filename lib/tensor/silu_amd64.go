//go:build amd64 && !purego

package tensor

import "golang.org/x/sys/cpu"

var haveAVX2 = cpu.X86.HasAVX2

// siluConsts holds the constants of siluAVX2, each broadcast over 8 lanes.
var siluConsts = func() (c [13][8]float32) {
	vals := [12]float32{exp32Min, exp32Max, // the clamp of exp32
		1.44269504088896341, 12582912, 0.693359375, -2.12194440e-4,
		1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1}
	for i, v := range vals {
		for l := range c[i] {
			c[i][l] = v
		}
	}
	for l := range c[12] {
		c[12][l] = float32frombitsInt(127)
	}
	return c
}()

// siluAVX2 is siluF32 over n elements (a multiple of 8), 8 lanes at a time; sig may equal y
// when the sigmoid is not wanted (it is written first, then overwritten).
//
//go:noescape
func siluAVX2(z, y, sig *float32, n int, c *[13][8]float32)

var haveFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// sgemm6x16 is the AVX2/FMA micro-kernel of sgemmFast (see sgemm_amd64.s).
//
//go:noescape
func sgemm6x16(k int, a *float32, rs, ps int, b *float32, ldb int, c *float32, ldc int, acc int)

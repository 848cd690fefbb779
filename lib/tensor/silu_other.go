//go:build !amd64 || purego

package tensor

const haveAVX2 = false

var siluConsts [13][8]float32

func siluAVX2(z, y, sig *float32, n int, c *[13][8]float32) { panic("tensor: no AVX2 kernel") }

const haveFMA = false

func sgemm6x16(k int, a *float32, rs, ps int, b *float32, ldb int, c *float32, ldc int, acc int) {
	panic("tensor: no FMA kernel")
}

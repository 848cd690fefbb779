//go:build !amd64 || purego

package tensor

const haveAVX2 = false

var siluConsts [13][8]float32

func siluAVX2(z, y, sig *float32, n int, c *[13][8]float32) { panic("tensor: no AVX2 kernel") }

//go:build amd64 && !purego

#include "textflag.h"

// func siluAVX2(z, y, sig *float32, n int, c *[13][8]float32)
// Constants (32 bytes each): 0 lo, 32 hi, 64 log2e, 96 magic, 128 ln2hi, 160 ln2lo,
// 192 1/720, 224 1/120, 256 1/24, 288 1/6, 320 0.5, 352 1, 384 int32 127.
TEXT ·siluAVX2(SB), NOSPLIT, $0-40
	MOVQ z+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ sig+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ c+32(FP), R8
	VMOVUPS 352(R8), Y9

loop:
	CMPQ CX, $8
	JL   done
	VMOVUPS (SI), Y0
	VXORPS  Y1, Y1, Y1
	VSUBPS  Y0, Y1, Y1
	VMAXPS  0(R8), Y1, Y1
	VMINPS  32(R8), Y1, Y1
	VMULPS  64(R8), Y1, Y2
	VADDPS  96(R8), Y2, Y2
	VSUBPS  96(R8), Y2, Y3
	VPSUBD  96(R8), Y2, Y4
	VMULPS  128(R8), Y3, Y5
	VSUBPS  Y5, Y1, Y1
	VMULPS  160(R8), Y3, Y5
	VSUBPS  Y5, Y1, Y1
	VMULPS  192(R8), Y1, Y6
	VADDPS  224(R8), Y6, Y6
	VMULPS  Y1, Y6, Y6
	VADDPS  256(R8), Y6, Y6
	VMULPS  Y1, Y6, Y6
	VADDPS  288(R8), Y6, Y6
	VMULPS  Y1, Y6, Y6
	VADDPS  320(R8), Y6, Y6
	VMULPS  Y1, Y6, Y6
	VADDPS  Y9, Y6, Y6
	VMULPS  Y1, Y6, Y6
	VADDPS  Y9, Y6, Y6
	VPADDD  384(R8), Y4, Y4
	VPSLLD  $23, Y4, Y4
	VMULPS  Y4, Y6, Y6
	VADDPS  Y9, Y6, Y6
	VDIVPS  Y6, Y9, Y7
	VMOVUPS Y7, (DX)
	VMULPS  Y7, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $32, DX
	SUBQ    $8, CX
	JMP     loop

done:
	VZEROUPPER
	RET

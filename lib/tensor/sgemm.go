package tensor

import (
	"sync"

	"gonum.org/v1/gonum/blas/gonum"
)

// sgemmFast is the float32 product of the pure-Go CPU backend on CPUs with AVX2 and FMA:
// C = op(A)·op(B) + beta·C for beta ∈ {0, 1} (alpha = 1), row-major. It blocks C into 6×16
// tiles computed by an assembly micro-kernel, k into panels of kcBlock, and transposes B into
// a pooled scratch buffer when transB is set. Other cases go to gonum.
func sgemmFast(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m < 6 || n < 16 || k < 1 || (beta != 0 && beta != 1) {
		gonum.Implementation{}.Sgemm(tr(transA), tr(transB), m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
		return
	}
	// Bounds, checked once here so the kernel never reads outside the slices.
	needA := (m-1)*lda + k
	if transA {
		needA = (k-1)*lda + m
	}
	needB := (k-1)*ldb + n
	if transB {
		needB = (n-1)*ldb + k
	}
	if len(a) < needA || len(b) < needB || len(c) < (m-1)*ldc+n {
		panic("tensor: sgemm: slice too short for its dimensions")
	}
	bb, ldbb := b, ldb
	if transB {
		buf := scratch.Get().(*[]float32)
		defer scratch.Put(buf)
		if cap(*buf) < k*n {
			*buf = make([]float32, k*n)
		}
		bt := (*buf)[:k*n]
		for j := 0; j < n; j++ {
			row := b[j*ldb : j*ldb+k]
			for p, v := range row {
				bt[p*n+j] = v
			}
		}
		bb, ldbb = bt, n
	}
	rs, ps := lda, 1
	if transA {
		rs, ps = 1, lda
	}
	var tmp [6 * 16]float32
	for p0 := 0; p0 < k; p0 += kcBlock {
		kb := min(kcBlock, k-p0)
		acc := 0
		if beta != 0 || p0 > 0 {
			acc = 1
		}
		for i0 := 0; i0 < m; i0 += 6 {
			r0 := 0 // first row of the tile that belongs to this block
			if i0+6 > m {
				r0 = i0 - (m - 6)
				i0 = m - 6
			}
			for j0 := 0; j0 < n; j0 += 16 {
				c0 := 0
				if j0+16 > n {
					c0 = j0 - (n - 16)
					j0 = n - 16
				}
				ap := &a[i0*rs+p0*ps]
				bp := &bb[p0*ldbb+j0]
				if r0 == 0 && c0 == 0 {
					sgemm6x16(kb, ap, rs, ps, bp, ldbb, &c[i0*ldc+j0], ldc, acc)
					continue
				}
				sgemm6x16(kb, ap, rs, ps, bp, ldbb, &tmp[0], 16, 0)
				for r := r0; r < 6; r++ {
					dst := c[(i0+r)*ldc+j0 : (i0+r)*ldc+j0+16]
					src := tmp[r*16 : r*16+16]
					for j := c0; j < 16; j++ {
						if acc != 0 {
							dst[j] += src[j]
						} else {
							dst[j] = src[j]
						}
					}
				}
			}
		}
	}
}

// kcBlock is the k panel of sgemmFast: a panel of A and B stays in L2 across the C tiles.
const kcBlock = 256

var scratch = sync.Pool{New: func() any { s := make([]float32, 0); return &s }}

package tensor

import (
	"gonum.org/v1/gonum/blas"
)

// Backend computes the matrix products the operations are built on. All matrices are
// row-major; transA/transB select op(A) = Aᵀ / op(B) = Bᵀ; C = alpha·op(A)·op(B) + beta·C with
// op(A) m×k and op(B) k×n. A device backend implements the same contract on its own memory.
type Backend interface {
	// Name identifies the implementation ("gonum", "openblas", ...).
	Name() string
	// Sgemm is the float32 matrix product.
	Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	// Dgemm is the float64 matrix product.
	Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int)
}

type blasImpl interface {
	blas.Float32Level3
	blas.Float64Level3
}

// cpuBackend runs BLAS on the calling goroutine; the operations split work over cores.
type cpuBackend struct {
	name string
	impl blasImpl
}

// serialTile bounds the blocks handed to gonum: its Sgemm/Dgemm start their own goroutines
// (and allocate) once a product spans 4 or more 64×64 blocks of C, while this package already
// splits the work over cores.
const serialTile = 64

func tr(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

func (c cpuBackend) Name() string { return c.name }

func (c cpuBackend) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, cc []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if c.name == "gonum" && haveFMA && alpha == 1 && (beta == 0 || beta == 1) {
		sgemmFast(transA, transB, m, n, k, a, lda, b, ldb, beta, cc, ldc)
		return
	}
	if c.name != "gonum" || ((m+serialTile-1)/serialTile)*((n+serialTile-1)/serialTile) < 4 {
		c.impl.Sgemm(tr(transA), tr(transB), m, n, k, alpha, a, lda, b, ldb, beta, cc, ldc)
		return
	}
	ta, tb := tr(transA), tr(transB)
	forTiles(transA, transB, m, n, lda, ldb, ldc, func(mb, nb, aOff, bOff, cOff int) {
		c.impl.Sgemm(ta, tb, mb, nb, k, alpha, a[aOff:], lda, b[bOff:], ldb, beta, cc[cOff:], ldc)
	})
}

func (c cpuBackend) Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, cc []float64, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if c.name != "gonum" || ((m+serialTile-1)/serialTile)*((n+serialTile-1)/serialTile) < 4 {
		c.impl.Dgemm(tr(transA), tr(transB), m, n, k, alpha, a, lda, b, ldb, beta, cc, ldc)
		return
	}
	ta, tb := tr(transA), tr(transB)
	forTiles(transA, transB, m, n, lda, ldb, ldc, func(mb, nb, aOff, bOff, cOff int) {
		c.impl.Dgemm(ta, tb, mb, nb, k, alpha, a[aOff:], lda, b[bOff:], ldb, beta, cc[cOff:], ldc)
	})
}

var backend Backend = cpuBackend{name: blasName, impl: newBLAS()}

// CPUBackend returns the CPU backend (gonum, or OpenBLAS with the openblas tag).
func CPUBackend() Backend { return cpuBackend{name: blasName, impl: newBLAS()} }

// CurrentBackend is the backend in use: the CPU backend (the GPU path runs whole networks in
// lib/tensor/cuda instead of single products).
func CurrentBackend() Backend { return backend }

// BLASName names the CPU BLAS compiled in: "gonum" (pure Go) or "openblas".
func BLASName() string { return blasName }

// forTiles calls f for each serialTile×serialTile block of an m×n product C = op(A)·op(B), with
// the block's size and the offsets of its first element in A, B and C (row-major).
func forTiles(transA, transB bool, m, n, lda, ldb, ldc int, f func(mb, nb, aOff, bOff, cOff int)) {
	for i0 := 0; i0 < m; i0 += serialTile {
		aOff := i0 * lda
		if transA {
			aOff = i0
		}
		for j0 := 0; j0 < n; j0 += serialTile {
			bOff := j0
			if transB {
				bOff = j0 * ldb
			}
			f(min(serialTile, m-i0), min(serialTile, n-j0), aOff, bOff, i0*ldc+j0)
		}
	}
}

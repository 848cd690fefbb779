package cuda

import "fmt"

// cuBLAS operation codes.
const (
	cublasOpN = 0
	cublasOpT = 1
)

// cuBLAS math modes.
const (
	cublasDefaultMath    = 0
	cublasTF32TensorMath = 3
)

// colGemm is one cublasSgemm call: column-major C(m×n) = op(A)(m×k)·op(B)(k×n), where A is the
// first operand handed to cuBLAS and B the second.
type colGemm struct {
	transa, transb int
	m, n, k        int
	swapped        bool // true: cuBLAS's A is the caller's B and cuBLAS's B the caller's A
	lda, ldb, ldc  int
}

// rowMajorGemm maps the row-major product C(m×n) = op(A)·op(B) (lib/tensor's Backend contract:
// lda, ldb, ldc are row strides) to cuBLAS's column-major call. A row-major matrix with row
// stride ld is, read column-major, its transpose with leading dimension ld; so Cᵀ = op(B)ᵀ·op(A)ᵀ
// is computed with B's buffer first (op = transB) and A's second (op = transA), m and n swapped.
func rowMajorGemm(transA, transB bool, m, n, k, lda, ldb, ldc int) (colGemm, error) {
	if m < 0 || n < 0 || k < 0 {
		return colGemm{}, fmt.Errorf("cuda: sgemm with negative size m=%d n=%d k=%d", m, n, k)
	}
	// Row-major shapes of the stored matrices: A is m×k (k×m when transposed), B is k×n (n×k).
	aCols, bCols := k, n
	if transA {
		aCols = m
	}
	if transB {
		bCols = k
	}
	if lda < max(1, aCols) || ldb < max(1, bCols) || ldc < max(1, n) {
		return colGemm{}, fmt.Errorf("cuda: sgemm leading dimensions lda=%d ldb=%d ldc=%d too small for m=%d n=%d k=%d (transA=%v transB=%v)",
			lda, ldb, ldc, m, n, k, transA, transB)
	}
	op := func(t bool) int {
		if t {
			return cublasOpT
		}
		return cublasOpN
	}
	return colGemm{transa: op(transB), transb: op(transA), m: n, n: m, k: k, swapped: true, lda: ldb, ldb: lda, ldc: ldc}, nil
}

// rowMajorLen is the number of elements a row-major matrix of rows×cols with stride ld spans.
func rowMajorLen(rows, cols, ld int) int {
	if rows == 0 || cols == 0 {
		return 0
	}
	return (rows-1)*ld + cols
}

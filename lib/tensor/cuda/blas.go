package cuda

import (
	"fmt"
	"unsafe"
)

// Sgemm is the row-major float32 product C = alpha·op(A)·op(B) + beta·C with op(A) m×k and
// op(B) k×n, lda/ldb/ldc the row strides (lib/tensor's Backend contract), on device buffers.
// It is queued on the device's stream.
func (d *Device) Sgemm(transA, transB bool, m, n, k int, alpha float32, a *Buffer, lda int, b *Buffer, ldb int,
	beta float32, c *Buffer, ldc int) error {
	return d.SgemmStridedBatched(transA, transB, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1)
}

func gemmShapes(transA, transB bool, m, n, k int) (ar, ac, br, bc int) {
	ar, ac, br, bc = m, k, k, n
	if transA {
		ar, ac = k, m
	}
	if transB {
		br, bc = n, k
	}
	return
}

// SgemmStridedBatched runs batch row-major products, matrix i of A, B and C starting at
// element i·strideA, i·strideB, i·strideC of its buffer (cublasSgemmStridedBatched; a batch of
// 1 runs cublasSgemm_v2).
func (d *Device) SgemmStridedBatched(transA, transB bool, m, n, k int, alpha float32, a *Buffer, lda, strideA int,
	b *Buffer, ldb, strideB int, beta float32, c *Buffer, ldc, strideC int, batch int) error {
	if d == nil {
		return fmt.Errorf("cuda: sgemm on a nil device")
	}
	if d.blasErr != nil {
		return fmt.Errorf("cuda: cuBLAS unavailable: %w", d.blasErr)
	}
	g, err := rowMajorGemm(transA, transB, m, n, k, lda, ldb, ldc)
	if err != nil {
		return err
	}
	if batch < 1 || strideA < 0 || strideB < 0 || strideC < 0 {
		return fmt.Errorf("cuda: sgemm batch %d, strides %d %d %d", batch, strideA, strideB, strideC)
	}
	if m == 0 || n == 0 {
		return nil
	}
	ar, ac, br, bc := gemmShapes(transA, transB, m, n, k)
	for _, chk := range []struct {
		name         string
		buf          *Buffer
		rows, cols   int
		ld, stride   int
		skipIfKZero  bool
		checkPresent bool
	}{{"A", a, ar, ac, lda, strideA, true, true}, {"B", b, br, bc, ldb, strideB, true, true}, {"C", c, m, n, ldc, strideC, false, true}} {
		if chk.skipIfKZero && k == 0 {
			continue
		}
		if chk.buf == nil {
			return fmt.Errorf("cuda: sgemm: nil %s", chk.name)
		}
		need := (batch-1)*chk.stride + rowMajorLen(chk.rows, chk.cols, chk.ld)
		if chk.buf.n < need {
			return fmt.Errorf("cuda: sgemm: %s holds %d floats, needs %d", chk.name, chk.buf.n, need)
		}
	}
	if g.m > maxInt32 || g.n > maxInt32 || g.k > maxInt32 {
		return fmt.Errorf("cuda: sgemm sizes %d×%d×%d exceed 32-bit ints", m, n, k)
	}
	first, second := b, a
	sFirst, sSecond := strideB, strideA
	var pFirst, pSecond uint64
	if first != nil {
		pFirst = first.ptr
	}
	if second != nil {
		pSecond = second.ptr
	}
	return d.Do(func() error {
		if d.emu != nil {
			return d.emu.sgemm(g, alpha, pFirst, sFirst, pSecond, sSecond, beta, c.ptr, strideC, batch)
		}
		al, be := alpha, beta
		if batch == 1 {
			return cublasErr("cublasSgemm_v2", sys(d.drv.cublasSgemm, d.blas, uintptr(g.transa), uintptr(g.transb),
				uintptr(g.m), uintptr(g.n), uintptr(g.k), uintptr(unsafe.Pointer(&al)),
				uintptr(pFirst), uintptr(g.lda), uintptr(pSecond), uintptr(g.ldb),
				uintptr(unsafe.Pointer(&be)), uintptr(c.ptr), uintptr(g.ldc)))
		}
		return cublasErr("cublasSgemmStridedBatched", sys(d.drv.cublasSgemmStridedBatched, d.blas, uintptr(g.transa), uintptr(g.transb),
			uintptr(g.m), uintptr(g.n), uintptr(g.k), uintptr(unsafe.Pointer(&al)),
			uintptr(pFirst), uintptr(g.lda), uintptr(int64(sFirst)), uintptr(pSecond), uintptr(g.ldb), uintptr(int64(sSecond)),
			uintptr(unsafe.Pointer(&be)), uintptr(c.ptr), uintptr(g.ldc), uintptr(int64(strideC)), uintptr(batch)))
	})
}

const maxInt32 = 1<<31 - 1

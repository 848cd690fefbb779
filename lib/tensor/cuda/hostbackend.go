package cuda

import (
	"fmt"
	"sync"
)

// CPUGemm is the CPU side of a HostBackend: lib/tensor's Backend (tensor.CPUBackend()) has
// these methods.
type CPUGemm interface {
	Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int)
}

// HostBackend implements lib/tensor's Backend contract on host slices: float32 products of at
// least MinWork multiply-adds (m·n·k) are copied to the GPU, run in cuBLAS and copied back;
// smaller ones, float64 ones, and all of them after a GPU error run on the CPU backend. It is
// safe for concurrent use (GPU products are serialised).
//
//	tensor.SetBackend(cuda.NewHostBackend(dev, tensor.CPUBackend(), 1<<22))
type HostBackend struct {
	d       *Device
	cpu     CPUGemm
	minWork int

	mu       sync.Mutex
	a, b, c  *Buffer
	err      error
	gpuCalls int
	cpuCalls int
}

// NewHostBackend returns a backend that sends products of at least minWork multiply-adds to d
// (a nil d keeps everything on cpu).
func NewHostBackend(d *Device, cpu CPUGemm, minWork int) *HostBackend {
	return &HostBackend{d: d, cpu: cpu, minWork: minWork}
}

// Name identifies the backend.
func (h *HostBackend) Name() string { return "cuda-cublas" }

// Err is the GPU error that sent every later product to the CPU (nil if none).
func (h *HostBackend) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

// Calls counts the float32 products run on the GPU and on the CPU.
func (h *HostBackend) Calls() (gpu, cpu int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.gpuCalls, h.cpuCalls
}

// Dgemm runs on the CPU.
func (h *HostBackend) Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	h.cpu.Dgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Sgemm is C = alpha·op(A)·op(B) + beta·C on row-major host slices.
func (h *HostBackend) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if h.d != nil && m*n*k >= h.minWork && m > 0 && n > 0 && k > 0 {
		h.mu.Lock()
		if h.err == nil {
			err := h.gpu(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
			if err == nil {
				h.gpuCalls++
				h.mu.Unlock()
				return
			}
			h.err = fmt.Errorf("cuda: host backend falls back to the CPU: %w", err)
		}
		h.cpuCalls++
		h.mu.Unlock()
	} else {
		h.mu.Lock()
		h.cpuCalls++
		h.mu.Unlock()
	}
	h.cpu.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func (h *HostBackend) gpu(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) error {
	ar, ac, br, bc := gemmShapes(transA, transB, m, n, k)
	la, lb, lc := rowMajorLen(ar, ac, lda), rowMajorLen(br, bc, ldb), rowMajorLen(m, n, ldc)
	if len(a) < la || len(b) < lb || len(c) < lc {
		return fmt.Errorf("sgemm: slices of %d, %d, %d floats, need %d, %d, %d", len(a), len(b), len(c), la, lb, lc)
	}
	return h.d.Do(func() error {
		var err error
		grow := func(p **Buffer, n int) (*Buffer, error) {
			if *p == nil || (*p).Len() < n {
				if *p != nil {
					_ = h.d.Free(*p)
					*p = nil
				}
				if *p, err = h.d.Alloc(n); err != nil {
					return nil, err
				}
			}
			return (*p).Slice(0, n)
		}
		da, err := grow(&h.a, la)
		if err != nil {
			return err
		}
		db, err := grow(&h.b, lb)
		if err != nil {
			return err
		}
		dc, err := grow(&h.c, lc)
		if err != nil {
			return err
		}
		if err := firstErr(h.d.CopyHtoD(da, a[:la]), h.d.CopyHtoD(db, b[:lb])); err != nil {
			return err
		}
		if beta != 0 || ldc != n {
			// C's old values are read, or the padding between its rows must survive the copy back.
			if err := h.d.CopyHtoD(dc, c[:lc]); err != nil {
				return err
			}
		}
		if err := h.d.Sgemm(transA, transB, m, n, k, alpha, da, lda, db, ldb, beta, dc, ldc); err != nil {
			return err
		}
		return h.d.CopyDtoH(c[:lc], dc)
	})
}

// Close returns the backend's device buffers to the pool.
func (h *HostBackend) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.d == nil {
		return nil
	}
	err := firstErr(h.d.Free(h.a), h.d.Free(h.b), h.d.Free(h.c))
	h.a, h.b, h.c = nil, nil, nil
	return err
}

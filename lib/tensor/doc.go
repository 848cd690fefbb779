// Package tensor is a small reverse-mode automatic-differentiation engine over whole-layer
// operations, built for the controller networks of the library (MLP and EGNN).
//
// A Tensor holds float32 or float64 data (DType) with a shape of rank 1 to 4. A Tape records the
// operations applied to tensors (Linear, activations, the pair operations of an EGNN, losses)
// and runs them backwards to fill the gradients of every tensor that requires one. The same
// code path runs in float32 (training speed) and float64 (gradient checks against finite
// differences, equivariance tests).
//
// Buffers are reused: a Tape keeps every intermediate tensor it created, and after Reset the
// next recording of the same sequence of operations reuses them, so a training loop with a
// fixed batch size reaches a steady state without allocating large buffers.
//
// Work is split over the cores by rows (batch rows, matrix row blocks) and run on a pool of
// long-lived goroutines with jobs owned by the Tape, so a steady-state training step allocates
// nothing; SetWorkers overrides the number of workers (default GOMAXPROCS).
//
// Matrix products go through a Backend. The default CPU backend is pure Go: float32 products
// run in an AVX2/FMA assembly micro-kernel (6×16 tiles of C, k in panels) on amd64 CPUs that
// have it, everything else in gonum's BLAS (blas32/blas64 implementations); the SiLU
// activation has an AVX2 kernel too. The build tag `purego` disables the assembly. Building
// with the tag `openblas` (cgo, libopenblas-dev) switches the CPU backend to OpenBLAS through
// gonum.org/v1/netlib; OpenBLAS is then run single-threaded (openblas_set_num_threads(1))
// because this package does its own splitting over cores:
//
//	CGO_ENABLED=1 go build -tags openblas ./cmd/adjoint
//
// Element-wise, pair and reduction kernels are part of the operations in this package, so a
// device backend (tensors resident in device memory) slots in here without changes to the
// networks built on the Tape.
//
// BLASName reports which implementation is in use ("gonum" or "openblas").
package tensor

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
// Work is split over the cores by rows (goroutines over batch rows and matrix row blocks);
// SetWorkers overrides the number of workers (default GOMAXPROCS).
//
// Matrix products go through a Backend. The default CPU backend uses gonum's pure-Go BLAS
// (blas32/blas64). Building with the tag `openblas` (cgo, libopenblas-dev) switches the CPU
// backend to OpenBLAS through gonum.org/v1/netlib; OpenBLAS is then run single-threaded
// (openblas_set_num_threads(1)) because this package does its own splitting over cores:
//
//	CGO_ENABLED=1 go build -tags openblas ./cmd/adjoint
//
// BLASName reports which implementation is in use ("gonum" or "openblas").
package tensor

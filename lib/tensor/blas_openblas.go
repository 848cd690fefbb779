//go:build openblas

package tensor

import (
	"gonum.org/v1/netlib/blas/netlib"

	"adjoint/lib/tensor/internal/openblas"
)

const blasName = "openblas"

func init() {
	// This package splits work over cores itself; OpenBLAS's own threads hurt tall, thin
	// products.
	openblas.SetThreads(1)
}

func newBLAS() blasImpl { return netlib.Implementation{} }

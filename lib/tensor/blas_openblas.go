//go:build openblas

package tensor

/*
#cgo LDFLAGS: -lopenblas
void openblas_set_num_threads(int);
*/
import "C"

import "gonum.org/v1/netlib/blas/netlib"

const blasName = "openblas"

func init() {
	// This package splits work over cores itself; OpenBLAS's own threads hurt tall, thin
	// products.
	C.openblas_set_num_threads(1)
}

func newBLAS() blasImpl { return netlib.Implementation{} }

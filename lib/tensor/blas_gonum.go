//go:build !openblas

package tensor

import "gonum.org/v1/gonum/blas/gonum"

const blasName = "gonum"

func newBLAS() blasImpl { return gonum.Implementation{} }

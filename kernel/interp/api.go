// Package interp runs notebook cells: Go source evaluated by yaegi with the library and the
// display package pre-imported, and cell magics such as %%adj. An *Interp is a kernel.Executor.
package interp

import "adjoint/kernel"

// Output receives what a running cell produces (kernel.Output).
type Output = kernel.Output

// Error describes a failed cell the way Jupyter shows it (kernel.Error).
type Error = kernel.Error

// Result is the outcome of executing one cell (kernel.Result).
type Result = kernel.Result

var _ kernel.Executor = (*Interp)(nil)

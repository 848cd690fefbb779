// Package interp runs notebook cells: Go source evaluated by yaegi with the library and the
// display package pre-imported, and cell magics such as %%adj.
package interp

import (
	"adjoint/lib/display"
	"strings"
)

// Output receives what a running cell produces; the kernel publishes it on iopub, `adjoint run`
// writes it into the notebook. Implementations must be safe for concurrent use (goroutines of
// a cell may write).
type Output interface {
	// Stream delivers text written to "stdout" or "stderr".
	Stream(name, text string)
	// Display publishes a bundle (display_data, or update_display_data when update is set).
	Display(b display.Bundle, id string, update bool)
	// Clear clears the cell's output.
	Clear(wait bool)
}

// Error describes a failed cell the way Jupyter shows it.
type Error struct {
	Name      string   // ename, e.g. "CompileError", "panic", "Interrupted"
	Value     string   // evalue
	Traceback []string // lines shown to the user
}

func (e *Error) Error() string {
	if len(e.Traceback) > 0 {
		return strings.Join(e.Traceback, "\n")
	}
	return e.Name + ": " + e.Value
}

// Result is the outcome of executing one cell.
type Result struct {
	Value *display.Bundle // the last expression's value; nil when the cell has none
	Err   *Error          // nil on success
}

package kernel

import (
	"context"
	"strings"

	"adjoint/lib/display"
)

// Output receives what a running cell produces: the kernel publishes it on iopub, `adjoint run`
// writes it into the notebook. Implementations must be safe for concurrent use (goroutines of
// a cell may write).
type Output interface {
	// Stream delivers text written to "stdout" or "stderr".
	Stream(name, text string)
	// Display publishes a bundle (display_data, or update_display_data when update is set and
	// id is not empty).
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

// Executor runs cells and answers editor queries. The kernel calls Execute from one goroutine
// at a time; Complete, Inspect and IsComplete come from the same goroutine, between cells.
type Executor interface {
	// Execute runs one cell, sending what it prints and displays to out. It blocks until the
	// cell ends; cancelling ctx interrupts it.
	Execute(ctx context.Context, code string, out Output) Result
	// Complete returns completions for the code at cursor (in Unicode code points) and the
	// range [start, end) they replace.
	Complete(code string, cursor int) (matches []string, start, end int)
	// Inspect returns documentation for the name at cursor.
	Inspect(code string, cursor, detail int) (display.Bundle, bool)
	// IsComplete reports "complete", "incomplete" (with an indent) or "invalid".
	IsComplete(code string) (status, indent string)
	// Close releases the executor.
	Close() error
}

// Interrupter is implemented by executors that want to hear of every interrupt, also those
// that come while no cell runs (goroutines of earlier cells may be watching). The kernel calls
// Interrupt in addition to cancelling the running cell's context.
type Interrupter interface {
	Interrupt()
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"adjoint/internal/outpath"
	"adjoint/lib/display"
	"adjoint/lib/energy"
	"adjoint/lib/npy"
)

// Helpers shared by the subcommands.

// progressToStderr sends library progress to stderr (stdout carries the JSON result) and
// cancels the library work on Ctrl-C. The returned function restores the previous state.
func progressToStderr() (context.Context, func()) {
	restore := display.SetSink(display.NewTerminalSink(os.Stderr))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	prev := display.Context()
	display.SetContext(ctx)
	return ctx, func() {
		stop()
		display.SetContext(prev)
		restore()
	}
}

// loadSamples reads an .npy file of configurations for sys: B×dim or B×n×d.
func loadSamples(path string, sys *energy.System, what string) ([]float64, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s file %s does not exist", what, path)
		}
		return nil, fmt.Errorf("%s file: %w", what, err)
	}
	a, err := npy.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s file: %w", what, err)
	}
	n, d := sys.Energy.Particles(), sys.Energy.SpatialDim()
	_, cols := a.Rows()
	ok := len(a.Shape) == 2 && cols == n*d || len(a.Shape) == 3 && a.Shape[1] == n && a.Shape[2] == d
	if !ok {
		return nil, fmt.Errorf("%s file %s has shape %v; %s needs B×%d (or B×%d×%d)", what, path, a.Shape, sys.Name, n*d, n, d)
	}
	return a.Data, nil
}

// checkOutputs checks, before any work starts, that each named output file can be written:
// pairs of (what, path); empty paths (outputs not asked for) are skipped. Relative paths are
// taken against the working directory and the error shows the absolute one.
func checkOutputs(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			continue
		}
		if err := outpath.Check(pairs[i+1], pairs[i]); err != nil {
			return err
		}
	}
	return nil
}

// terminalProgress returns the progress sink of the terminal w: a redrawn bar when w is an
// interactive terminal, plain periodic lines otherwise (as adjoint train draws them).
func terminalProgress(w io.Writer) *display.WriterSink {
	if f, ok := w.(*os.File); ok {
		return display.NewTerminalSink(f)
	}
	return display.NewWriterSink(w, false)
}

// splitSink shows displays on one sink and draws progress on another (results on stdout,
// progress on stderr).
type splitSink struct {
	display.Sink
	progress display.ProgressSink
}

func (s splitSink) NewReporter(task string) display.Reporter { return s.progress.NewReporter(task) }

// teeReporter sends every report to several views.
type teeReporter []display.Reporter

func (t teeReporter) Report(p display.Progress) {
	for _, r := range t {
		r.Report(p)
	}
}

func (t teeReporter) Finish(p display.Progress) {
	for _, r := range t {
		r.Finish(p)
	}
}

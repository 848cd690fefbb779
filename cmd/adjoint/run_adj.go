package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"adjoint/dsl"
	"adjoint/lib/adjoint"
	"adjoint/lib/display"
)

func init() {
	runAdjScript = runAdj
	trainAdjSpec = trainConfigOf
}

// trainConfigOf gives `adjoint train FILE.adj` the configuration the script declares (its last
// sampler, or the defaults for its last system); only the declarations run.
func trainConfigOf(path string) (adjoint.Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return adjoint.Config{}, fmt.Errorf("read %s: %w", path, err)
	}
	return dsl.TrainingConfig(context.Background(), string(src), path)
}

// adjTerminal prints a script's output: text as is, displays by their text form.
type adjTerminal struct {
	w io.Writer
}

func (o adjTerminal) Print(text string) { io.WriteString(o.w, text) }

func (o adjTerminal) Show(b display.Bundle) {
	if s, ok := b.Data[display.MIMEText].(string); ok {
		io.WriteString(o.w, strings.TrimSuffix(s, "\n")+"\n")
	}
}

// runAdj runs a DSL script: it is checked as a whole first, then run statement by statement;
// Ctrl-C stops training or sampling between steps.
func runAdj(path string, stdout, stderr io.Writer) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read script: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var sink display.Sink = display.NewWriterSink(stdout, false)
	if f, ok := stdout.(*os.File); ok {
		sink = display.NewTerminalSink(f)
	}
	restore := display.SetSink(sink)
	defer restore()
	display.SetContext(ctx)
	defer display.SetContext(context.Background())
	s := dsl.NewSession()
	s.Dir = filepath.Dir(path)
	if _, err := s.Exec(ctx, string(src), path, adjTerminal{w: stdout}); err != nil {
		return err
	}
	return nil
}

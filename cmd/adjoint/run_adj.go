package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"adjoint/dsl"
	"adjoint/lib/adjoint"
	"adjoint/lib/display"
	"adjoint/lib/energy"
)

// trainConfigOf gives `adjoint train FILE.adj` the configuration the script declares (its last
// sampler, or the defaults for its last system: adjoint.DefaultsFor when it declares no sde,
// whose choices are printed on stderr); only the declarations run.
func trainConfigOf(path string) (adjoint.Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return adjoint.Config{}, fmt.Errorf("read %s: %w", path, err)
	}
	cfg, ch, err := dsl.TrainingDefaults(context.Background(), string(src), path)
	if err == nil && ch != nil {
		// a script with only a system: say what the probe chose and why
		fmt.Fprintln(os.Stderr, adjoint.ChoicesTable(cfg.System.Name, ch).String())
	}
	return cfg, err
}

// adjSystem returns a system declared by a DSL script: spec is FILE.adj (its last system) or
// FILE.adj:NAME (the system named NAME); only the script's declarations run.
func adjSystem(spec string) (*energy.System, error) {
	path, name := spec, ""
	if i := strings.LastIndex(spec, ".adj:"); i >= 0 {
		path, name = spec[:i+len(".adj")], spec[i+len(".adj:"):]
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	s := dsl.NewSession()
	s.DryRun = true
	binds, err := s.Exec(context.Background(), string(src), path, nil)
	if err != nil {
		return nil, err
	}
	var sys *energy.System
	var names []string
	for _, b := range binds {
		v, ok := b.Value.(*energy.System)
		if !ok {
			continue
		}
		names = append(names, b.Name)
		if name == "" || b.Name == name {
			sys = v
		}
	}
	switch {
	case len(names) == 0:
		return nil, fmt.Errorf("%s declares no system", path)
	case sys == nil:
		return nil, fmt.Errorf("%s declares no system %q (it declares %s)", path, name, strings.Join(names, ", "))
	}
	return sys, nil
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
	// results on stdout, progress of long statements (training, sampling, evaluation) on
	// stderr: a bar on a terminal, periodic lines otherwise
	restore := display.SetSink(splitSink{Sink: display.NewWriterSink(stdout, false), progress: terminalProgress(stderr)})
	defer restore()
	display.SetContext(ctx)
	defer display.SetContext(context.Background())
	s := dsl.NewSession()
	if _, err := s.Exec(ctx, string(src), path, adjTerminal{w: stdout}); err != nil {
		return err
	}
	return nil
}

package interp

import (
	"context"
	"errors"
	"strings"
	"sync"

	"adjoint/dsl"
	"adjoint/lib/display"
)

// The %%adj cell magic runs a cell as DSL. Each interpreter keeps one DSL session, so a cell
// sees what earlier %%adj cells declared; every declared name is also bound as a Go variable
// for later Go cells (a system is an *energy.System, a sampler an *adjoint.Sampler, …).
//
//	%%adj         check the whole cell, then run it
//	%%adj check   only check it

// newAdjMagic returns the %%adj magic of one interpreter. Its DSL session is created by the
// first %%adj cell and lives as long as the magic: it is released with the interpreter (or when
// Close drops the interpreter's magics).
func newAdjMagic() Magic {
	var (
		mu      sync.Mutex
		session *dsl.Session
	)
	return func(ctx context.Context, i *Interp, args, body string, out Output) Result {
		mu.Lock()
		if session == nil {
			session = dsl.NewSession()
		}
		s := session
		mu.Unlock()
		return adjMagic(ctx, s, i, args, body, out)
	}
}

// adjOutput forwards a script's prints and displays to the cell's output.
type adjOutput struct{ out Output }

func (o adjOutput) Print(text string)     { o.out.Stream("stdout", text) }
func (o adjOutput) Show(b display.Bundle) { o.out.Display(b, "", false) }

func adjMagic(ctx context.Context, s *dsl.Session, i *Interp, args, body string, out Output) Result {
	// the body starts on the cell's second line: keep line numbers those of the cell
	src := "\n" + body
	if strings.TrimSpace(args) == "check" {
		if err := s.Check(src, "cell"); err != nil {
			return adjError(err)
		}
		out.Stream("stdout", "ok\n")
		return Result{}
	}
	binds, err := s.Exec(ctx, src, "cell", adjOutput{out})
	for _, b := range binds {
		if berr := i.BindValue(b.Name, b.Value); berr != nil {
			out.Stream("stderr", "adj: "+berr.Error()+"\n")
		}
	}
	if err != nil {
		return adjError(err)
	}
	return Result{}
}

func adjError(err error) Result {
	name := "DSLError"
	var rt *dsl.RuntimeError
	if errors.As(err, &rt) {
		name = "RuntimeError"
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			name = "Interrupted"
		}
	}
	msg := err.Error()
	first, _, _ := strings.Cut(msg, "\n")
	return Result{Err: &Error{Name: name, Value: first, Traceback: strings.Split(msg, "\n")}}
}

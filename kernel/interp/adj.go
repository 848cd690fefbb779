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

func init() {
	RegisterMagic("adj", adjMagic)
}

var (
	adjMu       sync.Mutex
	adjSessions = map[*Interp]*dsl.Session{}
)

func adjSession(i *Interp) *dsl.Session {
	adjMu.Lock()
	defer adjMu.Unlock()
	s, ok := adjSessions[i]
	if !ok {
		s = dsl.NewSession()
		adjSessions[i] = s
	}
	return s
}

// adjOutput forwards a script's prints and displays to the cell's output.
type adjOutput struct{ out Output }

func (o adjOutput) Print(text string)     { o.out.Stream("stdout", text) }
func (o adjOutput) Show(b display.Bundle) { o.out.Display(b, "", false) }

func adjMagic(ctx context.Context, i *Interp, args, body string, out Output) Result {
	s := adjSession(i)
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

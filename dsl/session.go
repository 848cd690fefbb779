package dsl

import (
	"context"
	"fmt"

	"adjoint/lib/display"
)

// Output receives what a script prints and shows.
type Output interface {
	Print(text string)
	Show(b display.Bundle)
}

// Binding is a name declared by a script and its Go value: a system is an *energy.System,
// an sde an *SDE, a sampler an *adjoint.Sampler, samples an *adjoint.Samples.
type Binding struct {
	Name  string
	Value any
}

// Session executes scripts; declarations persist from one Exec to the next.
type Session struct {
	params map[string]float64
	values map[string]any
}

// NewSession returns an empty session.
func NewSession() *Session {
	return &Session{params: map[string]float64{}, values: map[string]any{}}
}

// Exec parses, checks and runs src. It returns the names the script declared.
func (s *Session) Exec(ctx context.Context, src, filename string, out Output) ([]Binding, error) {
	prog, err := Parse(src, filename)
	if err != nil {
		return nil, err
	}
	var binds []Binding
	var errs []*Error
	for _, st := range prog.Stmts {
		switch st := st.(type) {
		case *Let:
			errs = append(errs, evalLets(st, s.params)...)
		case *SystemDecl:
			sys, e := compileSystem(st, s.params)
			if len(e) > 0 {
				errs = append(errs, e...)
				continue
			}
			s.values[st.Name.Name] = sys
			binds = append(binds, Binding{st.Name.Name, sys})
		}
	}
	if len(errs) > 0 {
		attach(errs, filename, src)
		return nil, ErrorList(errs)
	}
	_ = fmt.Sprint
	return binds, nil
}

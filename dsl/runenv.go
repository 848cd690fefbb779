package dsl

import (
	"fmt"
	"path/filepath"
	"strings"

	"adjoint/lib/adjoint"
	"adjoint/lib/display"
	"adjoint/lib/energy"
	"adjoint/lib/npy"
)

type runEnv struct {
	s   *Session
	out Output
	bb  []Binding
}

func (e *runEnv) bind(name string, v any) {
	e.s.values[name] = v
	if f, ok := v.(float64); ok {
		e.s.params[name] = f
	}
	e.bb = append(e.bb, Binding{name, v})
}

func (e *runEnv) system(name string) (*energy.System, error) {
	if v, ok := e.s.values[name].(*energy.System); ok {
		return v, nil
	}
	return energy.Benchmark(name)
}

// samples returns the configurations of samples or data, and the system they belong to.
func (e *runEnv) samples(name string) ([]float64, *energy.System, error) {
	switch v := e.s.values[name].(type) {
	case *adjoint.Samples:
		return v.X, e.s.origin[v], nil
	case *npy.Array:
		return v.Data, nil, nil
	}
	return nil, nil, fmt.Errorf("%s holds no samples", name)
}

func (e *runEnv) print(v any) {
	if e.out == nil {
		return
	}
	if sm, ok := v.(*adjoint.Samples); ok {
		v = e.s.samplesTable(sm)
	}
	switch x := v.(type) {
	case string:
		e.out.Print(x + "\n")
	case fmt.Stringer:
		e.out.Print(x.String() + "\n")
	case display.Renderer:
		if t, ok := x.MIMEBundle().Data[display.MIMEText].(string); ok {
			e.out.Print(t + "\n")
			return
		}
		e.out.Print(fmt.Sprint(v) + "\n")
	default:
		e.out.Print(fmt.Sprint(v) + "\n")
	}
}

func (e *runEnv) show(v any) {
	if e.out == nil {
		return
	}
	if sm, ok := v.(*adjoint.Samples); ok {
		v = e.s.samplesTable(sm)
	}
	if r, ok := v.(display.Renderer); ok {
		e.out.Show(r.MIMEBundle())
		return
	}
	if sys, ok := v.(*energy.System); ok {
		e.out.Show(systemTable(sys).MIMEBundle())
		return
	}
	e.out.Show(display.Text(fmt.Sprint(v)))
}

func systemTable(sys *energy.System) *display.Table {
	t := &display.Table{Caption: "system " + sys.Name, Header: []string{"property", "value"}}
	t.AddRow("particles", sys.Energy.Particles())
	t.AddRow("dimensions", sys.Energy.SpatialDim())
	t.AddRow("temperature", sys.Tau())
	var sym []string
	if sys.Symmetry.Translation {
		sym = append(sym, "translation")
	}
	if sys.Symmetry.Rotation {
		sym = append(sym, "rotation")
	}
	if sys.Symmetry.Permutation {
		sym = append(sym, "permutation")
	}
	t.AddRow("symmetry", strings.Join(sym, ", "))
	if sys.Periodic() {
		t.AddRow("periodic box", fmt.Sprint(sys.Box))
	}
	return t
}

// path places a file named in a script: relative paths are taken from the session's Dir when
// it is set, else from the working directory of the run, as by every other command-line tool.
func (s *Session) path(p string) string {
	if filepath.IsAbs(p) || s.Dir == "" {
		return p
	}
	return filepath.Join(s.Dir, p)
}

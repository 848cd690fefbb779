package dsl

import (
	"fmt"
	"sync"

	"adjoint/lib/display"
	"adjoint/lib/sde"
)

// SDE is a declared noise schedule with its time grid.
type SDE struct {
	Name     string
	Schedule sde.Schedule
	Steps    int // Euler–Maruyama steps over [0, 1] (0: the sampler's default)
}

func (s *SDE) String() string {
	return fmt.Sprintf("sde %s: σ = %s, %d steps", s.Name, s.Schedule.Name(), s.Steps)
}

// MIMEBundle renders the sde as a small table.
func (s *SDE) MIMEBundle() display.Bundle {
	t := &display.Table{Caption: "sde " + s.Name, Header: []string{"setting", "value"}}
	t.AddRow("σ(t)", s.Schedule.Name())
	t.AddRow("κ(1)", s.Schedule.Kappa(1))
	t.AddRow("steps", s.Steps)
	return t.MIMEBundle()
}

func (c *checker) sde(st *SDEDecl) *SDE {
	out := &SDE{Name: st.Name.Name}
	if st.Steps != nil {
		n, ok := c.posInt(st.Steps, "steps")
		if !ok {
			return nil
		}
		out.Steps = n
	}
	if st.Sigma == nil {
		c.errorf(st.Name.P, "add sigma = geometric(1e-3, 1.5), sigma = constant(1) or sigma(t) = EXPRESSION", "sde %s has no sigma", st.Name.Name)
		return nil
	}
	if st.SigmaVar != nil {
		f, errs := compileSigma(st.SigmaVar.Name, st.Sigma, c.params)
		if len(errs) > 0 {
			c.errs = append(c.errs, errs...)
			return nil
		}
		sch, err := sde.FromFunc(st.Name.Name, f)
		if err != nil {
			c.errorf(st.Sigma.At(), "σ(t) must be finite and ≥ 0 on [0, 1], and not zero everywhere", "%v", err)
			return nil
		}
		// the sde's own text with the script's parameters, so that a checkpoint rebuilds it
		out.Schedule = sde.WithSource(sch, systemSource(c.src, st.P, c.params))
		return out
	}
	switch e := st.Sigma.(type) {
	case *Call:
		switch e.Fun {
		case "geometric", "constant":
			want := map[string]int{"geometric": 2, "constant": 1}[e.Fun]
			if len(e.Args) != want || len(e.Named) > 0 {
				c.errorf(e.P, map[string]string{"geometric": "geometric(sigma_min, sigma_max)", "constant": "constant(sigma)"}[e.Fun],
					"%s takes %d argument%s, got %d", e.Fun, want, plural(want), len(e.Args)+len(e.Named))
				return nil
			}
			vals := make([]float64, want)
			for i, a := range e.Args {
				v, ok := c.constant(a)
				if !ok {
					return nil
				}
				vals[i] = v
			}
			var sch sde.Schedule
			var err error
			if e.Fun == "geometric" {
				sch, err = sde.Geometric(vals[0], vals[1])
			} else {
				sch, err = sde.Constant(vals[0])
			}
			if err != nil {
				c.errorf(e.P, "", "%v", err)
				return nil
			}
			out.Schedule = sch
			return out
		}
		c.errorf(e.P, orList(nearest(e.Fun, []string{"geometric", "constant"}), "write sigma(t) = EXPRESSION for your own schedule"), "unknown schedule %q", e.Fun)
		return nil
	}
	v, ok := c.posFloat(st.Sigma, "sigma")
	if !ok {
		return nil
	}
	sch, err := sde.Constant(v)
	if err != nil {
		c.errorf(st.Sigma.At(), "", "%v", err)
		return nil
	}
	out.Schedule = sch
	return out
}

// compileSigma compiles σ(t) to a function evaluated by a one-lane tape.
func compileSigma(tvar string, e Expr, params map[string]float64) (func(float64) float64, []*Error) {
	l := &lowerer{mode: modeSigma, params: params, tvar: tvar}
	l.top = newCtx(nil)
	l.cur = l.top
	l.top.g.input(0)
	id, ok := l.needScalar(e)
	if !ok || len(l.errs) > 0 {
		return nil, l.errs
	}
	t := compileTape(l.top.g, []int32{id})
	pool := sync.Pool{New: func() any {
		b := make([]float64, max(1, t.nslots))
		t.fillConsts(b, 1)
		return &b
	}}
	return func(x float64) float64 {
		bp := pool.Get().(*[]float64)
		b := *bp
		b[0] = x
		t.run(b, 1, 1)
		v := 0.0
		if o := t.outs[0]; o >= 0 {
			v = b[o]
		}
		pool.Put(bp)
		return v
	}, nil
}

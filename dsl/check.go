package dsl

import (
	"context"
	"fmt"
	"math"
	"strings"

	"adjoint/lib/adjoint"
	"adjoint/lib/energy"
	"adjoint/lib/npy"
)

// kinds of script names
type nameKind int

const (
	kParam nameKind = iota + 1
	kSystem
	kSDE
	kSampler
	kSamples
	kData
)

var kindNames = map[nameKind]string{kParam: "a parameter", kSystem: "a system", kSDE: "an sde", kSampler: "a sampler", kSamples: "samples", kData: "data"}

func kindOf(v any) nameKind {
	switch v.(type) {
	case float64:
		return kParam
	case *energy.System:
		return kSystem
	case *SDE:
		return kSDE
	case *adjoint.Sampler:
		return kSampler
	case *adjoint.Samples:
		return kSamples
	case *npy.Array:
		return kData
	}
	return 0
}

// step is one checked statement, ready to run.
type step struct {
	pos   Pos
	run   func(ctx context.Context, env *runEnv) error
	cheap bool // a declaration that runs at once (let, system, sde, sampler, print)
}

// checker checks a program against the names a session knows and plans its execution.
type checker struct {
	s      *Session
	kinds  map[string]nameKind
	params map[string]float64
	errs   []*Error
	steps  []step
	saved  map[string]bool // absolute paths the script writes, for the check of later loads
	// what the log weights of samples are worth, by name (absent: importance weights)
	weights map[string]weighting
	// the source being checked, for errors found while running (non-finite energies)
	file, src string
}

func (c *checker) errorf(p Pos, hint, format string, args ...any) {
	if len(c.errs) < 30 {
		c.errs = append(c.errs, &Error{Pos: p, Msg: fmt.Sprintf(format, args...), Hint: hint})
	}
}

func (c *checker) names(k nameKind) []string {
	var out []string
	for n, kk := range c.kinds {
		if kk == k {
			out = append(out, n)
		}
	}
	return out
}

// lookup checks that id names a value of one of the kinds.
func (c *checker) lookup(id *Ident, want ...nameKind) (nameKind, bool) {
	k, ok := c.kinds[id.Name]
	if !ok {
		if len(want) == 1 && want[0] == kSystem {
			if _, err := energy.Benchmark(id.Name); err == nil {
				return kSystem, true
			}
		}
		var cands []string
		for _, w := range want {
			cands = append(cands, c.names(w)...)
			if w == kSystem {
				cands = append(cands, "dw4", "lj13", "lj55")
			}
		}
		if len(cands) == 0 {
			for n := range c.kinds {
				cands = append(cands, n)
			}
		}
		hint := nearest(id.Name, cands)
		if hint == "" && len(want) > 0 {
			hint = "declare " + kindNames[want[0]] + " first"
		}
		c.errorf(id.P, hint, "unknown name %q", id.Name)
		return 0, false
	}
	for _, w := range want {
		if k == w {
			return k, true
		}
	}
	var ws []string
	for _, w := range want {
		ws = append(ws, kindNames[w])
	}
	c.errorf(id.P, nearest(id.Name, c.names(want[0])), "%s is %s, %s is needed here", id.Name, kindNames[k], strings.Join(ws, " or "))
	return 0, false
}

// value checks an expression that names a script value (samples, data, a sampler, a system).
func (c *checker) valueArg(e Expr, want ...nameKind) (*Ident, bool) {
	id, ok := e.(*Ident)
	if !ok {
		var ws []string
		for _, w := range want {
			ws = append(ws, kindNames[w])
		}
		c.errorf(e.At(), "", "expected the name of %s", strings.Join(ws, " or "))
		return nil, false
	}
	_, ok = c.lookup(id, want...)
	return id, ok
}

func (c *checker) constant(e Expr) (float64, bool) {
	v, errs := constValue(e, c.params)
	c.errs = append(c.errs, errs...)
	return v, len(errs) == 0
}

func (c *checker) posInt(e Expr, what string) (int, bool) {
	v, ok := c.constant(e)
	if !ok {
		return 0, false
	}
	if v != math.Trunc(v) || v < 1 || v > 1e9 {
		c.errorf(e.At(), "", "%s must be a whole number ≥ 1, got %g", what, v)
		return 0, false
	}
	return int(v), true
}

func (c *checker) posFloat(e Expr, what string) (float64, bool) {
	v, ok := c.constant(e)
	if !ok {
		return 0, false
	}
	if !(v > 0) || math.IsInf(v, 0) {
		c.errorf(e.At(), "", "%s must be positive, got %g", what, v)
		return 0, false
	}
	return v, true
}

func (c *checker) add(p Pos, f func(ctx context.Context, env *runEnv) error) {
	c.steps = append(c.steps, step{pos: p, run: f})
}

// cheap marks the last added step as a quick declaration.
func (c *checker) cheap() {
	if len(c.steps) > 0 {
		c.steps[len(c.steps)-1].cheap = true
	}
}

func (c *checker) stmt(st Stmt) {
	switch st := st.(type) {
	case *Let:
		before := len(c.errs)
		for _, n := range st.Names {
			if k, ok := c.kinds[n.Name]; ok && k != kParam {
				c.errorf(n.P, "choose another name", "%s is already %s", n.Name, kindNames[k])
			}
		}
		if len(c.errs) > before {
			return
		}
		c.errs = append(c.errs, evalLets(st, c.params)...)
		vals := map[string]float64{}
		for _, n := range st.Names {
			c.kinds[n.Name] = kParam
			vals[n.Name] = c.params[n.Name]
		}
		c.add(st.P, func(ctx context.Context, env *runEnv) error {
			for _, n := range st.Names {
				env.bind(n.Name, vals[n.Name])
			}
			return nil
		})
		c.cheap()
	case *SystemDecl:
		sys, errs := compileSystem(st, c.params)
		c.errs = append(c.errs, errs...)
		if sys != nil {
			if en, ok := sys.Energy.(*Energy); ok {
				en.file, en.src = nameOr(c.file), c.src
			}
		}
		c.kinds[st.Name.Name] = kSystem
		if sys == nil {
			return
		}
		sys.Source = systemSource(c.src, st.P, c.params)
		c.add(st.P, func(ctx context.Context, env *runEnv) error {
			registryMu.Lock()
			registry[sys.Name] = sys
			registryMu.Unlock()
			env.bind(st.Name.Name, sys)
			return nil
		})
		c.cheap()
	case *SDEDecl:
		c.kinds[st.Name.Name] = kSDE
		v := c.sde(st)
		if v == nil {
			return
		}
		c.add(st.P, func(ctx context.Context, env *runEnv) error {
			env.bind(st.Name.Name, v)
			return nil
		})
		c.cheap()
	case *SamplerDecl:
		c.sampler(st)
	case *Assign:
		c.assign(st)
	case *Refine:
		c.refine(st, st.X.Name)
	case *Train:
		c.train(st)
	case *Command:
		c.command(st)
	case *Save:
		c.save(st)
	}
}

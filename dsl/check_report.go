package dsl

import (
	"context"
	"fmt"

	"adjoint/lib/metrics"
	"adjoint/lib/npy"
)

func (c *checker) command(st *Command) {
	switch st.Verb {
	case "print":
		if id, ok := st.X.(*Ident); ok {
			if _, known := c.kinds[id.Name]; known {
				c.add(st.P, func(ctx context.Context, env *runEnv) error {
					env.print(env.s.values[id.Name])
					return nil
				})
				return
			}
		}
		if s, ok := st.X.(*Str); ok {
			c.add(st.P, func(ctx context.Context, env *runEnv) error { env.print(s.Val); return nil })
			return
		}
		v, ok := c.constant(st.X)
		if !ok {
			return
		}
		c.add(st.P, func(ctx context.Context, env *runEnv) error { env.print(fmt.Sprint(v)); return nil })
	case "report":
		if call, ok := st.X.(*Call); ok && call.Fun == "eval" {
			c.eval(st, call)
			return
		}
		if call, ok := st.X.(*Call); ok {
			c.errorf(call.P, orList(nearest(call.Fun, []string{"eval"}), "report eval(SAMPLES, \"REF.npy\") or report NAME"), "unknown report %q", call.Fun)
			return
		}
		id, ok := c.valueArg(st.X, kSamples, kSampler, kSystem, kSDE, kData, kParam)
		if !ok {
			return
		}
		c.add(st.P, func(ctx context.Context, env *runEnv) error {
			env.show(env.s.values[id.Name])
			return nil
		})
	case "plot":
		call, ok := st.X.(*Call)
		if !ok {
			c.errorf(st.X.At(), "plots are "+joinWords(scriptPlotNames()), "plot needs a figure, e.g. plot energy_hist(x)")
			return
		}
		c.plot(st, call)
	}
}

// evalSettings are the named settings of eval(…); the command line's adjoint eval has the
// same as flags (-n, --seed, --pair-cutoff).
var evalSettings = []string{"n", "system", "seed", "pair_cutoff"}

func (c *checker) eval(st *Command, call *Call) {
	run, ok := c.evalFn(call)
	if !ok {
		return
	}
	c.add(st.P, func(ctx context.Context, env *runEnv) error {
		rep, err := run(ctx, env)
		if err != nil {
			return err
		}
		env.show(rep)
		return nil
	})
}

// evalFn checks eval(SAMPLES, REF [, settings]) and returns the evaluation it runs.
func (c *checker) evalFn(call *Call) (func(ctx context.Context, env *runEnv) (*metrics.Report, error), bool) {
	if len(call.Args) != 2 {
		c.errorf(call.P, "eval(SAMPLES, \"REF.npy\") or eval(SAMPLES, DATA)", "eval takes 2 arguments, got %d", len(call.Args))
		return nil, false
	}
	x, ok := c.valueArg(call.Args[0], kSamples, kData)
	if !ok {
		return nil, false
	}
	ref, ok := c.refArg(call.Args[1])
	if !ok {
		return nil, false
	}
	var sysName *Ident
	var sets []func(*metrics.EvalOptions)
	for _, a := range call.Named {
		switch a.Key.Name {
		case "n":
			if v, ok := c.posInt(a.Value, "n"); ok {
				sets = append(sets, func(o *metrics.EvalOptions) { o.N = v })
			}
		case "seed":
			if v, ok := c.constant(a.Value); ok {
				sets = append(sets, func(o *metrics.EvalOptions) { o.Seed = uint64(max(v, 0)) })
			}
		case "pair_cutoff":
			if v, ok := c.constant(a.Value); ok {
				sets = append(sets, func(o *metrics.EvalOptions) { o.PairCutoff = v })
			}
		case "system":
			if id, ok := c.valueArg(a.Value, kSystem); ok {
				sysName = id
			}
		default:
			c.errorf(a.Key.P, orList(nearest(a.Key.Name, evalSettings), "settings are "+joinWords(evalSettings)), "unknown eval setting %q", a.Key.Name)
		}
	}
	return func(ctx context.Context, env *runEnv) (*metrics.Report, error) {
		gen, sys, err := env.samples(x.Name)
		if err != nil {
			return nil, err
		}
		if sysName != nil {
			if sys, err = env.system(sysName.Name); err != nil {
				return nil, err
			}
		}
		if sys == nil {
			return nil, fmt.Errorf("eval: the system of %s is unknown: add system SYSTEM to the call, e.g. eval(x, \"ref.npy\", system dw4)", x.Name)
		}
		r, err := ref(env)
		if err != nil {
			return nil, err
		}
		opt := EvalDefaults(sys)
		for _, f := range sets {
			f(&opt)
		}
		rep, err := metrics.EvaluateContext(ctx, sys, gen, r, opt)
		if err != nil {
			return nil, fmt.Errorf("eval: %w", err)
		}
		return rep, nil
	}, true
}

// refArg checks a reference argument: a file name or a data name.
func (c *checker) refArg(e Expr) (func(env *runEnv) ([]float64, error), bool) {
	if s, ok := e.(*Str); ok {
		c.inputFile(s, "reference file")
		return func(env *runEnv) ([]float64, error) {
			a, err := npy.ReadFile(env.s.path(s.Val))
			if err != nil {
				return nil, fmt.Errorf("reference: %w", err)
			}
			return a.Data, nil
		}, true
	}
	id, ok := c.valueArg(e, kData, kSamples)
	if !ok {
		return nil, false
	}
	return func(env *runEnv) ([]float64, error) {
		x, _, err := env.samples(id.Name)
		return x, err
	}, true
}

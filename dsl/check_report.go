package dsl

import (
	"context"
	"fmt"

	"adjoint/lib/adjoint"
	"adjoint/lib/metrics"
	"adjoint/lib/npy"
	"adjoint/lib/viz"
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
			c.errorf(st.X.At(), "plots are "+joinWords(plotNames), "plot needs a figure, e.g. plot energy_hist(x)")
			return
		}
		c.plot(st, call)
	}
}

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

// evalFn checks eval(SAMPLES, REF [, n N] [, system S]) and returns the evaluation it runs.
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
	opt := metrics.EvalOptions{}
	for _, a := range call.Named {
		switch a.Key.Name {
		case "n":
			v, ok := c.posInt(a.Value, "n")
			if ok {
				opt.N = v
			}
		case "system":
			id, ok := c.valueArg(a.Value, kSystem)
			if ok {
				sysName = id
			}
		default:
			c.errorf(a.Key.P, nearest(a.Key.Name, []string{"n", "system"}), "unknown eval setting %q", a.Key.Name)
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

var plotNames = []string{"energy_hist", "dist_hist", "particles", "marginals", "weights", "contour", "loss"}

func (c *checker) plot(st *Command, call *Call) {
	run, ok := c.figureFn(call)
	if !ok {
		return
	}
	c.add(st.P, func(ctx context.Context, env *runEnv) error {
		f, err := run(ctx, env)
		if err != nil {
			return err
		}
		env.show(f)
		return nil
	})
}

// isFigure reports whether call names a figure (plot energy_hist(x), save loss(s) "l.png").
func isFigure(call *Call) bool {
	for _, n := range plotNames {
		if call.Fun == n {
			return true
		}
	}
	return false
}

// figureFn checks a figure call and returns the function that draws it.
func (c *checker) figureFn(call *Call) (func(ctx context.Context, env *runEnv) (*viz.Figure, error), bool) {
	opt := viz.Options{}
	for _, a := range call.Named {
		switch a.Key.Name {
		case "title":
			if s, ok := a.Value.(*Str); ok {
				opt.Title = s.Val
			} else {
				c.errorf(a.Value.At(), "write title \"…\"", "title must be a string")
			}
		case "bins":
			if v, ok := c.posInt(a.Value, "bins"); ok {
				opt.Bins = v
			}
		default:
			c.errorf(a.Key.P, nearest(a.Key.Name, []string{"title", "bins"}), "unknown plot setting %q", a.Key.Name)
		}
	}
	nargs := map[string][2]int{"energy_hist": {1, 2}, "dist_hist": {1, 2}, "particles": {1, 1}, "marginals": {1, 2}, "weights": {1, 1}, "contour": {5, 6}, "loss": {1, 1}}
	ar, ok := nargs[call.Fun]
	if !ok {
		c.errorf(call.P, orList(nearest(call.Fun, plotNames), "plots are "+joinWords(plotNames)), "unknown plot %q", call.Fun)
		return nil, false
	}
	if len(call.Args) < ar[0] || len(call.Args) > ar[1] {
		c.errorf(call.P, plotSignature(call.Fun), "%s takes %d to %d arguments, got %d", call.Fun, ar[0], ar[1], len(call.Args))
		return nil, false
	}
	switch call.Fun {
	case "contour":
		return c.contourFn(call, opt)
	case "loss":
		id, ok := c.valueArg(call.Args[0], kSampler)
		if !ok {
			return nil, false
		}
		return func(ctx context.Context, env *runEnv) (*viz.Figure, error) {
			losses := env.s.values[id.Name].(*adjoint.Sampler).LossHistory()
			if len(losses) == 0 {
				return nil, fmt.Errorf("plot loss: %s has not been trained", id.Name)
			}
			steps := make([]float64, len(losses))
			for i := range steps {
				steps[i] = float64(i + 1)
			}
			f, err := viz.TrainingCurve(steps, losses, opt)
			if err != nil {
				return nil, fmt.Errorf("plot loss: %w", err)
			}
			return f, nil
		}, true
	}
	x, ok := c.valueArg(call.Args[0], kSamples)
	if !ok {
		return nil, false
	}
	var ref func(env *runEnv) ([]float64, error)
	if len(call.Args) == 2 {
		if ref, ok = c.refArg(call.Args[1]); !ok {
			return nil, false
		}
	}
	fun := call.Fun
	return func(ctx context.Context, env *runEnv) (*viz.Figure, error) {
		smp := env.s.values[x.Name].(*adjoint.Samples)
		var r []float64
		if ref != nil {
			var err error
			if r, err = ref(env); err != nil {
				return nil, err
			}
		}
		var f *viz.Figure
		var err error
		switch fun {
		case "energy_hist":
			var re []float64
			if r != nil {
				sys := env.s.origin[smp]
				if sys == nil {
					return nil, fmt.Errorf("plot energy_hist: the system of %s is unknown", x.Name)
				}
				nd := sys.Dim()
				re = make([]float64, len(r)/nd)
				sys.Energy.EnergyGrad(r[:len(re)*nd], re, nil)
			}
			f, err = viz.EnergyHist(smp.Energy, re, opt)
		case "dist_hist":
			f, err = viz.DistanceHist(smp.X, r, smp.Particles, smp.SpatialDim, opt)
		case "particles":
			f, err = viz.Particles(smp.X, smp.Particles, smp.SpatialDim, opt)
		case "marginals":
			f, err = viz.Marginals(smp.X, smp.Particles*smp.SpatialDim, r, opt)
		case "weights":
			f, err = viz.WeightHist(smp.LogW, opt)
		}
		if err != nil {
			return nil, fmt.Errorf("plot %s: %w", fun, err)
		}
		return f, nil
	}, true
}

// contourFn checks contour(SYSTEM, xmin, xmax, ymin, ymax [, SAMPLES]).
func (c *checker) contourFn(call *Call, opt viz.Options) (func(ctx context.Context, env *runEnv) (*viz.Figure, error), bool) {
	sysID, ok := c.valueArg(call.Args[0], kSystem)
	if !ok {
		return nil, false
	}
	var lims [4]float64
	for i := range lims {
		v, ok := c.constant(call.Args[1+i])
		if !ok {
			return nil, false
		}
		lims[i] = v
	}
	var xs *Ident
	if len(call.Args) == 6 {
		if xs, ok = c.valueArg(call.Args[5], kSamples, kData); !ok {
			return nil, false
		}
	}
	return func(ctx context.Context, env *runEnv) (*viz.Figure, error) {
		sys, err := env.system(sysID.Name)
		if err != nil {
			return nil, err
		}
		var pts []float64
		if xs != nil {
			pts, _, _ = env.samples(xs.Name)
		}
		f, err := viz.EnergyContour(sys.Energy, lims[0], lims[1], lims[2], lims[3], pts, opt)
		if err != nil {
			return nil, fmt.Errorf("plot contour: %w", err)
		}
		return f, nil
	}, true
}

func plotSignature(f string) string {
	return map[string]string{
		"energy_hist": "energy_hist(SAMPLES [, REF])", "dist_hist": "dist_hist(SAMPLES [, REF])",
		"particles": "particles(SAMPLES)", "marginals": "marginals(SAMPLES [, REF])", "weights": "weights(SAMPLES)",
		"contour": "contour(SYSTEM, xmin, xmax, ymin, ymax [, SAMPLES])", "loss": "loss(SAMPLER)",
	}[f]
}

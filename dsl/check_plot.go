package dsl

import (
	"context"
	"fmt"

	"adjoint/lib/adjoint"
	"adjoint/lib/viz"
)

// figureFunc draws a checked figure when the script runs.
type figureFunc func(ctx context.Context, env *runEnv) (*viz.Figure, error)

// plot checks plot NAME(…) against the figures of PlotKinds that scripts draw.
func (c *checker) plot(st *Command, call *Call) {
	draw, ok := c.figure(call)
	if !ok {
		return
	}
	c.add(st.P, func(ctx context.Context, env *runEnv) error {
		f, err := draw(ctx, env)
		if err != nil {
			return err
		}
		env.show(f)
		return nil
	})
}

// isFigure reports whether call names a figure that scripts draw.
func isFigure(call *Call) bool {
	_, ok := scriptPlot(call.Fun)
	return ok
}

// figure checks a figure call (plot NAME(…), save NAME(…) "f.png") and returns what draws it.
func (c *checker) figure(call *Call) (figureFunc, bool) {
	opt := c.plotOptions(call)
	kind, ok := scriptPlot(call.Fun)
	if !ok {
		names := scriptPlotNames()
		c.errorf(call.P, orList(nearest(call.Fun, names), "plots are "+joinWords(names)), "unknown plot %q", call.Fun)
		return nil, false
	}
	if len(call.Args) < kind.MinArgs || len(call.Args) > kind.MaxArgs {
		c.errorf(call.P, kind.Script, "%s takes %d to %d arguments, got %d", call.Fun, kind.MinArgs, kind.MaxArgs, len(call.Args))
		return nil, false
	}
	switch call.Fun {
	case "contour":
		return c.contourPlot(call, opt)
	case "loss":
		return c.lossPlot(call, opt)
	}
	return c.samplesPlot(call, opt)
}

// lossPlot checks loss(SAMPLER): the training curve, one mean loss per epoch.
func (c *checker) lossPlot(call *Call, opt viz.Options) (figureFunc, bool) {
	id, ok := c.valueArg(call.Args[0], kSampler)
	if !ok {
		return nil, false
	}
	return func(ctx context.Context, env *runEnv) (*viz.Figure, error) {
		losses := env.s.values[id.Name].(*adjoint.Sampler).LossHistory()
		if len(losses) == 0 {
			return nil, fmt.Errorf("plot loss: %s has not been trained", id.Name)
		}
		epochs := make([]float64, len(losses))
		for i := range epochs {
			epochs[i] = float64(i + 1)
		}
		f, err := viz.TrainingCurve(epochs, losses, opt)
		if err != nil {
			return nil, fmt.Errorf("plot loss: %w", err)
		}
		return f, nil
	}, true
}

// plotOptions checks the named settings of a plot: title and bins.
func (c *checker) plotOptions(call *Call) viz.Options {
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
	return opt
}

// contourPlot checks contour(SYSTEM, xmin, xmax, ymin, ymax [, SAMPLES]).
func (c *checker) contourPlot(call *Call, opt viz.Options) (figureFunc, bool) {
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

// samplesPlot checks the figures of samples, with an optional reference.
func (c *checker) samplesPlot(call *Call, opt viz.Options) (figureFunc, bool) {
	x, ok := c.valueArg(call.Args[0], kSamples)
	if !ok || call.Fun == "weights" && !c.hasWeights(x) {
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

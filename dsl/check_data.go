package dsl

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"adjoint/internal/outpath"
	"adjoint/lib/adjoint"
	"adjoint/lib/npy"
	"adjoint/lib/sde"
)

func (c *checker) assign(st *Assign) {
	name := st.Name.Name
	switch v := st.Value.(type) {
	case *Sample:
		c.sampleStep(st, v)
	case *Refine:
		c.refine(v, name)
	case *Load:
		delete(c.weights, name)
		path := v.Path.Val
		c.inputFile(v.Path, "file")
		if strings.HasSuffix(strings.ToLower(path), ".npy") {
			c.kinds[name] = kData
			c.add(st.P, func(ctx context.Context, env *runEnv) error {
				a, err := npy.ReadFile(env.s.path(path))
				if err != nil {
					return fmt.Errorf("load: %w", err)
				}
				env.bind(name, a)
				return nil
			})
			return
		}
		if v.With != nil {
			if _, ok := c.lookup(v.With, kSDE); !ok {
				return
			}
		}
		c.kinds[name] = kSampler
		c.add(st.P, func(ctx context.Context, env *runEnv) error {
			var sched sde.Schedule
			if v.With != nil {
				sched = env.s.values[v.With.Name].(*SDE).Schedule
			}
			opt := LoadOptions()
			opt.Schedule = sched
			smp, err := adjoint.LoadCheckpoint(env.s.path(path), opt)
			if err != nil {
				return fmt.Errorf("load: %w", err)
			}
			env.bind(name, smp)
			env.s.origin[smp] = smp.Config().System
			return nil
		})
	default:
		delete(c.weights, name)
		if k, ok := c.kinds[name]; ok && k != kParam {
			c.errorf(st.Name.P, "choose another name", "%s is already %s", name, kindNames[k])
			return
		}
		v2, ok := c.constant(st.Value)
		if !ok {
			return
		}
		c.kinds[name] = kParam
		c.params[name] = v2
		c.add(st.P, func(ctx context.Context, env *runEnv) error {
			env.bind(name, v2)
			return nil
		})
		c.cheap()
	}
}

// save checks `save X "file"`. What is written follows from X and the file's extension: a
// sampler → a checkpoint, samples → their configurations (.npy), weights(X) → the log importance
// weights (.npy), eval(…) → the metrics (.json), a figure (energy_hist(…), loss(S), …) → .png or
// .svg. The folder of the file is checked for writing now, before anything runs.
func (c *checker) save(st *Save) {
	path := st.Path.Val
	ext := strings.ToLower(filepath.Ext(path))
	var write func(ctx context.Context, env *runEnv, p string) error
	what := "output"
	switch x := st.X.(type) {
	case *Call:
		write, what = c.saveCall(st, x, ext)
	default:
		id, ok := c.valueArg(st.X, kSampler, kSamples)
		if !ok {
			return
		}
		if c.kinds[id.Name] == kSampler {
			what = "checkpoint"
		} else {
			what = "samples file"
		}
		write = func(ctx context.Context, env *runEnv, p string) error {
			switch v := env.s.values[id.Name].(type) {
			case *adjoint.Sampler:
				return v.Save(p)
			case *adjoint.Samples:
				return v.SaveNPY(p)
			}
			return fmt.Errorf("%s holds nothing to save", id.Name)
		}
	}
	if write == nil {
		return
	}
	c.outputFile(st.Path, what)
	c.add(st.P, func(ctx context.Context, env *runEnv) error {
		p := env.s.path(path)
		if err := write(ctx, env, p); err != nil {
			return fmt.Errorf("save %s: %w", path, err)
		}
		env.print(fmt.Sprintf("saved %s to %s", exprName(st.X), p))
		return nil
	})
}

// saveCall checks `save weights(X) "w.npy"`, `save eval(…) "m.json"` and `save FIGURE "f.png"`.
func (c *checker) saveCall(st *Save, call *Call, ext string) (func(ctx context.Context, env *runEnv, p string) error, string) {
	switch {
	case call.Fun == "weights" && ext == ".npy":
		if len(call.Args) != 1 || len(call.Named) > 0 {
			c.errorf(call.P, "save weights(SAMPLES) \"logw.npy\"", "weights takes one argument, the samples")
			return nil, ""
		}
		id, ok := c.valueArg(call.Args[0], kSamples)
		if !ok || !c.hasWeights(id) {
			return nil, ""
		}
		return func(ctx context.Context, env *runEnv, p string) error {
			return env.s.values[id.Name].(*adjoint.Samples).SaveWeightsNPY(p)
		}, "weights file"
	case call.Fun == "eval":
		if ext != ".json" {
			c.errorf(st.Path.P, "write the metrics to a .json file", "eval results are saved as JSON, not %q", ext)
			return nil, ""
		}
		run, ok := c.evalFn(call)
		if !ok {
			return nil, ""
		}
		return func(ctx context.Context, env *runEnv, p string) error {
			rep, err := run(ctx, env)
			if err != nil {
				return err
			}
			env.show(rep)
			b, err := json.Marshal(rep)
			if err != nil {
				return fmt.Errorf("encode metrics: %w", err)
			}
			return os.WriteFile(p, append(b, '\n'), 0o644)
		}, "metrics file"
	case isFigure(call):
		if ext != ".png" && ext != ".svg" {
			hint := "figures are saved as .png or .svg"
			if call.Fun == "weights" {
				hint = "save weights(X) \"logw.npy\" writes the log-weights, \".png\" or \".svg\" their histogram"
			}
			c.errorf(st.Path.P, hint, "cannot save the figure %s as %q", call.Fun, ext)
			return nil, ""
		}
		run, ok := c.figure(call)
		if !ok {
			return nil, ""
		}
		return func(ctx context.Context, env *runEnv, p string) error {
			f, err := run(ctx, env)
			if err != nil {
				return err
			}
			return f.Save(p)
		}, "figure"
	}
	c.errorf(call.P, "save a sampler, samples, weights(X), eval(…) or a figure ("+joinWords(scriptPlotNames())+")", "cannot save %s(…)", call.Fun)
	return nil, ""
}

// exprName names what a save writes, for its message.
func exprName(e Expr) string {
	switch x := e.(type) {
	case *Ident:
		return x.Name
	case *Call:
		return x.Fun
	}
	return "value"
}

// outputFile checks at check time that a file named in the script can be written (skipped in
// a dry run, which writes nothing); it also remembers the file, so that a later load of it
// checks.
func (c *checker) outputFile(s *Str, what string) {
	p := c.s.path(s.Val)
	if c.saved == nil {
		c.saved = map[string]bool{}
	}
	c.saved[outpath.Abs(p)] = true
	if c.s.DryRun {
		return
	}
	if err := outpath.Check(p, what); err != nil {
		c.errorf(s.P, "relative paths are taken from the working directory", "%v", err)
	}
}

// inputFile checks at check time that a file a script reads exists, unless the script writes
// it first (skipped in a dry run, which reads nothing).
func (c *checker) inputFile(s *Str, what string) {
	p := c.s.path(s.Val)
	if c.s.DryRun || c.saved[outpath.Abs(p)] {
		return
	}
	if err := outpath.CheckInput(p, what); err != nil {
		c.errorf(s.P, "relative paths are taken from the working directory", "%v", err)
	}
}

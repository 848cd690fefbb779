package dsl

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"adjoint/lib/adjoint"
	"adjoint/lib/display"
	"adjoint/lib/energy"
	"adjoint/lib/metrics"
	"adjoint/lib/npy"
	"adjoint/lib/sde"
	"adjoint/lib/viz"
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

// declared systems, for reloading checkpoints of DSL systems by name
var (
	registryMu sync.Mutex
	registry   = map[string]*energy.System{}
)

func init() {
	prev := adjoint.SystemResolver
	adjoint.SystemResolver = func(name string) (*energy.System, error) {
		registryMu.Lock()
		sys, ok := registry[name]
		registryMu.Unlock()
		if ok {
			c := *sys
			return &c, nil
		}
		if prev != nil {
			return prev(name)
		}
		return nil, fmt.Errorf("no system %q has been declared", name)
	}
}

// step is one checked statement, ready to run.
type step struct {
	pos   Pos
	run   func(ctx context.Context, env *runEnv) error
	cheap bool // a declaration that runs at once (let, system, sde, sampler, print)
}

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

// checker checks a program against the names a session knows and plans its execution.
type checker struct {
	s      *Session
	kinds  map[string]nameKind
	params map[string]float64
	errs   []*Error
	steps  []step
	dir    string
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
		c.kinds[st.Name.Name] = kSystem
		if sys == nil {
			return
		}
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
	case *Train:
		c.train(st)
	case *Command:
		c.command(st)
	case *Save:
		c.save(st)
	}
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
		out.Schedule = sch
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

var samplerSettings = []string{"net", "batch", "train_batch", "buffer", "grad_steps", "lr", "epochs", "clip", "seed", "steps"}

func (c *checker) sampler(st *SamplerDecl) {
	c.kinds[st.Name.Name] = kSampler
	if st.Method.Name != "adjoint" {
		c.errorf(st.Method.P, orList(nearest(st.Method.Name, []string{"adjoint"}), "the method is adjoint"), "unknown sampling method %q", st.Method.Name)
		return
	}
	if len(st.Args) < 1 || len(st.Args) > 2 {
		c.errorf(st.Method.P, "write adjoint(SYSTEM, SDE) or adjoint(SYSTEM)", "adjoint takes 1 or 2 arguments, got %d", len(st.Args))
		return
	}
	argsOK := true
	sysID, ok := st.Args[0].(*Ident)
	if !ok {
		c.errorf(st.Args[0].At(), "name a declared system", "the first argument of adjoint must be a system")
		argsOK = false
	} else if _, ok := c.lookup(sysID, kSystem); !ok {
		argsOK = false
	}
	var sdeID *Ident
	if len(st.Args) == 2 {
		sdeID, ok = st.Args[1].(*Ident)
		if !ok {
			c.errorf(st.Args[1].At(), "name a declared sde", "the second argument of adjoint must be an sde")
			argsOK = false
		} else if _, ok := c.lookup(sdeID, kSDE); !ok {
			argsOK = false
		}
	}
	type setter func(cfg *adjoint.Config)
	var sets []setter
	seen := map[string]bool{}
	for _, s := range st.Settings {
		key := s.Key.Name
		if seen[key] {
			c.errorf(s.Key.P, "", "%s set twice", key)
			continue
		}
		seen[key] = true
		switch key {
		case "net":
			call, ok := s.Value.(*Call)
			if !ok || (call.Fun != "egnn" && call.Fun != "mlp") {
				c.errorf(s.Value.At(), "write net egnn(layers 3, hidden 64) or net mlp(layers 3, hidden 64)", "net must be egnn(…) or mlp(…)")
				continue
			}
			if len(call.Args) > 0 {
				c.errorf(call.Args[0].At(), "name the arguments: egnn(layers 3, hidden 64)", "unnamed argument")
				continue
			}
			nc := adjoint.NetConfig{Kind: call.Fun}
			for _, a := range call.Named {
				v, ok := c.posInt(a.Value, a.Key.Name)
				if !ok {
					continue
				}
				switch a.Key.Name {
				case "layers":
					nc.Layers = v
				case "hidden":
					nc.Hidden = v
				default:
					c.errorf(a.Key.P, nearest(a.Key.Name, []string{"layers", "hidden"}), "unknown network setting %q", a.Key.Name)
				}
			}
			sets = append(sets, func(cfg *adjoint.Config) {
				l, h := cfg.Net.Layers, cfg.Net.Hidden
				cfg.Net = nc
				if nc.Layers == 0 {
					cfg.Net.Layers = l
				}
				if nc.Hidden == 0 {
					cfg.Net.Hidden = h
				}
			})
		case "batch", "train_batch", "buffer", "grad_steps", "epochs", "steps":
			v, ok := c.posInt(s.Value, key)
			if !ok {
				continue
			}
			sets = append(sets, func(cfg *adjoint.Config) {
				switch key {
				case "batch":
					cfg.Batch = v
					if !seen["train_batch"] {
						cfg.TrainBatch = v
					}
				case "train_batch":
					cfg.TrainBatch = v
				case "buffer":
					cfg.Buffer = v
				case "grad_steps":
					cfg.GradSteps = v
				case "epochs":
					cfg.Epochs = v
				case "steps":
					cfg.Steps = v
				}
			})
		case "lr", "clip":
			v, ok := c.posFloat(s.Value, key)
			if !ok {
				continue
			}
			sets = append(sets, func(cfg *adjoint.Config) {
				if key == "lr" {
					cfg.LR = v
				} else {
					cfg.ClipNorm = v
				}
			})
		case "seed":
			v, ok := c.constant(s.Value)
			if !ok {
				continue
			}
			sets = append(sets, func(cfg *adjoint.Config) { cfg.Seed = int64(v) })
		default:
			c.errorf(s.Key.P, orList(nearest(key, samplerSettings), "settings are "+joinWords(samplerSettings)), "unknown sampler setting %q", key)
		}
	}
	if !argsOK {
		return
	}
	name := st.Name.Name
	c.add(st.P, func(ctx context.Context, env *runEnv) error {
		sys, err := env.system(sysID.Name)
		if err != nil {
			return err
		}
		cfg := adjoint.DefaultConfig(sys)
		if !seen["net"] && sys.Symmetry.Rotation && sys.Symmetry.Permutation {
			// an E(n)-equivariant controller for systems that declare those symmetries
			cfg.Net.Kind = "egnn"
		}
		if sdeID != nil {
			v := env.s.values[sdeID.Name].(*SDE)
			cfg.Schedule = v.Schedule
			if v.Steps > 0 {
				cfg.Steps = v.Steps
			}
		}
		for _, f := range sets {
			f(&cfg)
		}
		smp, err := adjoint.NewSampler(cfg)
		if err != nil {
			return fmt.Errorf("sampler %s: %w", name, err)
		}
		env.bind(name, smp)
		env.s.origin[smp] = sys
		return nil
	})
	c.cheap()
}

func (e *runEnv) system(name string) (*energy.System, error) {
	if v, ok := e.s.values[name].(*energy.System); ok {
		return v, nil
	}
	return energy.Benchmark(name)
}

func (c *checker) assign(st *Assign) {
	name := st.Name.Name
	switch v := st.Value.(type) {
	case *Sample:
		if _, ok := c.lookup(v.Sampler, kSampler); !ok {
			return
		}
		n, ok := c.posInt(v.N, "the number of samples")
		if !ok {
			return
		}
		c.kinds[name] = kSamples
		c.add(st.P, func(ctx context.Context, env *runEnv) error {
			smp := env.s.values[v.Sampler.Name].(*adjoint.Sampler)
			x, err := smp.SampleContext(ctx, n)
			if err != nil {
				return fmt.Errorf("sample %s: %w", v.Sampler.Name, err)
			}
			env.s.origin[x] = env.s.origin[smp]
			env.bind(name, x)
			return nil
		})
	case *Load:
		path := v.Path.Val
		if strings.HasSuffix(strings.ToLower(path), ".npy") {
			c.kinds[name] = kData
			c.add(st.P, func(ctx context.Context, env *runEnv) error {
				a, err := npy.ReadFile(env.s.resolve(path))
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
			smp, err := adjoint.LoadWith(env.s.resolve(path), nil, sched)
			if err != nil {
				return fmt.Errorf("load: %w", err)
			}
			env.bind(name, smp)
			env.s.origin[smp] = smp.Config().System
			return nil
		})
	default:
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

var trainUnits = []string{"epochs", "epoch", "seconds", "second", "s", "minutes", "minute", "min", "hours", "hour", "h"}

func (c *checker) train(st *Train) {
	if _, ok := c.lookup(st.Sampler, kSampler); !ok {
		return
	}
	amount, ok := c.posFloat(st.Amount, "the training amount")
	if !ok {
		return
	}
	var opt adjoint.TrainOptions
	switch st.Unit.Name {
	case "epochs", "epoch":
		if amount != math.Trunc(amount) {
			c.errorf(st.Amount.At(), "", "the number of epochs must be whole, got %g", amount)
			return
		}
		opt.Epochs = int(amount)
	case "seconds", "second", "s":
		opt.Duration = time.Duration(amount * float64(time.Second))
	case "minutes", "minute", "min":
		opt.Duration = time.Duration(amount * float64(time.Minute))
	case "hours", "hour", "h":
		opt.Duration = time.Duration(amount * float64(time.Hour))
	default:
		c.errorf(st.Unit.P, orList(nearest(st.Unit.Name, trainUnits), "units are epochs, seconds, minutes and hours"), "unknown unit %q", st.Unit.Name)
		return
	}
	c.add(st.P, func(ctx context.Context, env *runEnv) error {
		smp := env.s.values[st.Sampler.Name].(*adjoint.Sampler)
		rep, err := smp.Train(ctx, opt)
		if rep != nil {
			env.show(rep)
		}
		if err != nil {
			return fmt.Errorf("train %s: %w", st.Sampler.Name, err)
		}
		return nil
	})
}

var plotNames = []string{"energy_hist", "dist_hist", "particles", "marginals", "weights", "contour"}

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
	if len(call.Args) != 2 {
		c.errorf(call.P, "eval(SAMPLES, \"REF.npy\") or eval(SAMPLES, DATA)", "eval takes 2 arguments, got %d", len(call.Args))
		return
	}
	x, ok := c.valueArg(call.Args[0], kSamples, kData)
	if !ok {
		return
	}
	ref, ok := c.refArg(call.Args[1])
	if !ok {
		return
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
	c.add(st.P, func(ctx context.Context, env *runEnv) error {
		gen, sys, err := env.samples(x.Name)
		if err != nil {
			return err
		}
		if sysName != nil {
			sys = env.s.values[sysName.Name].(*energy.System)
		}
		if sys == nil {
			return fmt.Errorf("eval: the system of %s is unknown: add system SYSTEM to the call, e.g. eval(x, \"ref.npy\", system dw4)", x.Name)
		}
		r, err := ref(env)
		if err != nil {
			return err
		}
		rep, err := metrics.EvaluateContext(ctx, sys, gen, r, opt)
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		env.show(rep)
		return nil
	})
}

// refArg checks a reference argument: a file name or a data name.
func (c *checker) refArg(e Expr) (func(env *runEnv) ([]float64, error), bool) {
	if s, ok := e.(*Str); ok {
		return func(env *runEnv) ([]float64, error) {
			a, err := npy.ReadFile(env.s.resolve(s.Val))
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

func (c *checker) plot(st *Command, call *Call) {
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
	nargs := map[string][2]int{"energy_hist": {1, 2}, "dist_hist": {1, 2}, "particles": {1, 1}, "marginals": {1, 2}, "weights": {1, 1}, "contour": {5, 6}}
	ar, ok := nargs[call.Fun]
	if !ok {
		c.errorf(call.P, orList(nearest(call.Fun, plotNames), "plots are "+joinWords(plotNames)), "unknown plot %q", call.Fun)
		return
	}
	if len(call.Args) < ar[0] || len(call.Args) > ar[1] {
		c.errorf(call.P, plotSignature(call.Fun), "%s takes %d to %d arguments, got %d", call.Fun, ar[0], ar[1], len(call.Args))
		return
	}
	if call.Fun == "contour" {
		sysID, ok := c.valueArg(call.Args[0], kSystem)
		if !ok {
			return
		}
		var lims [4]float64
		for i := range lims {
			v, ok := c.constant(call.Args[1+i])
			if !ok {
				return
			}
			lims[i] = v
		}
		var xs *Ident
		if len(call.Args) == 6 {
			if xs, ok = c.valueArg(call.Args[5], kSamples, kData); !ok {
				return
			}
		}
		c.add(st.P, func(ctx context.Context, env *runEnv) error {
			sys, err := env.system(sysID.Name)
			if err != nil {
				return err
			}
			var pts []float64
			if xs != nil {
				pts, _, _ = env.samples(xs.Name)
			}
			f, err := viz.EnergyContour(sys.Energy, lims[0], lims[1], lims[2], lims[3], pts, opt)
			if err != nil {
				return fmt.Errorf("plot contour: %w", err)
			}
			env.show(f)
			return nil
		})
		return
	}
	x, ok := c.valueArg(call.Args[0], kSamples)
	if !ok {
		return
	}
	var ref func(env *runEnv) ([]float64, error)
	if len(call.Args) == 2 {
		if ref, ok = c.refArg(call.Args[1]); !ok {
			return
		}
	}
	fun := call.Fun
	c.add(st.P, func(ctx context.Context, env *runEnv) error {
		smp := env.s.values[x.Name].(*adjoint.Samples)
		var r []float64
		if ref != nil {
			var err error
			if r, err = ref(env); err != nil {
				return err
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
					return fmt.Errorf("plot energy_hist: the system of %s is unknown", x.Name)
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
			return fmt.Errorf("plot %s: %w", fun, err)
		}
		env.show(f)
		return nil
	})
}

func plotSignature(f string) string {
	return map[string]string{
		"energy_hist": "energy_hist(SAMPLES [, REF])", "dist_hist": "dist_hist(SAMPLES [, REF])",
		"particles": "particles(SAMPLES)", "marginals": "marginals(SAMPLES [, REF])", "weights": "weights(SAMPLES)",
		"contour": "contour(SYSTEM, xmin, xmax, ymin, ymax [, SAMPLES])",
	}[f]
}

func (c *checker) save(st *Save) {
	id, ok := c.valueArg(st.X, kSampler, kSamples)
	if !ok {
		return
	}
	path := st.Path.Val
	c.add(st.P, func(ctx context.Context, env *runEnv) error {
		p := env.s.resolveOut(path)
		switch v := env.s.values[id.Name].(type) {
		case *adjoint.Sampler:
			if err := v.Save(p); err != nil {
				return fmt.Errorf("save %s: %w", id.Name, err)
			}
		case *adjoint.Samples:
			if err := v.SaveNPY(p); err != nil {
				return fmt.Errorf("save %s: %w", id.Name, err)
			}
		}
		env.print(fmt.Sprintf("saved %s to %s", id.Name, p))
		return nil
	})
}

func (e *runEnv) print(v any) {
	if e.out == nil {
		return
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

// resolve finds a file named in a script: as given (relative to the working directory), else
// relative to the script's directory.
func (s *Session) resolve(path string) string {
	if filepath.IsAbs(path) || s.Dir == "" {
		return path
	}
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if p := filepath.Join(s.Dir, path); fileExists(p) {
		return p
	}
	return path
}

// resolveOut places an output file named in a script relative to the script's directory.
func (s *Session) resolveOut(path string) string {
	if filepath.IsAbs(path) || s.Dir == "" {
		return path
	}
	return filepath.Join(s.Dir, path)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TrainingConfig checks a script and returns the training configuration it declares: that of
// its last sampler, or else the library's defaults for its last system (with its last sde).
// Only declarations run: train, sample and other statements are checked, not executed.
func TrainingConfig(ctx context.Context, src, filename string) (adjoint.Config, error) {
	s := NewSession()
	s.Dir = filepath.Dir(filename)
	s.DryRun = true
	binds, err := s.Exec(ctx, src, filename, nil)
	if err != nil {
		return adjoint.Config{}, err
	}
	var smp *adjoint.Sampler
	var sys *energy.System
	var sd *SDE
	for _, b := range binds {
		switch v := b.Value.(type) {
		case *adjoint.Sampler:
			smp = v
		case *energy.System:
			sys = v
		case *SDE:
			sd = v
		}
	}
	if smp != nil {
		return smp.Config(), nil
	}
	if sys == nil {
		return adjoint.Config{}, fmt.Errorf("%s declares no sampler and no system", nameOr(filename))
	}
	cfg := adjoint.DefaultConfig(sys)
	if sd != nil {
		cfg.Schedule = sd.Schedule
		if sd.Steps > 0 {
			cfg.Steps = sd.Steps
		}
	}
	return cfg, nil
}

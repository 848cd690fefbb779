package dsl

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"adjoint/lib/adjoint"
	"adjoint/lib/mcmc"
)

// samplerSettings are the settings of a sampler block; each is the Script name of a trainer
// setting of adjoint.Settings (the table the command line's flags follow too).
var samplerSettings = []string{"net", "batch", "train_batch", "buffer", "grad_steps", "lr", "epochs", "clip", "seed", "steps", "sample_steps",
	"tanh_range", "lr_final", "time_sampling", "net_time", "integrator", "prefill", "no_base_correction", "reweight", "refine_buffer", "refine_buffer_method", "ema", "defensive", "langevin", "mix_target", "rb_candidates"}

// setter applies one checked sampler setting to a configuration.
type setter func(cfg *adjoint.Config)

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
	sysID, sdeID, argsOK := c.samplerArgs(st)
	sets, seen := c.samplerSettings(st.Settings)
	if !argsOK {
		return
	}
	name := st.Name.Name
	c.add(st.P, func(ctx context.Context, env *runEnv) error {
		sys, err := env.system(sysID.Name)
		if err != nil {
			return err
		}
		cfg, err := samplerDefaults(env, sys, sdeID == nil)
		if err != nil {
			return fmt.Errorf("sampler %s: %w", name, err)
		}
		if !seen["net"] && sys.Symmetry.Rotation && sys.Symmetry.Permutation {
			// an E(n)-equivariant controller for systems that declare those symmetries
			cfg.Net.Kind = adjoint.NetEGNN
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

// samplerArgs checks the one or two arguments of adjoint(SYSTEM[, SDE]).
func (c *checker) samplerArgs(st *SamplerDecl) (sysID, sdeID *Ident, ok bool) {
	ok = true
	sysID, isID := st.Args[0].(*Ident)
	if !isID {
		c.errorf(st.Args[0].At(), "name a declared system", "the first argument of adjoint must be a system")
		ok = false
	} else if _, found := c.lookup(sysID, kSystem); !found {
		ok = false
	}
	if len(st.Args) == 2 {
		sdeID, isID = st.Args[1].(*Ident)
		if !isID {
			c.errorf(st.Args[1].At(), "name a declared sde", "the second argument of adjoint must be an sde")
			ok = false
		} else if _, found := c.lookup(sdeID, kSDE); !found {
			ok = false
		}
	}
	return sysID, sdeID, ok
}

// samplerSettings checks the settings block of a sampler and returns a setter for each
// valid setting, and the names set.
func (c *checker) samplerSettings(settings []Setting) ([]setter, map[string]bool) {
	var sets []setter
	seen := map[string]bool{}
	for _, s := range settings {
		key := s.Key.Name
		if seen[key] {
			c.errorf(s.Key.P, "", "%s set twice", key)
			continue
		}
		seen[key] = true
		switch key {
		case "net":
			if f, ok := c.netSetting(s.Value); ok {
				sets = append(sets, f)
			}
		case "sample_steps":
			if v, ok := c.posInt(s.Value, key); ok {
				sets = append(sets, func(cfg *adjoint.Config) { cfg.SampleSteps = v })
			}
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
		case "tanh_range":
			if v, ok := c.posFloat(s.Value, key); ok {
				sets = append(sets, func(cfg *adjoint.Config) { cfg.Net.TanhRange = v })
			}
		case "lr_final":
			if v, ok := c.posFloat(s.Value, key); ok {
				sets = append(sets, func(cfg *adjoint.Config) { cfg.LRFinal = v })
			}
		case "reweight":
			if v, ok := c.posFloat(s.Value, key); ok {
				if v > 1 {
					c.errorf(s.Value.At(), "", "reweight is an ESS fraction in (0, 1], got %g", v)
					continue
				}
				sets = append(sets, func(cfg *adjoint.Config) { cfg.Reweight = v })
			}
		case "ema":
			if v, ok := c.unitFloat(s.Value, "ema is a decay"); ok {
				sets = append(sets, func(cfg *adjoint.Config) { cfg.EMA = v })
			}
		case "defensive":
			if v, ok := c.unitFloat(s.Value, "defensive is a share of the samples"); ok {
				sets = append(sets, func(cfg *adjoint.Config) { cfg.Defensive = v })
			}
		case "refine_buffer":
			if v, ok := c.posInt(s.Value, key); ok {
				sets = append(sets, func(cfg *adjoint.Config) { cfg.RefineBuffer = v })
			}
		case "prefill":
			if v, ok := c.posInt(s.Value, key); ok {
				sets = append(sets, func(cfg *adjoint.Config) { cfg.PrefillBase = v })
			}
		case "rb_candidates":
			if v, ok := c.posInt(s.Value, key); ok {
				sets = append(sets, func(cfg *adjoint.Config) { cfg.RBCandidates = v })
			}
		case "time_sampling", "net_time", "integrator", "no_base_correction", "langevin", "mix_target", "refine_buffer_method":
			if f, ok := c.wordSetting(key, s.Value); ok {
				sets = append(sets, f)
			}
		default:
			c.errorf(s.Key.P, orList(nearest(key, samplerSettings), "settings are "+joinWords(samplerSettings)), "unknown sampler setting %q", key)
		}
	}
	return sets, seen
}

// wordSetting checks a setting whose value is a word: time_sampling uniform|kappa, net_time t|kappa,
// integrator em|kappa, no_base_correction and langevin true|false.
func (c *checker) wordSetting(key string, e Expr) (setter, bool) {
	var word string
	switch v := e.(type) {
	case *Ident:
		word = v.Name
	case *Str:
		word = v.Val
	default:
		example := map[string]string{"time_sampling": "kappa", "net_time": "kappa", "integrator": "kappa", "refine_buffer_method": "mala"}[key]
		if example == "" {
			c.errorf(e.At(), "true or false", "%s must be true or false", key)
			return nil, false
		}
		c.errorf(e.At(), "", "%s takes a word, e.g. %s %s", key, key, example)
		return nil, false
	}
	switch key {
	case "time_sampling":
		ts, err := adjoint.ParseTimeSampling(word)
		if err != nil {
			c.errorf(e.At(), "uniform, kappa or sigma2", "%v", err)
			return nil, false
		}
		return func(cfg *adjoint.Config) { cfg.TimeSampling = ts }, true
	case "net_time":
		nt, err := adjoint.ParseNetTime(word)
		if err != nil {
			c.errorf(e.At(), "t or kappa", "%v", err)
			return nil, false
		}
		return func(cfg *adjoint.Config) { cfg.NetTime = nt }, true
	case "integrator":
		in, err := adjoint.ParseIntegrator(word)
		if err != nil {
			c.errorf(e.At(), "em or kappa", "%v", err)
			return nil, false
		}
		return func(cfg *adjoint.Config) { cfg.Integrator = in }, true
	case "refine_buffer_method":
		m := strings.ToLower(word)
		if m != mcmc.MALA && m != mcmc.HMC && m != mcmc.Gibbs {
			c.errorf(e.At(), "mala, hmc or gibbs", "refine_buffer_method %q: mala, hmc or gibbs", word)
			return nil, false
		}
		return func(cfg *adjoint.Config) { cfg.RefineMethod = m }, true
	}
	if word != "true" && word != "false" {
		c.errorf(e.At(), "true or false", "%s must be true or false, got %q", key, word)
		return nil, false
	}
	on := word == "true"
	switch key {
	case "langevin":
		return func(cfg *adjoint.Config) { cfg.Langevin = on }, true
	case "mix_target":
		return func(cfg *adjoint.Config) { cfg.MixTarget = on }, true
	}
	return func(cfg *adjoint.Config) { cfg.NoBaseCorrection = on }, true
}

// netSetting checks net egnn(layers L, hidden H) or net mlp(…).
func (c *checker) netSetting(e Expr) (setter, bool) {
	call, ok := e.(*Call)
	if !ok || (call.Fun != "egnn" && call.Fun != "mlp") {
		c.errorf(e.At(), "write net egnn(layers 3, hidden 64) or net mlp(layers 3, hidden 64)", "net must be egnn(…) or mlp(…)")
		return nil, false
	}
	if len(call.Args) > 0 {
		c.errorf(call.Args[0].At(), "name the arguments: egnn(layers 3, hidden 64)", "unnamed argument")
		return nil, false
	}
	kind, err := adjoint.ParseNetKind(call.Fun)
	if err != nil {
		c.errorf(e.At(), "write net egnn(layers 3, hidden 64) or net mlp(layers 3, hidden 64)", "%v", err)
		return nil, false
	}
	nc := adjoint.NetConfig{Kind: kind}
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
	return func(cfg *adjoint.Config) {
		l, h := cfg.Net.Layers, cfg.Net.Hidden
		cfg.Net = nc
		if nc.Layers == 0 {
			cfg.Net.Layers = l
		}
		if nc.Hidden == 0 {
			cfg.Net.Hidden = h
		}
	}, true
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
	if !c.trainOptions(st.Settings, &opt) {
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

// trainSettings are the options of one train statement: the settings of adjoint.Settings whose
// field is a TrainOptions field, and the checkpoint file they refer to.
var trainSettings = []string{"checkpoint", "checkpoint_every", "diagnose_every"}

// trainOptions checks the options block of a train statement into opt.
func (c *checker) trainOptions(sets []Setting, opt *adjoint.TrainOptions) bool {
	ok := true
	seen := map[string]bool{}
	for _, s := range sets {
		key := s.Key.Name
		if seen[key] {
			c.errorf(s.Key.P, "", "training option %q is set twice", key)
			ok = false
			continue
		}
		seen[key] = true
		switch key {
		case "checkpoint":
			str, isStr := s.Value.(*Str)
			if !isStr {
				c.errorf(s.Value.At(), `write checkpoint "file.ckpt"`, "the checkpoint option takes a file name in quotes")
				ok = false
				continue
			}
			c.outputFile(str, "checkpoint")
			opt.Checkpoint = c.s.path(str.Val)
		case "checkpoint_every":
			v, good := c.posInt(s.Value, key)
			ok = ok && good
			opt.CheckpointEvery = v
		case "diagnose_every":
			v, good := c.constant(s.Value)
			if good && (v != math.Trunc(v) || math.Abs(v) > 1e9) {
				c.errorf(s.Value.At(), "0 keeps the default (10); a negative number turns the diagnostics off", "diagnose_every must be a whole number, got %g", v)
				good = false
			}
			ok = ok && good
			if good {
				opt.DiagnoseEvery = int(v)
			}
		default:
			c.errorf(s.Key.P, orList(nearest(key, trainSettings), "training options are "+joinWords(trainSettings)), "unknown training option %q", key)
			ok = false
		}
	}
	if seen["checkpoint_every"] && !seen["checkpoint"] {
		c.errorf(sets[0].Key.P, `add checkpoint "file.ckpt"`, "checkpoint_every needs a checkpoint file to write")
		ok = false
	}
	return ok
}

// unitFloat checks a constant setting in [0, 1), 0 meaning off (ema, defensive).
func (c *checker) unitFloat(e Expr, what string) (float64, bool) {
	v, ok := c.constant(e)
	if !ok {
		return 0, false
	}
	if !(v >= 0 && v < 1) {
		c.errorf(e.At(), "", "%s in [0, 1) (0: none), got %g", what, v)
		return 0, false
	}
	return v, true
}

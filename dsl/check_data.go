package dsl

import (
	"context"
	"fmt"
	"strings"

	"adjoint/lib/adjoint"
	"adjoint/lib/npy"
	"adjoint/lib/sde"
)

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

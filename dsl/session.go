package dsl

import (
	"context"
	"fmt"
	"sort"

	"adjoint/lib/adjoint"
	"adjoint/lib/display"
	"adjoint/lib/energy"
)

// Output receives what a script prints and shows.
type Output interface {
	Print(text string)
	Show(b display.Bundle)
}

// SinkOutput adapts a display sink (and a print function) to Output.
type SinkOutput struct {
	Sink      display.Sink
	PrintFunc func(text string)
}

// Print writes text through PrintFunc, or as a text bundle on the sink.
func (o SinkOutput) Print(text string) {
	if o.PrintFunc != nil {
		o.PrintFunc(text)
		return
	}
	o.Show(display.Text(text))
}

// Show displays b on the sink (the current one when Sink is nil).
func (o SinkOutput) Show(b display.Bundle) {
	s := o.Sink
	if s == nil {
		s = display.Current()
	}
	s.Display(b, "", false)
}

// Binding is a name declared by a script and its Go value: a parameter is a float64, a system
// an *energy.System, an sde an *SDE, a sampler an *adjoint.Sampler, samples an
// *adjoint.Samples, loaded .npy data an *npy.Array.
type Binding struct {
	Name  string
	Value any
}

// Session executes scripts; what a script declares stays visible to the next Exec.
type Session struct {
	// Dir, when set, is the folder that relative file names in scripts are taken from; empty
	// (the default, and what `adjoint run` uses): the working directory of the run.
	Dir string
	// DryRun, when set, makes Exec check everything but run only declarations (let, system,
	// sde, sampler); names that training, sampling or loading would bind are remembered as
	// declared, so that later scripts that use them still check.
	DryRun bool
	dry    map[string]nameKind
	dryW   map[string]weighting // the weighting of samples a dry run declared
	params map[string]float64
	values map[string]any
	origin map[any]*energy.System // sampler or samples → its system
	info   map[*adjoint.Samples]sampleInfo
	// energies whose non-finite evaluation has been reported
	reported map[nonFiniter]bool
}

// NewSession returns an empty session.
func NewSession() *Session {
	return &Session{params: map[string]float64{}, values: map[string]any{}, origin: map[any]*energy.System{}, dry: map[string]nameKind{},
		dryW: map[string]weighting{}, info: map[*adjoint.Samples]sampleInfo{}, reported: map[nonFiniter]bool{}}
}

// Value returns the value bound to name.
func (s *Session) Value(name string) (any, bool) {
	v, ok := s.values[name]
	return v, ok
}

func (s *Session) newChecker() *checker {
	c := &checker{s: s, kinds: map[string]nameKind{}, params: map[string]float64{}, weights: map[string]weighting{}}
	for k, v := range s.params {
		c.params[k] = v
	}
	for n, k := range s.dry {
		c.kinds[n] = k
	}
	for n, w := range s.dryW {
		c.weights[n] = w
	}
	for n, v := range s.values {
		if k := kindOf(v); k != 0 {
			c.kinds[n] = k
		}
		if sm, ok := v.(*adjoint.Samples); ok {
			c.weights[n] = s.info[sm].w
		}
	}
	return c
}

// check parses and checks src, returning the planned steps.
func (s *Session) check(src, filename string) ([]step, error) {
	prog, err := Parse(src, filename)
	if err != nil {
		return nil, err
	}
	c := s.newChecker()
	c.file, c.src = filename, src
	for _, st := range prog.Stmts {
		c.stmt(st)
	}
	if s.DryRun && len(c.errs) == 0 {
		for n, k := range c.kinds {
			s.dry[n] = k
		}
		for n := range c.kinds {
			if w, ok := c.weights[n]; ok {
				s.dryW[n] = w
			} else {
				delete(s.dryW, n)
			}
		}
	}
	if len(c.errs) > 0 {
		sort.SliceStable(c.errs, func(i, j int) bool {
			a, b := c.errs[i].Pos, c.errs[j].Pos
			return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
		})
		attach(c.errs, filename, src)
		return nil, ErrorList(c.errs)
	}
	return c.steps, nil
}

// Check parses and checks src against what the session has declared, without running it.
func (s *Session) Check(src, filename string) error {
	_, err := s.check(src, filename)
	return err
}

// Check parses and checks a script on its own (a fresh session), without running it.
func Check(src, filename string) error { return NewSession().Check(src, filename) }

// Exec checks the whole of src, then runs its statements in order. It returns the names
// bound so far (also when a statement fails at run time; the error then names its line).
// Long statements (train, sample, eval) stop when ctx is cancelled.
func (s *Session) Exec(ctx context.Context, src, filename string, out Output) ([]Binding, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	steps, err := s.check(src, filename)
	if err != nil {
		return nil, err
	}
	env := &runEnv{s: s, out: out}
	for _, st := range steps {
		if s.DryRun && !st.cheap {
			continue
		}
		if err := ctx.Err(); err != nil {
			return env.bb, fmt.Errorf("%s:%d:%d: interrupted: %w", nameOr(filename), st.pos.Line, st.pos.Col, err)
		}
		err := runStep(ctx, env, st)
		why := s.newNonFinite()
		if err != nil {
			if len(why) > 0 {
				err = &explainedError{err: err, why: why}
			}
			return env.bb, &RuntimeError{File: nameOr(filename), Pos: st.pos, Err: err}
		}
		for _, w := range why {
			env.print("warning: " + w.Error())
		}
	}
	return env.bb, nil
}

// RuntimeError is a statement that failed while running.
type RuntimeError struct {
	File string
	Pos  Pos
	Err  error
}

func (e *RuntimeError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %v", e.File, e.Pos.Line, e.Pos.Col, e.Err)
}

// Unwrap returns the cause.
func (e *RuntimeError) Unwrap() error { return e.Err }

func nameOr(f string) string {
	if f == "" {
		return "<input>"
	}
	return f
}

// runStep runs one statement, turning a panic of library code into an error.
func runStep(ctx context.Context, env *runEnv, st step) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	return st.run(ctx, env)
}

// TrainingConfig checks a script and returns the training configuration it declares: that of
// its last sampler, or else defaults for its last system (with its last sde; see
// TrainingDefaults). Only declarations run: train, sample and other statements are checked, not
// executed.
func TrainingConfig(ctx context.Context, src, filename string) (adjoint.Config, error) {
	cfg, _, err := TrainingDefaults(ctx, src, filename)
	return cfg, err
}

// newNonFinite returns the explanations, not reported before, of non-finite energies of the
// session's systems (Energy.NonFinite), in the order of the systems' names.
func (s *Session) newNonFinite() []error {
	byName := map[string]nonFiniter{}
	visit := func(sys *energy.System) {
		if sys == nil {
			return
		}
		if en, ok := sys.Energy.(nonFiniter); ok && !s.reported[en] && en.NonFinite() != nil {
			byName[sys.Name] = en
		}
	}
	for _, v := range s.values {
		if sys, ok := v.(*energy.System); ok {
			visit(sys)
		}
	}
	for _, sys := range s.origin {
		visit(sys)
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []error
	for _, n := range names {
		en := byName[n]
		s.reported[en] = true
		out = append(out, en.NonFinite())
	}
	return out
}

// nonFiniter is an energy that explains its non-finite evaluations (*Energy, *DeviceEnergy).
type nonFiniter interface{ NonFinite() error }

// explainedError is a statement's error followed by the explanations of the non-finite
// energies met while running it.
type explainedError struct {
	err error
	why []error
}

func (e *explainedError) Error() string {
	s := e.err.Error()
	for _, w := range e.why {
		s += "\n" + w.Error()
	}
	return s
}

// Unwrap returns the statement's error and the explanations.
func (e *explainedError) Unwrap() []error { return append([]error{e.err}, e.why...) }

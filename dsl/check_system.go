package dsl

import (
	"fmt"
	"math"

	"adjoint/lib/energy"
)

// maxParticles bounds a system's size; pair sums are limited to maxPairParticles.
const (
	maxParticles     = 10000
	maxPairParticles = 2000
)

var reserved = map[string]bool{"x": true, "r": true, "r2": true, "dr": true, "com": true, "n": true, "pi": true, "sum": true, "pairs": true}

// evalLets evaluates let bindings in order into params.
func evalLets(lt *Let, params map[string]float64) []*Error {
	var errs []*Error
	for i, name := range lt.Names {
		if reserved[name.Name] {
			errs = append(errs, &Error{Pos: name.P, Msg: fmt.Sprintf("%q is a built-in name and cannot be redefined", name.Name), Hint: "choose another parameter name"})
			continue
		}
		if _, ok := callable(name.Name); ok {
			errs = append(errs, &Error{Pos: name.P, Msg: fmt.Sprintf("%q is a built-in function and cannot be redefined", name.Name), Hint: "choose another parameter name"})
			continue
		}
		v, e := constValue(lt.Vals[i], params)
		if len(e) > 0 {
			errs = append(errs, e...)
			continue
		}
		params[name.Name] = v
	}
	return errs
}

func constInt(e Expr, params map[string]float64, what string, lo, hi int) (int, []*Error) {
	v, errs := constValue(e, params)
	if len(errs) > 0 {
		return 0, errs
	}
	if v != math.Trunc(v) || v < float64(lo) || v > float64(hi) {
		return 0, []*Error{{Pos: e.At(), Msg: fmt.Sprintf("%s must be a whole number from %d to %d, got %g", what, lo, hi, v)}}
	}
	return int(v), nil
}

func constPositive(e Expr, params map[string]float64, what string) (float64, []*Error) {
	v, errs := constValue(e, params)
	if len(errs) > 0 {
		return 0, errs
	}
	if !(v > 0) || math.IsInf(v, 0) {
		return 0, []*Error{{Pos: e.At(), Msg: fmt.Sprintf("%s must be positive and finite, got %g", what, v)}}
	}
	return v, nil
}

var symmetryNames = []string{"translation", "rotation", "permutation"}

// compileSystem checks a system declaration and compiles its energy.
func compileSystem(s *SystemDecl, globals map[string]float64) (*energy.System, []*Error) {
	params := map[string]float64{}
	for k, v := range globals {
		params[k] = v
	}
	sys := &energy.System{Name: s.Name.Name}
	n, d, errs := systemSize(s, params)
	if n > 0 {
		params["n"] = float64(n) // lets may use the number of particles
	}
	for _, lt := range s.Lets {
		errs = append(errs, evalLets(lt, params)...)
	}
	errs = append(errs, systemSettings(s, sys, params, d)...)
	soften, e := systemSoften(s, params)
	errs = append(errs, e...)
	if s.Energy == nil {
		errs = append(errs, &Error{Pos: s.Name.P, Msg: fmt.Sprintf("system %s has no energy", s.Name.Name), Hint: "add a line: energy = EXPRESSION"})
	}
	if n == 0 || d == 0 || s.Energy == nil {
		return nil, errs
	}
	l := &lowerer{mode: modeEnergy, n: n, d: d, params: params, soften: soften}
	if len(sys.Box) == d {
		l.box = sys.Box
	}
	l.top = newCtx(nil)
	l.cur = l.top
	id, ok := l.needScalar(s.Energy)
	errs = append(errs, l.errs...)
	if !ok || len(errs) > 0 {
		return nil, errs
	}
	l.top.out = id
	en := newEnergy(l)
	en.system = s.Name.Name
	sys.Energy = en
	if err := sys.Validate(); err != nil {
		return nil, []*Error{{Pos: s.P, Msg: err.Error()}}
	}
	return sys, nil
}

// systemSize checks particles N in Dd.
func systemSize(s *SystemDecl, params map[string]float64) (n, d int, errs []*Error) {
	if s.Particles == nil {
		return 0, 0, []*Error{{Pos: s.Name.P, Msg: fmt.Sprintf("system %s does not say how many particles it has", s.Name.Name), Hint: "add a line: particles N in Dd (e.g. particles 4 in 2d)"}}
	}
	var e1, e2 []*Error
	n, e1 = constInt(s.Particles, params, "the number of particles", 1, maxParticles)
	d, e2 = constInt(s.Dim, params, "the dimension", 1, 3)
	return n, d, append(e1, e2...)
}

// systemSettings checks the symmetries, the temperature and the box of a system of dimension
// d (0: unknown) into sys.
func systemSettings(s *SystemDecl, sys *energy.System, params map[string]float64, d int) []*Error {
	var errs []*Error
	for _, sy := range s.Symmetry {
		switch sy.Name {
		case "translation":
			sys.Symmetry.Translation = true
		case "rotation", "rotations", "reflection":
			sys.Symmetry.Rotation = true
		case "permutation", "permutations":
			sys.Symmetry.Permutation = true
		default:
			errs = append(errs, &Error{Pos: sy.P, Msg: fmt.Sprintf("unknown symmetry %q", sy.Name), Hint: orList(nearest(sy.Name, symmetryNames), "symmetries are translation, rotation and permutation")})
		}
	}
	if s.Temperature != nil {
		t, e := constPositive(s.Temperature, params, "the temperature")
		errs = append(errs, e...)
		sys.Temperature = t
	}
	if len(s.Box) > 0 {
		for _, b := range s.Box {
			v, e := constPositive(b, params, "a box length")
			errs = append(errs, e...)
			sys.Box = append(sys.Box, v)
		}
		if d > 0 && len(s.Box) != d {
			errs = append(errs, &Error{Pos: s.BoxPos, Msg: fmt.Sprintf("box has %d length%s for %d dimensions", len(s.Box), plural(len(s.Box)), d),
				Hint: fmt.Sprintf("give one length per dimension, e.g. box %s periodic", boxExample(d))})
		}
	}
	return errs
}

// systemSoften checks soften EPS (0 when absent).
func systemSoften(s *SystemDecl, params map[string]float64) (float64, []*Error) {
	if s.Soften == nil {
		return 0, nil
	}
	v, errs := constValue(s.Soften, params)
	if len(errs) == 0 && !(v >= 0) {
		errs = append(errs, &Error{Pos: s.Soften.At(), Msg: fmt.Sprintf("soften must be ≥ 0, got %g", v)})
	}
	return v, errs
}

func orList(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func boxExample(d int) string {
	s := "6.283"
	for i := 1; i < d; i++ {
		s += " x 6.283"
	}
	return s
}

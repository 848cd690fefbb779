package adjoint

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"adjoint/lib/display"
	"adjoint/lib/energy"
	"adjoint/lib/mcmc"
	"adjoint/lib/sde"
)

// Choice records one setting chosen by DefaultsFor: its name, its value as text, where it came
// from ("system": measured on the system by the probe or read from its declaration; "default":
// the rule's fixed value; "tuned": the tuned configuration of a benchmark or zoo target) and
// why, e.g. {"sigma_max", "7.4", "system", "2 × spread 3.7 measured by the probe"}.
type Choice struct {
	Setting string
	Value   string
	Source  string
	Why     string
}

// ProbeResult is what Probe measured on a system.
type ProbeResult struct {
	// Spread is the root of the largest eigenvalue of the second-moment matrix E[x xᵀ] (about
	// the origin, where the base process starts) over the probe's low-energy states: the extent
	// of the target along its widest direction.
	Spread float64
	// Length is the gradient length scale sqrt(d_eff / mean ‖∇E/τ‖²) over the same states: the
	// width of the wells (for N(μ, s² I) exactly s in expectation, as E‖∇E/τ‖² = d/s²).
	Length float64
	// MinEnergy is the lowest energy met.
	MinEnergy float64
	Chains    int   // chains that started at a finite energy
	States    int   // low-energy states measured
	Evals     int64 // energy evaluations
}

// Probe sizes the parts of the Boltzmann density exp(−E/τ) that hold its mass: 128 MALA
// chains (mcmc.NewMALA) at the system's temperature start from broad points (N(0, s² I) with
// scales s spread log-uniformly over 0.1 … 100, projected to zero centre of mass; uniform in a
// periodic box), take 300 steps with step sizes adapted over the first 200, and the states of
// the last 100 steps (every 10th) whose energy lies within τ·(d/2 + 4√(d/2) + 10) of the lowest
// energy met are measured (d the effective dimension). It is deterministic for a seed. It
// fails when the energy is not finite at any start, or gives no gradient.
func Probe(sys *energy.System, seed int64) (ProbeResult, error) {
	res, _, err := probe(sys, seed)
	return res, err
}

// probeStates are the low-energy states a probe measured: each state's chain and coordinates.
type probeStates struct {
	chain []int
	x     [][]float64
}

// probe runs Probe and also returns the states it measured.
func probe(sys *energy.System, seed int64) (ProbeResult, probeStates, error) {
	var res ProbeResult
	var ps probeStates
	if sys == nil || sys.Energy == nil {
		return res, ps, fmt.Errorf("adjoint: probe: no system")
	}
	if err := sys.Validate(); err != nil {
		return res, ps, fmt.Errorf("adjoint: probe: %w", err)
	}
	const chains, steps, adaptSteps, every = 128, 300, 200, 10
	sp := space(sys)
	dim := sys.Dim()
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6a09e667f3bcc909))
	x := make([]float64, chains*dim)
	for c := range chains {
		xc := x[c*dim : (c+1)*dim]
		if sp.Periodic() {
			for i := range xc {
				xc[i] = (rng.Float64() - 0.5) * sys.Box[i%len(sys.Box)]
			}
			continue
		}
		s := math.Pow(10, -1+3*(float64(c)+0.5)/chains)
		for i := range xc {
			xc[i] = s * rng.NormFloat64()
		}
	}
	sp.Project(x)
	e := make([]float64, chains)
	sys.Energy.EnergyGrad(x, e, nil)
	res.Evals += chains
	var start []float64
	for c := range chains {
		if !math.IsNaN(e[c]) && !math.IsInf(e[c], 0) {
			start = append(start, x[c*dim:(c+1)*dim]...)
		}
	}
	if len(start) == 0 {
		return res, ps, fmt.Errorf("adjoint: probe of system %q: the energy is NaN or infinite at every one of %d probe points (N(0, s²) starts, s from 0.1 to 100)", sys.Name, chains)
	}
	k, err := mcmc.NewMALA(sys, mcmc.KernelOptions{Seed: uint64(seed)})
	if err != nil {
		return res, ps, fmt.Errorf("adjoint: probe: %w", err)
	}
	st, err := k.Init(start)
	if err != nil {
		return res, ps, fmt.Errorf("adjoint: probe: %w", err)
	}
	res.Chains = st.Chains()
	adapt := mcmc.NewAdapter(mcmc.DefaultTarget(mcmc.MALA))
	var xs, es, gs []float64
	for t := range steps {
		if err := k.Step(context.Background(), st); err != nil {
			return res, ps, fmt.Errorf("adjoint: probe: %w", err)
		}
		if t < adaptSteps {
			adapt.Update(st, t >= adaptSteps/2)
			if t == adaptSteps-1 {
				adapt.Freeze(st)
			}
			continue
		}
		if (t-adaptSteps)%every == every-1 {
			xs = append(xs, st.X...)
			es = append(es, st.E...)
			gs = append(gs, st.G...)
		}
	}
	res.Evals += st.Evals
	emin := math.Inf(1)
	for _, v := range es {
		if v < emin {
			emin = v
		}
	}
	if math.IsInf(emin, 1) || math.IsNaN(emin) {
		return res, ps, fmt.Errorf("adjoint: probe of system %q: no chain reached a finite energy", sys.Name)
	}
	res.MinEnergy = emin
	tau := sys.Tau()
	deff := float64(sp.EffectiveDim())
	cut := emin + tau*(deff/2+4*math.Sqrt(deff/2)+10)
	var kept [][]float64
	var g2 float64
	nc := st.Chains()
	for i, v := range es {
		if !(v <= cut) {
			continue
		}
		kept = append(kept, xs[i*dim:(i+1)*dim])
		ps.chain = append(ps.chain, i%nc)
		for _, gv := range gs[i*dim : (i+1)*dim] {
			g2 += gv * gv / (tau * tau)
		}
	}
	res.States = len(kept)
	res.Length = math.Sqrt(deff / (g2 / float64(len(kept))))
	res.Spread = math.Sqrt(topEigen(kept, dim))
	if !(res.Spread > 0) || math.IsInf(res.Spread, 0) || !(res.Length > 0) {
		return res, ps, fmt.Errorf("adjoint: probe of system %q: spread %g, length scale %g: not usable", sys.Name, res.Spread, res.Length)
	}
	ps.x = kept
	return res, ps, nil
}

// topEigen is the largest eigenvalue of the second-moment matrix (1/N) Σ x xᵀ of the rows, by
// power iteration (deterministic start).
func topEigen(rows [][]float64, dim int) float64 {
	v := make([]float64, dim)
	for i := range v {
		v[i] = 1 / math.Sqrt(float64(dim)) * (1 + 0.01*float64(i))
	}
	w := make([]float64, dim)
	lambda := 0.0
	for range 100 {
		clear(w)
		for _, x := range rows {
			p := 0.0
			for i, xi := range x {
				p += xi * v[i]
			}
			for i, xi := range x {
				w[i] += p * xi
			}
		}
		norm := 0.0
		for i := range w {
			w[i] /= float64(len(rows))
			norm += w[i] * w[i]
		}
		norm = math.Sqrt(norm)
		if norm == 0 {
			return 0
		}
		lambda = norm
		for i := range v {
			v[i] = w[i] / norm
		}
	}
	return lambda
}

// tunedName says whether sys is a benchmark (dw4, lj13, lj55) or zoo target with its own
// tuned configuration: its name resolves through energy.Benchmark to a system of the same
// dimension.
func tunedName(sys *energy.System) bool {
	ref, err := energy.Benchmark(sys.Name)
	return err == nil && ref.Dim() == sys.Dim()
}

// DefaultsFor returns a training configuration that fits the system, and the choices made, each
// with where it came from and why (docs/dsl.md, "Defaults for a new system"). The benchmarks
// dw4, lj13, lj55 and the zoo targets keep their tuned configuration (DefaultConfig); any other
// system is measured by Probe and gets:
//
//   - a geometric schedule with σ_max = 2 × the probe's spread (0.4 × the longest box length
//     for a periodic system, so the wrapped base is nearly uniform on the torus) and
//     σ_min = the probe's length scale / 100, at most σ_max / 20;
//   - steps = σ(0)²/(2ℓ²) (ℓ the length scale), between 100 and 500, so that the
//     Euler–Maruyama step of a drift with the wells' curvature 1/ℓ² stays stable
//     (σ(0)²Δt/ℓ² ≤ 2) early in training, when the controller regresses onto unsmoothed
//     terminal gradients;
//   - an MLP 3 × 128 without particle symmetries, an EGNN 3 × 64 with rotation and permutation
//     symmetry; time sampling TimeKappa (half of each batch uniform in κ(t)/κ(1)); batch and
//     train batch 256, buffer 5000, 50 gradient steps per epoch, learning
//     rate 1e-3 (MLP) or 1e-4 (EGNN), 500 epochs, and a gradient clip of 10 × the RMS gradient
//     per particle at the probe's states.
//
// It fails with a one-line error when the system is invalid or its energy is not finite at any
// probe point.
func DefaultsFor(sys *energy.System, seed int64) (Config, []Choice, error) {
	if sys == nil || sys.Energy == nil {
		return Config{}, nil, fmt.Errorf("adjoint: defaults: no system")
	}
	if err := sys.Validate(); err != nil {
		return Config{}, nil, fmt.Errorf("adjoint: defaults: %w", err)
	}
	if tunedName(sys) {
		c := DefaultConfig(sys)
		c.Seed = seed
		why := "tuned configuration of " + sys.Name
		return c, []Choice{
			{"schedule", c.Schedule.Name(), "tuned", why},
			{"steps", strconv.Itoa(c.Steps), "tuned", why},
		}, nil
	}
	pr, err := Probe(sys, seed)
	if err != nil {
		return Config{}, nil, err
	}
	c := DefaultConfig(sys)
	c.Seed = seed
	var ch []Choice
	add := func(name, value, src, why string) { ch = append(ch, Choice{name, value, src, why}) }
	var smax float64
	if sys.Periodic() {
		l := 0.0
		for _, b := range sys.Box {
			l = max(l, b)
		}
		smax = roundUp(0.4 * l)
		add("sigma_max", fmtG(smax), "system", fmt.Sprintf("0.4 × box length %.3g: the wrapped base is nearly uniform on the torus", l))
	} else {
		smax = roundUp(2 * pr.Spread)
		add("sigma_max", fmtG(smax), "system", fmt.Sprintf("2 × spread %.3g measured by the probe", pr.Spread))
	}
	smin := roundDown(pr.Length / 100)
	why := fmt.Sprintf("length scale %.3g measured by the probe / 100", pr.Length)
	if smin > smax/20 {
		smin = roundDown(smax / 20)
		why = fmt.Sprintf("σ_max / 20 (length scale %.3g / 100 is larger)", pr.Length)
	}
	add("sigma_min", fmtG(smin), "system", why)
	sched, err := sde.Geometric(smin, smax)
	if err != nil {
		return Config{}, nil, fmt.Errorf("adjoint: defaults for %q: %w", sys.Name, err)
	}
	c.Schedule = sched
	s0 := sched.Sigma(0)
	steps := int(math.Ceil(s0 * s0 / (2 * pr.Length * pr.Length)))
	steps = max(100, min(500, (steps+9)/10*10))
	c.Steps = steps
	add("steps", strconv.Itoa(steps), "system", fmt.Sprintf("σ(0)²Δt/ℓ² ≤ 2 for σ(0) = %.3g, ℓ = %.3g (within 100 … 500)", s0, pr.Length))
	c.Net = NetConfig{Kind: NetMLP, Layers: 3, Hidden: 128}
	c.LR = 1e-3
	if (Config{System: sys}).NetKind() == NetEGNN {
		c.Net = NetConfig{Kind: NetEGNN, Layers: 3, Hidden: 64}
		c.LR = 1e-4
		add("net", "egnn 3×64", "system", "rotation and permutation symmetry declared")
	} else {
		add("net", "mlp 3×128", "system", "no rotation and permutation symmetry")
	}
	c.TimeSampling = TimeKappa
	add("time_sampling", "kappa", "default", "half of each batch uniform in κ(t)/κ(1): a wide geometric schedule leaves σ(t) tiny over most of [0, 1]")
	c.Batch, c.TrainBatch, c.Buffer, c.GradSteps, c.Epochs = 256, 256, 5000, 50, 500
	// the probe's RMS gradient per particle, τ·sqrt(d_eff/n)/ℓ
	gpart := sys.Tau() * math.Sqrt(float64(space(sys).EffectiveDim())/float64(sys.Energy.Particles())) / pr.Length
	c.ClipNorm = roundUp(10 * gpart)
	add("batch / buffer / grad_steps", "256 / 5000 / 50", "default", "the rule's fixed values")
	add("lr", fmtG(c.LR), "default", "1e-3 for the MLP, 1e-4 (the paper's) for the EGNN")
	add("clip", fmtG(c.ClipNorm), "system", fmt.Sprintf("10 × the RMS gradient per particle %.3g at the probe's states: bounds the early drift where the energy grows fast (a quartic wall)", gpart))
	return c, ch, nil
}

// roundUp rounds v > 0 up to two significant digits.
func roundUp(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v))-1)
	return clean(math.Ceil(v/p-1e-9) * p)
}

// roundDown rounds v > 0 down to one significant digit.
func roundDown(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	return clean(math.Floor(v/p+1e-9) * p)
}

// clean removes the rounding error of a product of a whole number and a power of ten
// (7.300000000000001 becomes 7.3).
func clean(v float64) float64 {
	c, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	if err != nil {
		return v
	}
	return c
}

func fmtG(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// ChoicesTable lists DefaultsFor's choices for a system: setting, value, source and reason.
func ChoicesTable(system string, ch []Choice) *display.Table {
	t := &display.Table{Caption: "defaults for " + system, Header: []string{"setting", "value", "source", "why"}}
	for _, c := range ch {
		t.AddRow(c.Setting, c.Value, c.Source, c.Why)
	}
	return t
}

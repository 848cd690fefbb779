package dsl

import (
	"strings"

	"adjoint/lib/energy"
	"adjoint/lib/metrics"
)

// PlotKind is a figure that scripts draw with plot NAME(…) or the command line with adjoint
// plot KIND. PlotKinds is the one list of figures both read.
type PlotKind struct {
	// Name is the figure's name in scripts; the command line writes its underscores as
	// hyphens (CommandName).
	Name string
	// Script is the call in scripts, "" when scripts do not draw the figure.
	Script string
	// MinArgs and MaxArgs bound the number of arguments of the call in scripts.
	MinArgs, MaxArgs int
	// Command says what adjoint plot needs for the figure, "" when the command line does not
	// draw it.
	Command string
}

// CommandName is the figure's name on the command line (energy_hist → energy-hist).
func (k PlotKind) CommandName() string { return strings.ReplaceAll(k.Name, "_", "-") }

var plotKinds = []PlotKind{
	{Name: "energy_hist", Script: "energy_hist(SAMPLES [, REF])", MinArgs: 1, MaxArgs: 2,
		Command: "energies of the samples (--system), or a 1-D array of energies"},
	{Name: "dist_hist", Script: "dist_hist(SAMPLES [, REF])", MinArgs: 1, MaxArgs: 2,
		Command: "interatomic distances (--system, or --particles and --dim)"},
	{Name: "marginals", Script: "marginals(SAMPLES [, REF])", MinArgs: 1, MaxArgs: 2,
		Command: "one histogram per coordinate"},
	{Name: "particles", Script: "particles(SAMPLES)", MinArgs: 1, MaxArgs: 1,
		Command: "particle configurations of the first samples (--system, or --particles and --dim)"},
	{Name: "weights", Script: "weights(SAMPLES)", MinArgs: 1, MaxArgs: 1,
		Command: "importance log-weights (a 1-D array) with the ESS"},
	{Name: "trajectories", Command: "paths of one coordinate: a PATHS×STEPS array on times --t0..--t1"},
	{Name: "loss", Script: "loss(SAMPLER)", MinArgs: 1, MaxArgs: 1,
		Command: "a training curve from a 1-D array of losses, one per step"},
	{Name: "contour", Script: "contour(SYSTEM, xmin, xmax, ymin, ymax [, SAMPLES])", MinArgs: 5, MaxArgs: 6},
}

// PlotKinds returns the figures, in the order that help texts list them.
func PlotKinds() []PlotKind { return append([]PlotKind(nil), plotKinds...) }

// scriptPlot returns the figure that scripts draw under name.
func scriptPlot(name string) (PlotKind, bool) {
	for _, k := range plotKinds {
		if k.Name == name && k.Script != "" {
			return k, true
		}
	}
	return PlotKind{}, false
}

// scriptPlotNames are the names of the figures scripts draw.
func scriptPlotNames() []string {
	var out []string
	for _, k := range plotKinds {
		if k.Script != "" {
			out = append(out, k.Name)
		}
	}
	return out
}

// DefaultEvalSamples is the number of samples drawn at random from each set by an evaluation.
const DefaultEvalSamples = 2000

// dw4PairCutoff separates the arrangements of DW-4: the barrier of its pair potential.
const dw4PairCutoff = 4

// EvalDefaults are the settings of an evaluation of samples of sys against reference samples,
// shared by report eval(…) in scripts and adjoint eval: DefaultEvalSamples from each set,
// seed 0, and for DW-4 (a system named dw4) the fractions of configurations by number of
// pairs closer than 4, the barrier of its pair potential. sys may be nil.
func EvalDefaults(sys *energy.System) metrics.EvalOptions {
	opt := metrics.EvalOptions{N: DefaultEvalSamples}
	if sys != nil && sys.Name == "dw4" {
		opt.PairCutoff = dw4PairCutoff
	}
	return opt
}

package main

import (
	"fmt"
	"strings"

	"adjoint/dsl"
	"adjoint/lib/adjoint"
	"adjoint/lib/energy"
)

// systemSpecHelp says what a SYSTEM argument may be, for usage texts and errors.
const systemSpecHelp = "dw4, lj13, lj55, a zoo target (adjoint zoo), FILE.adj (its last system) or FILE.adj:NAME"

// isAdjSpec reports whether spec names a DSL script: FILE.adj or FILE.adj:NAME.
func isAdjSpec(spec string) bool {
	return strings.HasSuffix(spec, ".adj") || strings.Contains(spec, ".adj:")
}

// resolveSystem returns the system a command names: a benchmark, a zoo target (both through
// energy.Benchmark), or a system a DSL script declares (FILE.adj: its last system;
// FILE.adj:NAME: the one named NAME; only the script's declarations run). Every command that
// takes a system (train, eval, plot --system, mcmc, fit) resolves it here.
func resolveSystem(spec string) (*energy.System, error) {
	if isAdjSpec(spec) {
		return adjSystem(spec)
	}
	sys, err := energy.Benchmark(spec)
	if err != nil {
		return nil, fmt.Errorf("system %q (%s): %w", spec, systemSpecHelp, err)
	}
	return sys, nil
}

// loadSampler reads a checkpoint of any system: a benchmark or zoo target by name, a system
// declared in the DSL from the source the checkpoint recorded.
func loadSampler(path string) (*adjoint.Sampler, error) { return dsl.LoadSampler(path) }

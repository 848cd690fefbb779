package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"syscall"
	"time"

	"adjoint/dsl"
	"adjoint/lib/energy"
)

func init() {
	registerBench("dsl", "DSL-compiled energies (LJ-13, DW-4) vs the hand-written ones", runBenchDSL)
}

const benchLJ13Src = `system lj13 {
  particles 13 in 3d
  energy = sum pairs i!=j: r[i,j]^-12 - 2*r[i,j]^-6
         + 0.5 * sum i: norm2(x[i] - com)
}`

const benchDW4Src = `system dw4 {
  particles 4 in 2d
  soften 1e-8
  let a = 0.9, b = -4, d0 = 4
  energy = sum pairs i<j: a*(r[i,j] - d0)^4 + b*(r[i,j] - d0)^2
}`

func runBenchDSL(args []string) error {
	fs := newFlagSet("bench dsl", "[-batch N] [-rounds N] [-threads N] [-device cpu|cuda]")
	batch := fs.Int("batch", 512, "configurations per evaluation")
	rounds := fs.Int("rounds", 15, "alternating rounds (the best and the median are reported)")
	threads := fs.Int("threads", 0, "GOMAXPROCS (0: all cores)")
	device := fs.String("device", "cpu", "cpu, or cuda: the DSL energies on the GPU beside the CPU")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *threads > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(*threads))
	}
	if *device != "cpu" {
		return runBenchDSLCUDA(*device, *batch, *rounds)
	}
	lj, err := energy.NewLJ(13)
	if err != nil {
		return err
	}
	for _, c := range []struct {
		name, src string
		hand      energy.Energy
	}{{"lj13", benchLJ13Src, lj}, {"dw4", benchDW4Src, energy.NewDW4()}} {
		sys, err := compileBenchSystem(c.name, c.src)
		if err != nil {
			return err
		}
		hand, comp, handCPU, compCPU := timeAlternating(c.hand, sys.Energy, *batch, *rounds)
		med := func(v []float64) float64 { return v[len(v)/2] }
		for _, r := range []struct {
			impl   string
			t, cpu []float64
		}{{"handwritten", hand, handCPU}, {"dsl", comp, compCPU}} {
			if err := emitJSON(map[string]any{"bench": "dsl", "system": c.name, "impl": r.impl, "batch": *batch,
				"threads": runtime.GOMAXPROCS(0), "best_us": r.t[0], "median_us": med(r.t),
				"cpu_best_us": r.cpu[0], "cpu_median_us": med(r.cpu)}); err != nil {
				return err
			}
		}
		if err := emitJSON(map[string]any{"bench": "dsl", "system": c.name, "batch": *batch, "threads": runtime.GOMAXPROCS(0),
			"ratio_best": comp[0] / hand[0], "ratio_median": med(comp) / med(hand),
			"cpu_ratio_best": compCPU[0] / handCPU[0], "cpu_ratio_median": med(compCPU) / med(handCPU)}); err != nil {
			return err
		}
	}
	return nil
}

// timeAlternating times energy+gradient of two energies on the same batch, alternating
// between them each round so that both see the same machine load; it returns sorted wall and
// CPU times per evaluation in microseconds.
func timeAlternating(a, b energy.Energy, batch, rounds int) (wallA, wallB, cpuA, cpuB []float64) {
	nd := a.Particles() * a.SpatialDim()
	rng := rand.New(rand.NewPCG(5, 6))
	x := make([]float64, batch*nd)
	for i := range x {
		x[i] = 1.5 * rng.NormFloat64()
	}
	e := make([]float64, batch)
	g := make([]float64, batch*nd)
	once := func(en energy.Energy) (wall, cpu float64) {
		// repeat until ~20 ms have passed, report the time per call
		c0 := cpuTime()
		start := time.Now()
		n := 0
		for time.Since(start) < 20*time.Millisecond {
			en.EnergyGrad(x, e, g)
			n++
		}
		wall = float64(time.Since(start).Nanoseconds()) / 1e3 / float64(n)
		cpu = float64((cpuTime() - c0).Nanoseconds()) / 1e3 / float64(n)
		return wall, cpu
	}
	once(a)
	once(b)
	var ta, tb, ca, cb []float64
	for r := 0; r < rounds; r++ {
		w, c := once(a)
		ta, ca = append(ta, w), append(ca, c)
		w, c = once(b)
		tb, cb = append(tb, w), append(cb, c)
	}
	for _, s := range [][]float64{ta, tb, ca, cb} {
		sort.Float64s(s)
	}
	return ta, tb, ca, cb
}

// cpuTime is the CPU time (user + system) of the process: on a busy machine and with one
// thread, a steadier measure than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// compileBenchSystem compiles one of the benchmark DSL sources and returns its system.
func compileBenchSystem(name, src string) (*energy.System, error) {
	binds, err := dsl.NewSession().Exec(context.Background(), src, name+".adj", nil)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", name, err)
	}
	if len(binds) == 0 {
		return nil, fmt.Errorf("compile %s: nothing declared", name)
	}
	sys, ok := binds[0].Value.(*energy.System)
	if !ok {
		return nil, fmt.Errorf("compile %s: no system", name)
	}
	return sys, nil
}

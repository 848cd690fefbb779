package main

import (
	"fmt"
	"math"
	"math/rand/v2"

	"adjoint/dsl"
	"adjoint/lib/tensor/cuda"
)

// runBenchDSLCUDA times the DSL energies (LJ-13, DW-4) on the GPU beside the same energies on
// the CPU (`adjoint bench dsl --device cuda`), after checking that both agree.
func runBenchDSLCUDA(device string, batch, rounds int) error {
	if device != "cuda" {
		return fmt.Errorf("bench dsl: -device %q: want cpu or cuda", device)
	}
	cuda.SetLog(nil)
	dev, err := cuda.Default()
	if err != nil {
		return fmt.Errorf("bench dsl --device cuda: no CUDA device: %w", err)
	}
	for _, c := range []struct{ name, src string }{{"lj13", benchLJ13Src}, {"dw4", benchDW4Src}} {
		sys, err := compileBenchSystem(c.name, c.src)
		if err != nil {
			return err
		}
		cpu, ok := sys.Energy.(*dsl.Energy)
		if !ok {
			return fmt.Errorf("compile %s: energy of type %T", c.name, sys.Energy)
		}
		gpu, err := cpu.OnDevice(dev)
		if err != nil {
			return err
		}
		worst, err := dslParity(cpu, gpu, batch)
		if err != nil {
			gpu.Close()
			return fmt.Errorf("%s on %s: %w", c.name, dev, err)
		}
		tc, tg, cc, cg := timeAlternating(cpu, gpu, batch, rounds)
		gpu.Close()
		if err := gpu.Err(); err != nil {
			return fmt.Errorf("%s on %s: %w", c.name, dev, err)
		}
		med := func(v []float64) float64 { return v[len(v)/2] }
		for _, r := range []struct {
			impl   string
			t, cpu []float64
		}{{"dsl-cpu", tc, cc}, {"dsl-cuda", tg, cg}} {
			if err := emitJSON(map[string]any{"bench": "dsl", "device": dev.String(), "system": c.name, "impl": r.impl,
				"batch": batch, "best_us": r.t[0], "median_us": med(r.t), "cpu_best_us": r.cpu[0], "cpu_median_us": med(r.cpu)}); err != nil {
				return err
			}
		}
		if err := emitJSON(map[string]any{"bench": "dsl", "device": dev.String(), "system": c.name, "batch": batch,
			"speedup_best": tc[0] / tg[0], "speedup_median": med(tc) / med(tg), "max_rel_diff": worst}); err != nil {
			return err
		}
	}
	return nil
}

// dslParity evaluates a random batch on both and returns the largest relative difference of
// energies and gradients (an error above 1e-10).
func dslParity(cpu *dsl.Energy, gpu *dsl.DeviceEnergy, batch int) (float64, error) {
	nd := cpu.Particles() * cpu.SpatialDim()
	rng := rand.New(rand.NewPCG(9, 10))
	x := make([]float64, batch*nd)
	for i := range x {
		x[i] = 1.5 * rng.NormFloat64()
	}
	e1, e2 := make([]float64, batch), make([]float64, batch)
	g1, g2 := make([]float64, batch*nd), make([]float64, batch*nd)
	cpu.EnergyGrad(x, e1, g1)
	if err := gpu.EnergyGradErr(x, e2, g2); err != nil {
		return 0, err
	}
	worst := 0.0
	for _, p := range [][2][]float64{{e1, e2}, {g1, g2}} {
		for i, w := range p[0] {
			worst = max(worst, math.Abs(p[1][i]-w)/max(1, math.Abs(w)))
		}
	}
	if !(worst <= 1e-10) {
		return worst, fmt.Errorf("GPU and CPU differ by %.3g (relative)", worst)
	}
	return worst, nil
}

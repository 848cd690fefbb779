package viz

import (
	"errors"
	"fmt"
	"math"

	"adjoint/lib/display"
	"adjoint/lib/energy"
)

// SamplesSummary returns a table of summary statistics of configurations of particles·dim
// numbers: counts, the energy's mean, standard deviation (n−1), minimum and maximum under e
// (left out when e is nil), the mean interatomic distance, the mean radius of gyration and the
// largest centre-of-mass norm (0 for samples kept in the zero centre-of-mass subspace).
// Configurations with a non-finite coordinate are counted and left out of the statistics.
func SamplesSummary(x []float64, particles, dim int, e energy.Energy) (*display.Table, error) {
	const fn = "viz.SamplesSummary"
	if particles < 1 || dim < 1 {
		return nil, fmt.Errorf("%s: %d particles in %d dimensions", fn, particles, dim)
	}
	per := particles * dim
	nc, err := configs(fn, x, per, "samples")
	if err != nil {
		return nil, err
	}
	if nc == 0 {
		return nil, errors.New(fn + ": no samples")
	}
	if e != nil && e.Particles()*e.SpatialDim() != per {
		return nil, fmt.Errorf("%s: the energy takes %d·%d coordinates, the samples have %d", fn, e.Particles(), e.SpatialDim(), per)
	}
	var good []float64
	bad := 0
	for c := range nc {
		cfg := x[c*per : (c+1)*per]
		if _, nb := finite(cfg); nb > 0 {
			bad++
			continue
		}
		good = append(good, cfg...)
	}
	t := &display.Table{Caption: fmt.Sprintf("Samples: %d configurations of %d particles in %d-D", nc, particles, dim),
		Header: []string{"statistic", "value"}}
	t.AddRow("configurations", nc)
	t.AddRow("non-finite configurations", bad)
	ng := len(good) / per
	if ng == 0 {
		return t, nil
	}
	if e != nil {
		en := make([]float64, ng)
		e.EnergyGrad(good, en, nil)
		fe, nb := finite(en)
		if len(fe) > 0 {
			mean, sd := meanStd(fe)
			t.AddRow("energy mean", mean)
			t.AddRow("energy std", sd)
			t.AddRow("energy min", minOf(fe))
			t.AddRow("energy max", maxOf(fe))
		}
		if nb > 0 {
			t.AddRow("non-finite energies", nb)
		}
	}
	if particles >= 2 {
		sum, n := 0.0, 0
		pairDistances(good, particles, dim, 1, func(r float64) { sum += r; n++ })
		t.AddRow("mean interatomic distance", sum/float64(n))
	}
	rg, com := 0.0, 0.0
	centre := make([]float64, dim)
	for c := range ng {
		cfg := good[c*per : (c+1)*per]
		clear(centre)
		for i := range particles {
			for k := range dim {
				centre[k] += cfg[i*dim+k] / float64(particles)
			}
		}
		s, cn := 0.0, 0.0
		for i := range particles {
			for k := range dim {
				d := cfg[i*dim+k] - centre[k]
				s += d * d
			}
		}
		for _, v := range centre {
			cn += v * v
		}
		rg += math.Sqrt(s / float64(particles))
		com = math.Max(com, math.Sqrt(cn))
	}
	t.AddRow("mean radius of gyration", rg/float64(ng))
	t.AddRow("max centre-of-mass norm", com)
	return t, nil
}

func meanStd(xs []float64) (mean, sd float64) {
	for _, v := range xs {
		mean += v
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	ss := 0.0
	for _, v := range xs {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

func minOf(xs []float64) float64 {
	m := math.Inf(1)
	for _, v := range xs {
		m = math.Min(m, v)
	}
	return m
}

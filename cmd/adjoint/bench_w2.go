package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"time"

	"adjoint/lib/energy"
	"adjoint/lib/metrics"
)

func init() {
	registerBench("w2", "time the geometric W2 (n vs n samples) of dw4, lj13, lj55", benchW2)
}

// benchW2Result is the JSON line of `adjoint bench w2`.
type benchW2Result struct {
	Bench       string  `json:"bench"`
	System      string  `json:"system"`
	N           int     `json:"n"`
	Source      string  `json:"source"`
	Seconds     float64 `json:"seconds"`
	PairsPerSec float64 `json:"pairs_per_sec"`
	GeometricW2 float64 `json:"geometric_w2"`
	Threads     int     `json:"threads"`
}

func benchW2(args []string) error {
	fs := newFlagSet("bench w2", "[--system dw4|lj13|lj55|all] [-n 2000] [--samples A.npy [--ref B.npy]]")
	system := fs.String("system", "all", "dw4, lj13, lj55 or all")
	n := fs.Int("n", 2000, "samples per set")
	samples := fs.String("samples", "", "first set (.npy; without --ref its two halves are compared); default: the built-in test split, or perturbed LJ-55 minima")
	ref := fs.String("ref", "", "second set (.npy); default: the built-in val split, or perturbed LJ-55 minima")
	seed := fs.Uint64("seed", 1, "seed of the subsampling and of the LJ-55 perturbations")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	systems := []string{*system}
	if *system == "all" {
		systems = []string{"dw4", "lj13", "lj55"}
	}
	_, done := progressToStderr()
	defer done()
	for _, name := range systems {
		sys, err := energy.Benchmark(name)
		if err != nil {
			return err
		}
		var x, y []float64
		source := "files"
		switch {
		case *samples != "" && *ref != "":
			if x, err = loadSamples(*samples, sys, "samples"); err != nil {
				return err
			}
			if y, err = loadSamples(*ref, sys, "reference"); err != nil {
				return err
			}
		case *samples != "":
			// One file: its first and second halves are compared.
			if x, err = loadSamples(*samples, sys, "samples"); err != nil {
				return err
			}
			half := len(x) / sys.Dim() / 2 * sys.Dim()
			x, y = x[:half], x[half:2*half]
			source = "halves of " + *samples
		case name == "dw4" || name == "lj13":
			file := map[string]string{"dw4": "DW4", "lj13": "LJ13-1000"}[name]
			source = "built-in test vs val split"
			if x, err = builtinSamples("test_split_"+file+".npy", sys); err != nil {
				return err
			}
			if y, err = builtinSamples("val_split_"+file+".npy", sys); err != nil {
				return err
			}
		default:
			source = "perturbed, randomly oriented icosahedral LJ-55 minima"
			x = perturbedIcosahedra(rand.New(rand.NewPCG(*seed, 1)), *n, 0.15)
			y = perturbedIcosahedra(rand.New(rand.NewPCG(*seed, 2)), *n, 0.15)
		}
		dim := sys.Dim()
		rng := rand.New(rand.NewPCG(*seed, 3))
		m := min(*n, len(x)/dim, len(y)/dim)
		x = pickRows(rng, x, dim, m)
		y = pickRows(rng, y, dim, m)
		start := time.Now()
		w, err := metrics.GeometricW2(x, y, sys.Energy.Particles(), sys.Energy.SpatialDim())
		if err != nil {
			return fmt.Errorf("bench w2 %s: %w", name, err)
		}
		sec := time.Since(start).Seconds()
		if err := emitJSON(benchW2Result{Bench: "w2", System: name, N: m, Source: source, Seconds: sec,
			PairsPerSec: float64(m) * float64(m) / sec, GeometricW2: w, Threads: runtime.GOMAXPROCS(0)}); err != nil {
			return err
		}
	}
	return nil
}

func pickRows(rng *rand.Rand, x []float64, dim, m int) []float64 {
	out := make([]float64, 0, m*dim)
	for _, i := range rng.Perm(len(x) / dim)[:m] {
		out = append(out, x[i*dim:(i+1)*dim]...)
	}
	return out
}

// icosahedron55 returns the 55-particle Mackay icosahedron (centre, 12-vertex shell, 42-site
// second shell) with nearest-neighbour distance about 1.
func icosahedron55() []float64 {
	phi := (1 + math.Sqrt(5)) / 2
	var v [][3]float64
	for _, s1 := range []float64{-1, 1} {
		for _, s2 := range []float64{-1, 1} {
			v = append(v, [3]float64{0, s1, s2 * phi}, [3]float64{s1, s2 * phi, 0}, [3]float64{s2 * phi, 0, s1})
		}
	}
	scale := 1 / 2.0 // edge length of the unit-coordinate icosahedron is 2
	pts := [][3]float64{{0, 0, 0}}
	for _, p := range v {
		pts = append(pts, [3]float64{p[0] * scale, p[1] * scale, p[2] * scale})
	}
	// Second shell: vertices at twice the radius and the midpoints of the 30 edges.
	for _, p := range v {
		pts = append(pts, [3]float64{2 * p[0] * scale, 2 * p[1] * scale, 2 * p[2] * scale})
	}
	for i := range v {
		for j := i + 1; j < len(v); j++ {
			dx, dy, dz := v[i][0]-v[j][0], v[i][1]-v[j][1], v[i][2]-v[j][2]
			if math.Abs(dx*dx+dy*dy+dz*dz-4) < 1e-9 {
				pts = append(pts, [3]float64{(v[i][0] + v[j][0]) * scale, (v[i][1] + v[j][1]) * scale, (v[i][2] + v[j][2]) * scale})
			}
		}
	}
	out := make([]float64, 0, 3*len(pts))
	for _, p := range pts {
		out = append(out, p[0], p[1], p[2])
	}
	return out
}

// perturbedIcosahedra returns m randomly rotated and relabelled copies of the LJ-55
// icosahedron with Gaussian noise of the given size on every coordinate.
func perturbedIcosahedra(rng *rand.Rand, m int, noise float64) []float64 {
	base := icosahedron55()
	n := len(base) / 3
	out := make([]float64, 0, m*len(base))
	for range m {
		// Random rotation from a random unit quaternion.
		q := [4]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		qn := math.Sqrt(q[0]*q[0] + q[1]*q[1] + q[2]*q[2] + q[3]*q[3])
		a, b, c, d := q[0]/qn, q[1]/qn, q[2]/qn, q[3]/qn
		r := [9]float64{
			a*a + b*b - c*c - d*d, 2 * (b*c - a*d), 2 * (b*d + a*c),
			2 * (b*c + a*d), a*a - b*b + c*c - d*d, 2 * (c*d - a*b),
			2 * (b*d - a*c), 2 * (c*d + a*b), a*a - b*b - c*c + d*d,
		}
		for _, p := range rng.Perm(n) {
			x, y, z := base[3*p], base[3*p+1], base[3*p+2]
			for k := range 3 {
				out = append(out, r[3*k]*x+r[3*k+1]*y+r[3*k+2]*z+noise*rng.NormFloat64())
			}
		}
	}
	return out
}

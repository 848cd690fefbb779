package energy

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"adjoint/internal/testutil"
	"adjoint/lib/npy"
)

func centre(x []float64, n, d int) {
	for k := 0; k < len(x)/(n*d); k++ {
		xs := x[k*n*d : (k+1)*n*d]
		for c := range d {
			var m float64
			for i := range n {
				m += xs[i*d+c]
			}
			m /= float64(n)
			for i := range n {
				xs[i*d+c] -= m
			}
		}
	}
}

func mixture(t *testing.T) *GMM {
	g, err := NewGMM(2, []float64{1, 2, 3}, [][]float64{{-2, 0}, {2, 1}, {0, -3}}, []float64{0.5, 1, 0.3})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func allEnergies(t *testing.T) map[string]Energy {
	lj13, _ := NewLJ(13)
	lj5, _ := NewLJ(5)
	mw, _ := NewManyWell(8)
	q, _ := NewGaussian(3, 2, []float64{1, 2, 3, 4, 5, 6}, 0.7)
	fa, _ := FromFunc(2, 2, func(x []float64) float64 { return math.Sin(x[0])*x[1] + x[2]*x[2]*x[3] }, nil)
	fb, _ := FromFunc(1, 3, func(x []float64) float64 { return x[0] * x[1] * x[2] },
		func(x, g []float64) { g[0], g[1], g[2] = x[1]*x[2], x[0]*x[2], x[0]*x[1] })
	return map[string]Energy{"dw4": NewDW4(), "lj13": lj13, "lj5": lj5, "gmm": mixture(t), "manywell": mw,
		"gauss": q, "func-fd": fa, "func-grad": fb}
}

func TestGradientFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for name, e := range allEnergies(t) {
		t.Run(name, func(t *testing.T) {
			nd := e.Particles() * e.SpatialDim()
			const B = 3
			x := make([]float64, B*nd)
			for i := range x {
				x[i] = rng.NormFloat64() * 1.2
			}
			if strings.HasPrefix(name, "lj") {
				// spread the particles on a lattice so that no pair is too close
				for k := range B {
					for i := range e.Particles() {
						site := [3]int{i % 3, (i / 3) % 3, i / 9}
						for c := range 3 {
							x[k*nd+i*3+c] = 0.08*x[k*nd+i*3+c] + 1.1*float64(site[c])
						}
					}
				}
			}
			en := make([]float64, B)
			g := make([]float64, B*nd)
			e.EnergyGrad(x, en, g)
			xp := append([]float64(nil), x...)
			ep, em := make([]float64, B), make([]float64, B)
			for i := range nd {
				h := 1e-6
				for k := range B {
					xp[k*nd+i] = x[k*nd+i] + h
				}
				e.EnergyGrad(xp, ep, nil)
				for k := range B {
					xp[k*nd+i] = x[k*nd+i] - h
				}
				e.EnergyGrad(xp, em, nil)
				for k := range B {
					xp[k*nd+i] = x[k*nd+i]
					fd := (ep[k] - em[k]) / (2 * h)
					if d := math.Abs(fd - g[k*nd+i]); d > 1e-5*max(1, math.Abs(fd)) {
						t.Fatalf("config %d coord %d: analytic %g, finite difference %g", k, i, g[k*nd+i], fd)
					}
				}
			}
		})
	}
}

func TestBatchParallelMatchesSerial(t *testing.T) {
	// a big batch is split over goroutines; each configuration must equal its lone evaluation
	lj, _ := NewLJ(13)
	rng := rand.New(rand.NewPCG(3, 4))
	const B = 300
	nd := 39
	x := make([]float64, B*nd)
	for i := range x {
		x[i] = rng.NormFloat64() * 2
	}
	e, g := make([]float64, B), make([]float64, B*nd)
	lj.EnergyGrad(x, e, g)
	e1, g1 := make([]float64, 1), make([]float64, nd)
	for _, k := range []int{0, 77, B - 1} {
		lj.EnergyGrad(x[k*nd:(k+1)*nd], e1, g1)
		if e1[0] != e[k] {
			t.Fatalf("config %d: batched %v, alone %v", k, e[k], e1[0])
		}
		for i := range nd {
			if g1[i] != g[k*nd+i] {
				t.Fatalf("config %d grad %d differs", k, i)
			}
		}
	}
}

func TestReferenceMeanEnergies(t *testing.T) {
	cases := []struct {
		file       string
		name       string
		mean, tol  float64
		n, d, dEff int
	}{
		// dEff 0: the equipartition identity is checked on LJ-13 only (ALGORITHM.md §10); the
		// DW-4 reference gives E[x·∇E] ≈ 5.3 rather than 6.
		{"test_split_DW4.npy", "dw4", -22.45, 0.02, 4, 2, 0},
		{"test_split_LJ13-1000.npy", "lj13", -43.13, 0.02, 13, 3, 36},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows, cols, x := loadShared(t, c.file)
			if cols != c.n*c.d {
				t.Fatalf("%s has %d columns, want %d", c.file, cols, c.n*c.d)
			}
			centre(x, c.n, c.d)
			sys, err := Benchmark(c.name)
			if err != nil {
				t.Fatal(err)
			}
			cnt := NewCounter(sys.Energy)
			e, g := make([]float64, rows), make([]float64, rows*cols)
			cnt.EnergyGrad(x, e, g)
			if cnt.Count() != int64(rows) {
				t.Fatalf("counter %d, want %d", cnt.Count(), rows)
			}
			var m, virial float64
			for k := range rows {
				m += e[k]
				for i := range cols {
					virial += x[k*cols+i] * g[k*cols+i]
				}
			}
			m /= float64(rows)
			virial /= float64(rows)
			if math.Abs(m-c.mean) > c.tol {
				t.Fatalf("mean energy %.4f, reference %.2f", m, c.mean)
			}
			// equipartition on the zero-CoM space: E[x·∇E] = (n−1)·d
			if c.dEff > 0 && math.Abs(virial-float64(c.dEff)) > 0.03*float64(c.dEff) {
				t.Fatalf("E[x·∇E] = %.3f, want ≈ %d", virial, c.dEff)
			}
		})
	}
}

func TestMixtureDensityNormalised(t *testing.T) {
	// ∫ exp(−E) over a fine grid is 1 for a normalised mixture
	g := mixture(t)
	const L, N = 9.0, 600
	h := 2 * L / N
	xs := make([]float64, 0, 2*N*N)
	for i := range N {
		for j := range N {
			xs = append(xs, -L+(float64(i)+0.5)*h, -L+(float64(j)+0.5)*h)
		}
	}
	e := make([]float64, N*N)
	g.EnergyGrad(xs, e, nil)
	var z float64
	for _, v := range e {
		z += math.Exp(-v) * h * h
	}
	if math.Abs(z-1) > 1e-4 {
		t.Fatalf("∫exp(−E) = %g, want 1", z)
	}
	r := make([]float64, 3)
	g.Responsibilities([]float64{2, 1}, r)
	if r[1] < 0.9 {
		t.Fatalf("responsibility of the component at its own mean %g", r[1])
	}
}

func TestManyWellMinima(t *testing.T) {
	mw, _ := NewManyWell(4)
	// each double well x⁴ − 6x² − x/2 + y²/2 has minima near x = ±1.7 (Newton on the derivative);
	// the tilt makes the right one lower, so (right, right) is the global minimum.
	newton := func(x float64) float64 {
		for range 50 {
			x -= (4*x*x*x - 12*x - 0.5) / (12*x*x - 12)
		}
		return x
	}
	r, l := newton(1.7), newton(-1.7)
	e, g := make([]float64, 2), make([]float64, 8)
	mw.EnergyGrad([]float64{r, 0, r, 0, l, 0, r, 0}, e, g)
	for i, v := range g {
		if math.Abs(v) > 1e-9 {
			t.Fatalf("gradient %d at a minimum is %g", i, v)
		}
	}
	if want := l*l*l*l - 6*l*l - 0.5*l - (r*r*r*r - 6*r*r - 0.5*r); math.Abs(e[1]-e[0]-want) > 1e-9 || want <= 0 {
		t.Fatalf("energy gap between wells %g, want %g > 0", e[1]-e[0], want)
	}
	if _, err := NewManyWell(3); err == nil {
		t.Fatal("odd dimension accepted")
	}
}

func TestConstructorsReject(t *testing.T) {
	bad := []struct {
		name string
		err  error
	}{
		{"lj1", func() error { _, err := NewLJ(1); return err }()},
		{"gmm-weight", func() error { _, err := NewGMM(1, []float64{-1}, [][]float64{{0}}, []float64{1}); return err }()},
		{"gmm-var", func() error { _, err := NewGMM(1, []float64{1}, [][]float64{{0}}, []float64{0}); return err }()},
		{"gmm-mean", func() error { _, err := NewGMM(2, []float64{1}, [][]float64{{0}}, []float64{1}); return err }()},
		{"gauss", func() error { _, err := NewQuadratic(1, 1, 0); return err }()},
		{"func", func() error { _, err := FromFunc(1, 1, nil, nil); return err }()},
		{"bench", func() error { _, err := Benchmark("lj7"); return err }()},
	}
	for _, b := range bad {
		if b.err == nil {
			t.Errorf("%s: accepted", b.name)
		}
	}
	for _, name := range []string{"dw4", "lj13", "lj55"} {
		s, err := Benchmark(name)
		if err != nil || s.Validate() != nil || s.Tau() != 1 || !s.Symmetry.Rotation {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func ExampleBenchmark() {
	sys, _ := Benchmark("lj13")
	e := make([]float64, 1)
	x := make([]float64, sys.Dim())
	for i := range 13 {
		x[3*i] = 1.1 * float64(i) // a line of particles
	}
	sys.Energy.EnergyGrad(x, e, nil)
	fmt.Printf("%s: %d particles, dim %d, E = %.3f\n", sys.Name, sys.Energy.Particles(), sys.Dim(), e[0])
	// Output: lj13: 13 particles, dim 39, E = 90.238
}

// loadShared reads a reference .npy file of lib/refdata.
func loadShared(t *testing.T, name string) (rows, cols int, data []float64) {
	t.Helper()
	a, err := npy.ReadFile(testutil.SharedData(t, name))
	if err != nil {
		t.Fatalf("read reference data: %v", err)
	}
	if len(a.Shape) != 2 {
		t.Fatalf("%s: shape %v, want 2-D", name, a.Shape)
	}
	return a.Shape[0], a.Shape[1], a.Data
}

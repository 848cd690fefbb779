package energy

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestZooGradientsFiniteDifferences(t *testing.T) {
	fn, _ := NewFunnel(10, 3)
	cases := []struct {
		name   string
		e      Energy
		centre []float64 // points are centre + scale·N(0, 1)
		scale  float64
	}{
		{"gmm40", NewGMM40(), []float64{0, 0}, 20},
		{"funnel10", fn, make([]float64, 10), 1.5},
		{"mueller-brown", MuellerBrown{}, []float64{-0.3, 0.8}, 0.7},
		{"torus3", NewTorus3(), []float64{0, 0}, 2},
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			nd := len(c.centre)
			const B = 5
			x := make([]float64, B*nd)
			for i := range x {
				x[i] = c.centre[i%nd] + c.scale*rng.NormFloat64()
			}
			e, g := make([]float64, B), make([]float64, B*nd)
			c.e.EnergyGrad(x, e, g)
			ep, em := make([]float64, B), make([]float64, B)
			for i := range nd {
				xp, xm := append([]float64(nil), x...), append([]float64(nil), x...)
				const h = 1e-6
				for k := range B {
					xp[k*nd+i] += h
					xm[k*nd+i] -= h
				}
				c.e.EnergyGrad(xp, ep, nil)
				c.e.EnergyGrad(xm, em, nil)
				for k := range B {
					fd := (ep[k] - em[k]) / (2 * h)
					if d := math.Abs(fd - g[k*nd+i]); d > 1e-5*max(1, math.Abs(fd)) {
						t.Fatalf("config %d coord %d: analytic %g, finite difference %g", k, i, g[k*nd+i], fd)
					}
				}
			}
		})
	}
}

func TestZooSystemsResolve(t *testing.T) {
	dims := map[string]int{"gmm40": 2, "manywell32": 32, "funnel10": 10, "mueller-brown": 2, "torus3": 2}
	for _, name := range ZooNames() {
		s, err := Benchmark(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		if s.Name != name || s.Dim() != dims[name] || s.Energy.Particles() != 1 {
			t.Fatalf("%s: name %q, dim %d", name, s.Name, s.Dim())
		}
		if s.Periodic() != (name == "torus3") {
			t.Fatalf("%s: periodic %v", name, s.Periodic())
		}
	}
	if s, _ := Benchmark("mueller-brown"); s.Tau() != MuellerBrownTemperature {
		t.Fatalf("mueller-brown temperature %g", s.Tau())
	}
	if _, err := Benchmark("gmm41"); err == nil {
		t.Fatal("unknown name accepted")
	}
}

func TestGMM40(t *testing.T) {
	g := NewGMM40()
	if g.Components() != 40 {
		t.Fatalf("%d components", g.Components())
	}
	if math.Abs(GMM40Std-1.3132616875182228) > 1e-15 {
		t.Fatalf("std %v, want softplus(1)", GMM40Std)
	}
	again := GMM40Means()
	var lo, hi float64
	for k := range 40 {
		m := g.Mean(k)
		if m[0] != again[k][0] || m[1] != again[k][1] {
			t.Fatal("means are not reproducible")
		}
		lo, hi = min(lo, m[0], m[1]), max(hi, m[0], m[1])
		if math.Abs(g.Weight(k)-1.0/40) > 1e-15 || math.Abs(g.Variance(k)-GMM40Std*GMM40Std) > 1e-15 {
			t.Fatalf("component %d: weight %g variance %g", k, g.Weight(k), g.Variance(k))
		}
	}
	// uniform in [−40, 40]²: inside, and spread over most of it
	if lo < -40 || hi > 40 || lo > -30 || hi < 30 {
		t.Fatalf("means span [%g, %g]", lo, hi)
	}
}

func TestFunnelClosedForm(t *testing.T) {
	f, err := NewFunnel(10, 3)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	x := make([]float64, 10)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	e := make([]float64, 1)
	f.EnergyGrad(x, e, nil)
	// −log N(v; 0, 9) − Σ log N(x_i; 0, e^v)
	logN := func(y, v float64) float64 { return -0.5*y*y/v - 0.5*math.Log(2*math.Pi*v) }
	want := -logN(x[0], 9)
	for _, xi := range x[1:] {
		want -= logN(xi, math.Exp(x[0]))
	}
	if math.Abs(e[0]-want) > 1e-12*math.Abs(want) {
		t.Fatalf("energy %v, closed form %v", e[0], want)
	}
	// normalised in 2-D: ∫∫ exp(−E) dv dx = 1 (x scaled by e^{v/2} per v)
	f2, _ := NewFunnel(2, 3)
	var z float64
	const hv, hz = 0.02, 0.02
	for v := -30.0; v <= 30; v += hv {
		s := math.Exp(v / 2)
		for u := -12.0; u <= 12; u += hz {
			f2.EnergyGrad([]float64{v, s * u}, e, nil)
			z += math.Exp(-e[0]) * s * hv * hz
		}
	}
	if math.Abs(z-1) > 1e-6 {
		t.Fatalf("2-D funnel integrates to %v", z)
	}
	if _, err := NewFunnel(1, 3); err == nil {
		t.Fatal("1-D funnel accepted")
	}
	if _, err := NewFunnel(3, 0); err == nil {
		t.Fatal("zero scale accepted")
	}
}

func TestMuellerBrownMinima(t *testing.T) {
	// the published minima and their energies
	for _, m := range []struct{ x, y, e float64 }{
		{-0.558, 1.442, -146.70}, {0.623, 0.028, -108.17}, {-0.050, 0.467, -80.77},
	} {
		e, gx, gy := MuellerBrown{}.Eval(m.x, m.y)
		if math.Abs(e-m.e) > 0.01 {
			t.Errorf("E(%g, %g) = %g, want %g", m.x, m.y, e, m.e)
		}
		// near a minimum the gradient is small compared with its scale (hundreds)
		if math.Hypot(gx, gy) > 2 {
			t.Errorf("∇E(%g, %g) = (%g, %g)", m.x, m.y, gx, gy)
		}
	}
}

func TestTorus3Periodic(t *testing.T) {
	w := NewTorus3()
	rng := rand.New(rand.NewPCG(8, 8))
	for range 20 {
		x, y := 4*rng.NormFloat64(), 4*rng.NormFloat64()
		e0, gx0, gy0 := w.Eval(x, y)
		for _, s := range [][2]float64{{1, 0}, {0, 1}, {-2, 3}} {
			e1, gx1, gy1 := w.Eval(x+2*math.Pi*s[0], y+2*math.Pi*s[1])
			if math.Abs(e1-e0) > 1e-12 || math.Abs(gx1-gx0) > 1e-11 || math.Abs(gy1-gy0) > 1e-11 {
				t.Fatalf("not periodic at (%g, %g) shift %v: %g vs %g", x, y, s, e1, e0)
			}
		}
	}
}

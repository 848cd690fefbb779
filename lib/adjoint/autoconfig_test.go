package adjoint

import (
	"math"
	"strings"
	"testing"

	"adjoint/lib/energy"
	"adjoint/lib/sde"
)

// gauss8 is 8 Gaussians of standard deviation 0.5 on a circle of radius 5.
func gauss8(t *testing.T) *energy.System {
	t.Helper()
	var means [][]float64
	w := make([]float64, 8)
	v := make([]float64, 8)
	for k := range 8 {
		a := 2 * math.Pi * float64(k) / 8
		means = append(means, []float64{5 * math.Cos(a), 5 * math.Sin(a)})
		w[k], v[k] = 1.0/8, 0.25
	}
	g, err := energy.NewGMM(2, w, means, v)
	if err != nil {
		t.Fatal(err)
	}
	return &energy.System{Name: "gauss8", Energy: g}
}

// For N(0, s² I) the spread (root of the largest eigenvalue of E[x xᵀ]) and the gradient
// length scale are both s, so σ_max = 2s and σ_min = s/100, rounded.
func TestProbeGaussianScales(t *testing.T) {
	for _, tc := range []struct {
		dim int
		std float64
	}{{1, 0.3}, {2, 1}, {2, 4}, {5, 20}} {
		q, err := energy.NewGaussian(1, tc.dim, nil, tc.std)
		if err != nil {
			t.Fatal(err)
		}
		sys := &energy.System{Name: "gauss", Energy: q}
		pr, err := Probe(sys, 1)
		if err != nil {
			t.Fatal(err)
		}
		// the largest of dim sample variances is biased up by a few percent
		if r := pr.Spread / tc.std; r < 0.85 || r > 1.3 {
			t.Errorf("d %d s %g: spread %g, want ≈ s", tc.dim, tc.std, pr.Spread)
		}
		if r := pr.Length / tc.std; r < 0.85 || r > 1.2 {
			t.Errorf("d %d s %g: length scale %g, want ≈ s", tc.dim, tc.std, pr.Length)
		}
		cfg, ch, err := DefaultsFor(sys, 1)
		if err != nil {
			t.Fatal(err)
		}
		spec, _ := sde.SpecOf(cfg.Schedule)
		if r := spec.SigmaMax / tc.std; r < 1.7 || r > 2.7 {
			t.Errorf("d %d s %g: σ_max %g, want ≈ 2s (choices %v)", tc.dim, tc.std, spec.SigmaMax, ch)
		}
		if r := spec.SigmaMin / tc.std; r < 0.004 || r > 0.012 {
			t.Errorf("d %d s %g: σ_min %g, want ≈ s/100", tc.dim, tc.std, spec.SigmaMin)
		}
		if cfg.NetKind() != NetMLP {
			t.Errorf("network %s for a one-particle system", cfg.NetKind())
		}
	}
}

func TestProbeDeterministic(t *testing.T) {
	a, err := Probe(gauss8(t), 3)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Probe(gauss8(t), 3)
	if a != b {
		t.Errorf("same seed, different results: %+v, %+v", a, b)
	}
}

func TestDefaultsForGauss8CoversRadius(t *testing.T) {
	cfg, ch, err := DefaultsFor(gauss8(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := sde.SpecOf(cfg.Schedule)
	if spec.Kind != "geometric" || spec.SigmaMax < 5 {
		t.Errorf("schedule %s, want geometric with σ_max ≥ the radius 5 (choices %v)", cfg.Schedule.Name(), ch)
	}
	if err := cfg.Validate(); err != nil {
		t.Error(err)
	}
	found := false
	for _, c := range ch {
		if c.Setting == "sigma_max" && c.Source == "system" && strings.Contains(c.Why, "spread") {
			found = true
		}
	}
	if !found {
		t.Errorf("no sigma_max choice from the probe: %v", ch)
	}
}

func TestDefaultsForPeriodicBox(t *testing.T) {
	f, err := energy.FromFunc(1, 2, func(x []float64) float64 { return -math.Cos(x[0]) - math.Cos(x[1]) },
		func(x, g []float64) { g[0], g[1] = math.Sin(x[0]), math.Sin(x[1]) })
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []float64{2 * math.Pi, 20} {
		sys := &energy.System{Name: "ring", Energy: f, Box: []float64{l, l}}
		cfg, ch, err := DefaultsFor(sys, 1)
		if err != nil {
			t.Fatal(err)
		}
		spec, _ := sde.SpecOf(cfg.Schedule)
		if spec.SigmaMax < 0.4*l || spec.SigmaMax > 0.42*l {
			t.Errorf("box %g: σ_max %g, want 0.4 × box (choices %v)", l, spec.SigmaMax, ch)
		}
	}
}

func TestDefaultsForBadSystems(t *testing.T) {
	nan, err := energy.FromFunc(1, 2, func([]float64) float64 { return math.NaN() }, func(_, g []float64) { g[0], g[1] = 0, 0 })
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		sys  *energy.System
		want string
	}{
		{"nil", nil, "no system"},
		{"nan", &energy.System{Name: "nan", Energy: nan}, "NaN or infinite at every one of 128 probe points"},
		{"box", &energy.System{Name: "box", Energy: nan, Box: []float64{1, -1}}, "box length"},
	} {
		_, _, err := DefaultsFor(tc.sys, 1)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line with %q", tc.name, err, tc.want)
		}
	}
}

func TestDefaultsForTunedKeepOwn(t *testing.T) {
	for _, name := range []string{"dw4", "lj13", "torus3", "gmm40"} {
		sys, err := energy.Benchmark(name)
		if err != nil {
			t.Fatal(err)
		}
		cfg, ch, err := DefaultsFor(sys, 1)
		if err != nil {
			t.Fatal(err)
		}
		want := DefaultConfig(sys)
		if cfg.Schedule.Name() != want.Schedule.Name() || cfg.Steps != want.Steps || cfg.Net != want.Net || len(ch) == 0 || ch[0].Source != "tuned" {
			t.Errorf("%s: %s %d %v, want the tuned %s %d %v", name, cfg.Schedule.Name(), cfg.Steps, cfg.Net, want.Schedule.Name(), want.Steps, want.Net)
		}
	}
}

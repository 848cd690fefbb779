package zoo

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"adjoint/lib/adjoint"
	"adjoint/lib/energy"
)

func target(t *testing.T, name string) *Target {
	t.Helper()
	tg, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func TestLookupAndConfigs(t *testing.T) {
	if _, err := Lookup("gmm41"); err == nil {
		t.Fatal("unknown target accepted")
	}
	if len(Names()) != 5 {
		t.Fatalf("names %v", Names())
	}
	for _, name := range Names() {
		tg := target(t, name)
		if !Known(name) || tg.Description == "" {
			t.Fatalf("%s: not described", name)
		}
		c, err := tg.Config()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.System.Name != name || c.Net.Kind != adjoint.NetMLP {
			t.Fatalf("%s: config %+v", name, c)
		}
	}
	// gmm40 and mueller-brown hold what the rule for a new system chooses for the same energy
	for _, name := range []string{"gmm40", "mueller-brown"} {
		c, _ := target(t, name).Config()
		sys, _ := target(t, name).System()
		sys.Name += "-new"
		p, _, err := adjoint.DefaultsFor(sys, 1)
		if err != nil {
			t.Fatal(err)
		}
		if c.Schedule.Name() != p.Schedule.Name() || c.Steps != p.Steps || c.TimeSampling != p.TimeSampling ||
			c.Batch != p.Batch || c.GradSteps != p.GradSteps || math.Abs(c.ClipNorm-p.ClipNorm) > 0.05*p.ClipNorm {
			t.Errorf("%s: zoo config %s, %d steps, %v, clip %g; the probe chooses %s, %d steps, %v, clip %g", name,
				c.Schedule.Name(), c.Steps, c.TimeSampling, c.ClipNorm, p.Schedule.Name(), p.Steps, p.TimeSampling, p.ClipNorm)
		}
	}
	var c adjoint.Config
	// a system that only shares a zoo name keeps the generic defaults
	q, _ := energy.NewQuadratic(1, 3, 1)
	c = adjoint.DefaultConfig(&energy.System{Name: "gmm40", Energy: q})
	if c.Schedule.Name() != "geometric(0.001, 1.5)" || c.Steps != 100 {
		t.Fatalf("3-D system named gmm40: %s, %d steps", c.Schedule.Name(), c.Steps)
	}
}

// TestQuadratureClosedForms checks the quadrature code against closed forms: the Gaussian
// integral with the 1-D Simpson rule, a two-component mixture (log Z = 0, basin masses equal to
// the weights) with the 2-D grid and its basins, and the von Mises integral on the torus.
func TestQuadratureClosedForms(t *testing.T) {
	g := simpson(func(y float64) float64 { return 0.5 * y * y }, -12, 12, 2400, 0)
	if math.Abs(g-math.Sqrt(2*math.Pi)) > 1e-12 {
		t.Fatalf("Gaussian integral %v, want √(2π)", g)
	}
	// mixture 0.3 N((−2, 0), 0.5²) + 0.7 N((2, 1), 0.5²): the basins split at the saddle, where
	// the density is below 1e-8 of the peaks, so the masses are the weights to that precision.
	u := func(x, y float64) float64 {
		n := func(mx, my float64) float64 {
			d := (x-mx)*(x-mx) + (y-my)*(y-my)
			return math.Exp(-0.5*d/0.25) / (2 * math.Pi * 0.25)
		}
		return -math.Log(0.3*n(-2, 0) + 0.7*n(2, 1))
	}
	gr, err := quadrature2D(u, -6, -5, 0.02, 601, 551, false)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(gr.logZ) > 1e-10 || len(gr.masses) != 2 {
		t.Fatalf("mixture: log Z %g, %d basins", gr.logZ, len(gr.masses))
	}
	// the deeper minimum (weight 0.7) comes first
	if math.Abs(gr.masses[0]-0.7) > 1e-6 || math.Abs(gr.masses[1]-0.3) > 1e-6 ||
		math.Abs(gr.minima[0][0]-2) > 0.02 || math.Abs(gr.minima[0][1]-1) > 0.02 {
		t.Fatalf("mixture basins %v at %v", gr.masses, gr.minima)
	}
	// torus: ∫∫ exp(κ cos x + κ cos y) = (2π I0(κ))², one basin
	const kappa = 2.0
	i0 := 0.0
	term := 1.0
	for k := 1; k < 40; k++ {
		i0 += term
		term *= (kappa / 2) * (kappa / 2) / float64(k*k)
	}
	n := 128
	h := 2 * math.Pi / float64(n)
	gr, err = quadrature2D(func(x, y float64) float64 { return -kappa * (math.Cos(x) + math.Cos(y)) },
		-math.Pi+h/2, -math.Pi+h/2, h, n, n, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * math.Log(2*math.Pi*i0); math.Abs(gr.logZ-want) > 1e-12 || len(gr.masses) != 1 {
		t.Fatalf("von Mises: log Z %v, want %v; %d basins", gr.logZ, want, len(gr.masses))
	}
}

func TestManywellExact(t *testing.T) {
	ex, err := target(t, "manywell32").Exact()
	if err != nil {
		t.Fatal(err)
	}
	// FAB's published normalising constant of the x part, 11784.50927
	lz, p := manywellMoments(manywellH)
	if math.Abs(math.Exp(lz)/11784.50927-1) > 1e-9 {
		t.Fatalf("Z_x = %.6f, published 11784.50927", math.Exp(lz))
	}
	want := 16 * (math.Log(11784.50927) + 0.5*math.Log(2*math.Pi))
	if math.Abs(ex.LogZ-want) > 1e-7 || math.Abs(ex.LogZ-ex.LogZCheck) > 1e-9 {
		t.Fatalf("log Z %v (check %v), want %v", ex.LogZ, ex.LogZCheck, want)
	}
	// P(x > 0) by an independent rule: the trapezoid on a shifted grid
	var neg, pos float64
	const h = 1e-4
	for x := -6 + h/2; x < 6; x += h {
		w := math.Exp(-doubleWell(x) - 9.5)
		if x > 0 {
			pos += w
		} else {
			neg += w
		}
	}
	if math.Abs(p-pos/(pos+neg)) > 1e-6 || math.Abs(ex.PPositive-p) > 0 {
		t.Fatalf("P(x > 0) %v, trapezoid %v", p, pos/(pos+neg))
	}
	var s float64
	for _, m := range ex.Masses {
		s += m
	}
	if len(ex.Masses) != 17 || math.Abs(s-1) > 1e-12 {
		t.Fatalf("%d classes summing to %v", len(ex.Masses), s)
	}
}

func TestGridTargetsConverged(t *testing.T) {
	for _, name := range []string{"mueller-brown", "torus3"} {
		ex, err := target(t, name).Exact()
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(ex.LogZ-ex.LogZCheck) > 1e-9 {
			t.Errorf("%s: log Z %v at full, %v at half resolution", name, ex.LogZ, ex.LogZCheck)
		}
		if ex.MassCheck > 2e-4 {
			t.Errorf("%s: basin masses move by %g between resolutions", name, ex.MassCheck)
		}
		var s float64
		for _, m := range ex.Masses {
			s += m
			// every basin is occupied (mueller-brown's temperature is chosen for it)
			if m < 0.05 {
				t.Errorf("%s: basin masses %v", name, ex.Masses)
			}
		}
		if len(ex.Masses) != 3 || math.Abs(s-1) > 1e-12 {
			t.Errorf("%s: masses %v", name, ex.Masses)
		}
	}
	// the Müller–Brown basins are ordered by depth: the published minima
	ex, _ := target(t, "mueller-brown").Exact()
	for k, want := range []string{"(-0.560, 1.440)", "(0.625, 0.030)", "(-0.050, 0.465)"} {
		if !strings.Contains(ex.Regions[k], want) {
			t.Errorf("basin %d is %q, want the minimum near %s", k, ex.Regions[k], want)
		}
	}
}

// TestEvaluateExactSamples evaluates exact samples with constant log weights: masses match the
// exact ones within sampling noise, everything is covered, and log Z is recovered exactly.
func TestEvaluateExactSamples(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			tg := target(t, name)
			ex, _ := tg.Exact()
			x, err := tg.ExactSamples(3000, 11)
			if err != nil {
				t.Fatal(err)
			}
			lw := make([]float64, 3000)
			for i := range lw {
				lw[i] = ex.LogZ
			}
			r, err := tg.Evaluate(x, lw, EvalOptions{W2N: 300, Seed: 2, Floor: true})
			if err != nil {
				t.Fatal(err)
			}
			if r.N != 3000 || r.Dropped != 0 || r.Coverage != r.CoverageOf || r.CoverageOf == 0 {
				t.Fatalf("n %d dropped %d coverage %d of %d", r.N, r.Dropped, r.Coverage, r.CoverageOf)
			}
			if r.TV > 0.06 || math.Abs(*r.TVWeighted-r.TV) > 1e-12 {
				t.Fatalf("TV %v (weighted %v)", r.TV, *r.TVWeighted)
			}
			if math.Abs(*r.LogZError) > 1e-9 || math.Abs(*r.ESS-3000) > 1e-6 {
				t.Fatalf("log Z error %v, ESS %v", *r.LogZError, *r.ESS)
			}
			// exact against exact: the W2 is at its noise floor
			if r.W2 == nil || r.W2Floor == nil || *r.W2 > 1.5**r.W2Floor || *r.W2 < *r.W2Floor/1.5 {
				t.Fatalf("W2 %v, floor %v", r.W2, r.W2Floor)
			}
			switch name {
			case "manywell32":
				if *r.PPositiveMAE > 0.03 || math.Abs(float64(r.DistinctModes)-r.ExpectedModes) > 0.1*r.ExpectedModes {
					t.Fatalf("P(x>0) error %v, modes %d of expected %.1f", *r.PPositiveMAE, r.DistinctModes, r.ExpectedModes)
				}
			case "funnel10":
				m := r.Marginal
				if m.KS > 0.04 || m.W1 > 0.3 || math.Abs(m.SD-3) > 0.2 || math.Abs(m.Mean) > 0.2 {
					t.Fatalf("marginal %+v", m)
				}
			}
		})
	}
}

// TestEvaluateImportanceWeights draws from a uniform proposal on the 2-D grid targets: the
// weighted masses and the log Z estimate recover the exact ones, the unweighted ones do not.
func TestEvaluateImportanceWeights(t *testing.T) {
	for _, c := range []struct {
		name           string
		x0, x1, y0, y1 float64
	}{
		{"torus3", -math.Pi, math.Pi, -math.Pi, math.Pi},
		{"mueller-brown", -1.8, 1.3, -0.6, 2.2},
	} {
		tg := target(t, c.name)
		sys, _ := tg.System()
		ex, _ := tg.Exact()
		const n = 40000
		rng := rand.New(rand.NewPCG(3, 4))
		x := make([]float64, 2*n)
		lw := make([]float64, n)
		e := make([]float64, n)
		for i := range n {
			x[2*i] = c.x0 + (c.x1-c.x0)*rng.Float64()
			x[2*i+1] = c.y0 + (c.y1-c.y0)*rng.Float64()
		}
		sys.Energy.EnergyGrad(x, e, nil)
		for i := range n {
			lw[i] = -e[i]/sys.Tau() + math.Log((c.x1-c.x0)*(c.y1-c.y0))
		}
		r, err := tg.Evaluate(x, lw, EvalOptions{W2N: -1})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(*r.LogZError) > 0.05 || *r.TVWeighted > 0.03 || r.TV < 0.04 {
			t.Fatalf("%s: log Z error %v, weighted TV %v, unweighted TV %v", c.name, *r.LogZError, *r.TVWeighted, r.TV)
		}
		if math.Abs(*r.LogZ-ex.LogZ-*r.LogZError) > 1e-12 || r.W2 != nil {
			t.Fatalf("%s: inconsistent report %+v", c.name, r)
		}
	}
}

func TestEvaluateDetectsCollapse(t *testing.T) {
	tg := target(t, "gmm40")
	x, _ := tg.ExactSamples(4000, 5)
	// keep only the samples of mode 0's neighbourhood: a collapsed sampler
	m0 := gmm40.Mean(0)
	var kept []float64
	for i := 0; i < len(x); i += 2 {
		if math.Hypot(x[i]-m0[0], x[i+1]-m0[1]) < 4 {
			kept = append(kept, x[i], x[i+1])
		}
	}
	r, err := tg.Evaluate(kept, nil, EvalOptions{W2N: -1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Coverage > 2 || r.TV < 0.9 || r.LogZ != nil || r.TVWeighted != nil || r.Regions[0].Weighted != nil {
		t.Fatalf("collapsed sampler: coverage %d, TV %v", r.Coverage, r.TV)
	}
}

func TestFunnelMarginalClosedForms(t *testing.T) {
	// all mass at v = 0: KS = ½, W1 = E|3Z| = 3√(2/π), mean 0, sd 0
	mean, sd, ks, w1 := marginalStats([]float64{0, 0}, []float64{0.5, 0.5}, 3)
	if mean != 0 || sd != 0 || math.Abs(ks-0.5) > 1e-15 || math.Abs(w1-3*math.Sqrt(2/math.Pi)) > 1e-9 {
		t.Fatalf("point mass: mean %v sd %v KS %v W1 %v", mean, sd, ks, w1)
	}
	// exact samples shifted by 1: W1 → 1
	rng := rand.New(rand.NewPCG(9, 9))
	v := make([]float64, 20000)
	w := make([]float64, len(v))
	for i := range v {
		v[i] = 3*rng.NormFloat64() + 1
		w[i] = 1 / float64(len(v))
	}
	_, _, _, w1 = marginalStats(v, w, 3)
	if math.Abs(w1-1) > 0.05 {
		t.Fatalf("shifted W1 %v, want 1", w1)
	}
}

func TestEvaluateInputs(t *testing.T) {
	tg := target(t, "torus3")
	if _, err := tg.Evaluate([]float64{1, 2, 3}, nil, EvalOptions{}); err == nil {
		t.Fatal("ragged samples accepted")
	}
	if _, err := tg.Evaluate([]float64{1, 2}, []float64{0, 0}, EvalOptions{}); err == nil {
		t.Fatal("weight count mismatch accepted")
	}
	// a NaN sample is dropped, a NaN weight counts as zero; samples outside the box are wrapped
	x := []float64{math.NaN(), 0, -1.61, -1.39, -1.61 + 2*math.Pi, -1.39, 1.42, 0.27}
	r, err := tg.Evaluate(x, []float64{0, 0, math.NaN(), 0}, EvalOptions{W2N: -1})
	if err != nil {
		t.Fatal(err)
	}
	if r.N != 3 || r.Dropped != 1 || math.Abs(r.Regions[1].Unweighted-2.0/3) > 1e-12 || math.Abs(*r.Regions[1].Weighted-0.5) > 1e-12 {
		t.Fatalf("report %+v", r)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"regions"`, `"coverage"`, `"tv"`, `"log_z"`, `"log_z_error"`, `"log_z_exact"`} {
		if !strings.Contains(string(b), k) {
			t.Fatalf("JSON lacks %s: %s", k, b)
		}
	}
	if s := r.String(); !strings.Contains(s, "coverage") || !strings.Contains(s, "log Z") {
		t.Fatalf("table:\n%s", s)
	}
}

func TestPeriodicW2(t *testing.T) {
	x := []float64{3.1, 0, -3.1, 1}
	y := []float64{-3.1, 1, 3.1, 0} // the same points, one coordinate across the seam
	d, err := w2Points(x, y, 2, true)
	if err != nil || d > 1e-12 {
		t.Fatalf("periodic W2 of identical sets %v (%v)", d, err)
	}
	z := []float64{-3.1, 0, 3.1, 1}
	d, _ = w2Points(x, z, 2, true)
	want := 2*math.Pi - 6.2 // each point moves across the seam
	if math.Abs(d-want) > 1e-12 {
		t.Fatalf("periodic W2 %v, want %v", d, want)
	}
}

// TestEvaluateDefensive checks that defensive rows enter the weighted columns only: the
// unweighted columns equal an evaluation of the other rows, the weighted ones an evaluation of
// all rows, and bad row counts are refused.
func TestEvaluateDefensive(t *testing.T) {
	for _, name := range []string{"mueller-brown", "funnel10", "manywell32"} {
		t.Run(name, func(t *testing.T) {
			tg := target(t, name)
			sys, _ := tg.System()
			dim := sys.Dim()
			const own, def = 1500, 500
			x, err := tg.ExactSamples(own, 7)
			if err != nil {
				t.Fatal(err)
			}
			// the defensive rows: one configuration far from the bulk, repeated
			far := make([]float64, dim)
			for j := range far {
				far[j] = 0.5 + 0.1*float64(j)
			}
			for range def {
				x = append(x, far...)
			}
			lw := make([]float64, own+def)
			for i := range lw {
				lw[i] = -0.001 * float64(i%17)
			}
			opt := EvalOptions{W2N: -1}
			ro, err := tg.Evaluate(x[:own*dim], nil, opt)
			if err != nil {
				t.Fatal(err)
			}
			ra, err := tg.Evaluate(x, lw, opt)
			if err != nil {
				t.Fatal(err)
			}
			opt.Defensive = def
			r, err := tg.Evaluate(x, lw, opt)
			if err != nil {
				t.Fatal(err)
			}
			if r.N != own+def || r.Defensive != def || r.TV != ro.TV || r.Coverage != ro.Coverage || r.TV == ra.TV {
				t.Fatalf("unweighted columns: N %d defensive %d TV %v (own %v, all %v)", r.N, r.Defensive, r.TV, ro.TV, ra.TV)
			}
			if *r.TVWeighted != *ra.TVWeighted || *r.LogZ != *ra.LogZ || *r.ESS != *ra.ESS {
				t.Fatalf("weighted columns: TV %v log Z %v, want %v %v", *r.TVWeighted, *r.LogZ, *ra.TVWeighted, *ra.LogZ)
			}
			for c, g := range r.Regions {
				if g.Unweighted != ro.Regions[c].Unweighted || *g.Weighted != *ra.Regions[c].Weighted {
					t.Fatalf("region %s: %v / %v, want %v / %v", g.Label, g.Unweighted, *g.Weighted, ro.Regions[c].Unweighted, *ra.Regions[c].Weighted)
				}
			}
			if m := r.Marginal; m != nil && (m.KS != ro.Marginal.KS || *m.KSW != *ra.Marginal.KSW) {
				t.Fatalf("marginal KS %v / %v, want %v / %v", m.KS, *m.KSW, ro.Marginal.KS, *ra.Marginal.KSW)
			}
			if r.PPositive != nil && (r.PPositive[0] != ro.PPositive[0] || r.PPositiveW[0] != ra.PPositiveW[0]) {
				t.Fatalf("P(x>0) %v / %v", r.PPositive[0], r.PPositiveW[0])
			}
			if !strings.Contains(r.String(), "defensive rows") {
				t.Fatalf("table lacks the defensive rows:\n%s", r)
			}
			for _, bad := range []struct {
				k  int
				lw []float64
			}{{own + def, lw}, {-1, lw}, {def, nil}} {
				if _, err := tg.Evaluate(x, bad.lw, EvalOptions{W2N: -1, Defensive: bad.k}); err == nil {
					t.Fatalf("defensive %d (weights %v) accepted", bad.k, bad.lw != nil)
				}
			}
		})
	}
}

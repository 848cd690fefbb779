package sde

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func relErr(a, b float64) float64 { return math.Abs(a-b) / math.Max(math.Abs(b), 1e-300) }

func TestKappaClosedForms(t *testing.T) {
	geo, err := Geometric(1e-3, 2)
	if err != nil {
		t.Fatal(err)
	}
	con, _ := Constant(0.7)
	smin, smax := 1e-3, 2.0
	r := smax / smin
	geoSigma := func(t float64) float64 { return smin * math.Pow(r, 1-t) * math.Sqrt(2*math.Log(r)) }
	cases := []struct {
		name  string
		sched Schedule
		kappa func(t float64) float64
	}{
		{"geometric", geo, func(t float64) float64 { return -smax * smax * math.Expm1(-2*t*math.Log(r)) }},
		{"constant", con, func(t float64) float64 { return 0.49 * t }},
		{"fromfunc-geometric", mustFunc(t, "g", geoSigma), func(t float64) float64 { return -smax * smax * math.Expm1(-2*t*math.Log(r)) }},
		{"fromfunc-linear", mustFunc(t, "lin", func(t float64) float64 { return 1 + t }), func(t float64) float64 { return t + t*t + t*t*t/3 }},
		{"fromfunc-exp", mustFunc(t, "exp", math.Exp), func(t float64) float64 { return math.Expm1(2*t) / 2 }},
		{"fromfunc-sin", mustFunc(t, "sin", func(t float64) float64 { return math.Sin(3 * t) }), func(t float64) float64 {
			if t < 1e-3 { // series: the closed form cancels
				return 3*t*t*t - 5.4*math.Pow(t, 5) + 32.4/7*math.Pow(t, 7)
			}
			return t/2 - math.Sin(6*t)/12
		}},
	}
	ts := []float64{1e-7, 1e-4, 3e-3, 0.01, 0.1234567, 0.25, 0.5, 0.77777, 0.999, 1}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, tt := range ts {
				got, want := c.sched.Kappa(tt), c.kappa(tt)
				if e := relErr(got, want); e > 1e-9 {
					t.Errorf("κ(%g) = %.15g, want %.15g (relative error %.2g)", tt, got, want, e)
				}
			}
			if c.sched.Kappa(0) != 0 {
				t.Errorf("κ(0) = %g", c.sched.Kappa(0))
			}
			if c.sched.Name() == "" {
				t.Error("empty name")
			}
		})
	}
	// where both are accurate, the tabulated geometric agrees with the closed form to 1e-9
	tab := mustFunc(t, "g", geoSigma)
	for i := 1; i <= 1000; i++ {
		tt := float64(i) / 1000
		if e := relErr(tab.Kappa(tt), geo.Kappa(tt)); e > 1e-9 {
			t.Fatalf("t = %g: tabulated κ relative error %.2g", tt, e)
		}
	}
}

func mustFunc(t *testing.T, name string, f func(float64) float64) Schedule {
	t.Helper()
	s, err := FromFunc(name, f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestScheduleErrors(t *testing.T) {
	if _, err := Geometric(2, 1); err == nil {
		t.Error("σ_min > σ_max accepted")
	}
	if _, err := Constant(0); err == nil {
		t.Error("σ = 0 accepted")
	}
	if _, err := FromFunc("neg", func(float64) float64 { return -1 }); err == nil {
		t.Error("negative σ accepted")
	}
	if _, err := FromFunc("zero", func(float64) float64 { return 0 }); err == nil {
		t.Error("κ(1) = 0 accepted")
	}
}

// moments returns mean and variance of all entries.
func moments(x []float64) (m, v float64) {
	for _, a := range x {
		m += a
	}
	m /= float64(len(x))
	for _, a := range x {
		v += (a - m) * (a - m)
	}
	return m, v / float64(len(x)-1)
}

func TestBridgeMarginals(t *testing.T) {
	geo, _ := Geometric(1e-3, 1.5)
	rng := rand.New(rand.NewPCG(1, 1))
	sp := Space{Particles: 1, SpatialDim: 1}
	const N = 40000
	for _, tt := range []float64{0, 0.05, 0.3, 0.7, 1} {
		// fixed endpoint: mean γ x1 and variance κ1 γ (1−γ)
		x1 := []float64{1.3}
		xs := make([]float64, N)
		out := []float64{0}
		for i := range N {
			sp.Bridge(rng, geo, tt, x1, out)
			xs[i] = out[0]
		}
		g, v := BridgeMoments(geo, tt)
		k1 := geo.Kappa(1)
		if math.Abs(g-geo.Kappa(tt)/k1) > 1e-15 || math.Abs(v-k1*g*(1-g)) > 1e-12 {
			t.Fatalf("t = %g: moments %g %g", tt, g, v)
		}
		m, vv := moments(xs)
		if math.Abs(m-g*1.3) > 5*math.Sqrt(v/N)+1e-12 || math.Abs(vv-v) > 0.03*v+1e-12 {
			t.Fatalf("t = %g: bridge mean %g var %g, want %g %g", tt, m, vv, g*1.3, v)
		}
		// X_1 ~ base marginal ⇒ X_t ~ N(0, κ(t))
		for i := range N {
			x1[0] = math.Sqrt(k1) * rng.NormFloat64()
			sp.Bridge(rng, geo, tt, x1, out)
			xs[i] = out[0]
		}
		_, vv = moments(xs)
		if kt := geo.Kappa(tt); math.Abs(vv-kt) > 0.03*kt+1e-12 {
			t.Fatalf("t = %g: marginal variance %g, want κ(t) = %g", tt, vv, kt)
		}
	}
}

func TestBridgeProjected(t *testing.T) {
	sched, _ := Constant(1)
	sp := Space{Particles: 4, SpatialDim: 2, Translation: true}
	rng := rand.New(rand.NewPCG(2, 2))
	x1 := []float64{1, 2, -1, 0, 0, -3, 0, 1}
	out := make([]float64, 8)
	sp.Bridge(rng, sched, 0.4, x1, out)
	for c := range 2 {
		var s float64
		for i := range 4 {
			s += out[i*2+c]
		}
		if math.Abs(s) > 1e-12 {
			t.Fatalf("bridge state has centre of mass %g in coordinate %d", s/4, c)
		}
	}
}

func TestIntegrateBaseProcess(t *testing.T) {
	// with u = 0 the EM terminal variance is Σ σ(t_k)² Δt (left end), close to κ(1); on the
	// zero-CoM space each coordinate has variance κ (n−1)/n
	geo, _ := Geometric(1e-2, 1.5)
	sp := Space{Particles: 3, SpatialDim: 2, Translation: true}
	const B, steps = 4000, 200
	x := make([]float64, B*6)
	rng := rand.New(rand.NewPCG(3, 3))
	if err := sp.Integrate(rng, geo, steps, x, nil, nil); err != nil {
		t.Fatal(err)
	}
	var em float64
	for k := range steps {
		s := geo.Sigma(float64(k) / steps)
		em += s * s / steps
	}
	_, v := moments(x)
	want := em * 2 / 3
	if math.Abs(v-want) > 0.04*want {
		t.Fatalf("terminal variance %g, want %g", v, want)
	}
	if math.Abs(em-geo.Kappa(1)) > 0.05*geo.Kappa(1) {
		t.Fatalf("EM variance %g far from κ(1) = %g", em, geo.Kappa(1))
	}
}

func TestGirsanovMartingale(t *testing.T) {
	// under the controlled process, exp(Σ[−u·ξ√Δt − ½‖u‖²Δt]) = dP^0/dP^u has mean 1, and
	// reweighting the controlled samples reproduces the base moments
	sched, _ := Constant(1)
	sp := Space{Particles: 1, SpatialDim: 2}
	const B = 20000
	x := make([]float64, 2*B)
	logw := make([]float64, B)
	rng := rand.New(rand.NewPCG(4, 4))
	ctl := func(x []float64, tt float64, u []float64) error {
		for i := range u {
			u[i] = 0.4 - 0.3*x[i]
		}
		return nil
	}
	if err := sp.Integrate(rng, sched, 100, x, ctl, logw); err != nil {
		t.Fatal(err)
	}
	var sw, sx2, sx float64
	for k := range B {
		w := math.Exp(logw[k])
		sw += w
		sx += w * x[2*k]
		sx2 += w * x[2*k] * x[2*k]
	}
	if math.Abs(sw/B-1) > 0.03 {
		t.Fatalf("E[dP0/dPu] = %g, want 1", sw/B)
	}
	if m, v := sx/sw, sx2/sw; math.Abs(m) > 0.05 || math.Abs(v-1) > 0.06 {
		t.Fatalf("reweighted mean %g var %g, want 0, 1 (weights' mean %g)", m, v, sw/B)
	}
	if err := sp.Integrate(rng, sched, 10, x, func([]float64, float64, []float64) error { return fmt.Errorf("boom") }, nil); err == nil {
		t.Fatal("control error not returned")
	}
}

func TestTorus(t *testing.T) {
	l := 2 * math.Pi
	sp := Space{Particles: 1, SpatialDim: 2, Box: []float64{l, 3}}
	if err := sp.Validate(); err != nil {
		t.Fatal(err)
	}
	x := []float64{4, -4, math.Pi, 1.5, -math.Pi, -1.5, 100, 0}
	Wrap(x, sp.Box)
	for j, v := range x {
		lj := sp.Box[j%2]
		if v <= -lj/2 || v > lj/2 {
			t.Fatalf("wrapped %d = %g outside (−L/2, L/2]", j, v)
		}
	}
	if x[4] != math.Pi || math.Abs(x[0]-(4-l)) > 1e-15 {
		t.Fatalf("wrap %v", x)
	}
	// wrapped normal integrates to one over the box, and the score is its log-derivative
	for _, kappa := range []float64{0.1, 2, 30} {
		const N = 4000
		var z float64
		lp := make([]float64, 1)
		sp1 := Space{Particles: 1, SpatialDim: 1, Box: []float64{l}}
		for i := range N {
			v := -l/2 + (float64(i)+0.5)*l/N
			sp1.BaseLogDensity([]float64{v}, kappa, lp)
			z += math.Exp(lp[0]) * l / N
		}
		if math.Abs(z-1) > 1e-9 {
			t.Fatalf("κ = %g: wrapped normal integrates to %g", kappa, z)
		}
		v, h := 1.1, 1e-6
		g := make([]float64, 1)
		lm := make([]float64, 1)
		sp1.BaseScore([]float64{v}, kappa, g)
		sp1.BaseLogDensity([]float64{v + h}, kappa, lp)
		sp1.BaseLogDensity([]float64{v - h}, kappa, lm)
		if fd := (lp[0] - lm[0]) / (2 * h); math.Abs(fd-g[0]) > 1e-6 {
			t.Fatalf("κ = %g: score %g, finite difference %g", kappa, g[0], fd)
		}
	}
	// X_1 ~ wrapped normal(κ1) and the image-selecting bridge give X_t ~ wrapped normal(κ(t)):
	// E[cos(2π x/L)] = exp(−2π² κ(t)/L²)
	sched, _ := Geometric(0.01, 3)
	sp1 := Space{Particles: 1, SpatialDim: 1, Box: []float64{l}}
	rng := rand.New(rand.NewPCG(5, 5))
	const N = 40000
	for _, tt := range []float64{0.2, 0.5, 0.8} {
		var c float64
		x1, out := make([]float64, 1), make([]float64, 1)
		for range N {
			sp1.SampleBase(rng, sched.Kappa(1), x1)
			sp1.Bridge(rng, sched, tt, x1, out)
			if out[0] <= -l/2 || out[0] > l/2 {
				t.Fatalf("bridge state %g not wrapped", out[0])
			}
			c += math.Cos(out[0])
		}
		c /= N
		if want := math.Exp(-0.5 * sched.Kappa(tt)); math.Abs(c-want) > 0.015 {
			t.Fatalf("t = %g: E[cos x] = %g, want %g", tt, c, want)
		}
	}
	if err := (Space{Particles: 2, SpatialDim: 1, Translation: true, Box: []float64{1}}).Validate(); err == nil {
		t.Fatal("periodic + translation accepted")
	}
}

func TestClipAndCoM(t *testing.T) {
	g := []float64{3, 4, 0.3, 0.4}
	if n := ClipPerParticle(g, 2, 1); n != 1 || math.Abs(g[0]-0.6) > 1e-15 || g[2] != 0.3 {
		t.Fatalf("clip %v (%d)", g, n)
	}
	g = []float64{math.Inf(-1), 1, 1e200, 1e200}
	ClipPerParticle(g, 2, 2)
	if g[0] != -2 || g[1] != 0 || math.Abs(g[2]-math.Sqrt2) > 1e-12 {
		t.Fatalf("clip of huge vectors %v", g)
	}
	for _, spec := range []ScheduleSpec{{Kind: "geometric", SigmaMin: 0.01, SigmaMax: 2}, {Kind: "constant", Sigma: 3}} {
		s, err := spec.Schedule()
		if err != nil {
			t.Fatal(err)
		}
		if back, ok := SpecOf(s); !ok || back != spec {
			t.Fatalf("spec round trip %v → %v", spec, back)
		}
	}
	x := []float64{1, 2, 3, 4, 5, 9}
	RemoveCoM(x, 3, 2)
	if x[0] != -2 || x[1] != -3 || x[5] != 4 {
		t.Fatalf("CoM %v", x)
	}
}

func ExampleGeometric() {
	s, _ := Geometric(1e-3, 1.5)
	fmt.Printf("%s: κ(1) = %.6f\n", s.Name(), s.Kappa(1))
	// Output: geometric(0.001, 1.5): κ(1) = 2.249999
}

func TestIntegrateTorus(t *testing.T) {
	// the base process on a circle of length 2π is the wrapped normal: E[cos x] = exp(−κ/2),
	// and every state stays wrapped
	sched, _ := Constant(1.2)
	sp := Space{Particles: 1, SpatialDim: 1, Box: []float64{2 * math.Pi}}
	const B = 20000
	x := make([]float64, B)
	rng := rand.New(rand.NewPCG(6, 6))
	if err := sp.Integrate(rng, sched, 50, x, nil, nil); err != nil {
		t.Fatal(err)
	}
	var c float64
	for _, v := range x {
		if v <= -math.Pi || v > math.Pi {
			t.Fatalf("state %g not wrapped", v)
		}
		c += math.Cos(v)
	}
	c /= B
	if want := math.Exp(-0.5 * sched.Kappa(1)); math.Abs(c-want) > 0.02 {
		t.Fatalf("E[cos x] = %.4f, want %.4f", c, want)
	}
}

// TestIntegrateKappaBaseProcess: with u = 0 the κ-matched steps give the base marginal's
// variance κ(1) exactly, even with 20 steps of a fast-falling geometric schedule, where
// left-end Euler–Maruyama overshoots.
func TestIntegrateKappaBaseProcess(t *testing.T) {
	geo, _ := Geometric(1e-3, 1.5)
	sp := Space{Particles: 3, SpatialDim: 2, Translation: true}
	const B, steps = 20000, 20
	x := make([]float64, B*6)
	if err := sp.IntegrateKappa(rand.New(rand.NewPCG(5, 5)), geo, steps, x, nil, nil); err != nil {
		t.Fatal(err)
	}
	_, v := moments(x)
	want := geo.Kappa(1) * 2 / 3
	if math.Abs(v-want) > 0.02*want { // sampling error of a variance from 80000 numbers: ~0.5%
		t.Fatalf("terminal variance %g, want %g", v, want)
	}
	var em float64
	for k := range steps {
		s := geo.Sigma(float64(k) / steps)
		em += s * s / steps
	}
	if em < 1.3*geo.Kappa(1) {
		t.Fatalf("left-end EM variance %g should overshoot κ(1) = %g at 20 steps", em, geo.Kappa(1))
	}
}

// TestIntegrateKappaGirsanov: the log weights of κ-matched steps reweight controlled paths back
// to the base process (mean weight 1, base variance κ(1)) under a geometric schedule.
func TestIntegrateKappaGirsanov(t *testing.T) {
	geo, _ := Geometric(1e-2, 1.5)
	sp := Space{Particles: 1, SpatialDim: 2}
	const B = 40000
	x := make([]float64, 2*B)
	logw := make([]float64, B)
	ctl := func(x []float64, tt float64, u []float64) error {
		s := geo.Sigma(tt)
		for i := range u {
			u[i] = s * (0.3 - 0.2*x[i]) // u = σ·v
		}
		return nil
	}
	if err := sp.IntegrateKappa(rand.New(rand.NewPCG(6, 6)), geo, 50, x, ctl, logw); err != nil {
		t.Fatal(err)
	}
	var sw, sx, sx2 float64
	for k := range B {
		w := math.Exp(logw[k])
		sw += w
		sx += w * x[2*k]
		sx2 += w * x[2*k] * x[2*k]
	}
	k1 := geo.Kappa(1)
	if math.Abs(sw/B-1) > 0.05 {
		t.Fatalf("E[dP0/dPu] = %g, want 1", sw/B)
	}
	if m, v := sx/sw, sx2/sw-(sx/sw)*(sx/sw); math.Abs(m) > 0.05 || math.Abs(v-k1) > 0.06*k1 {
		t.Fatalf("reweighted mean %g var %g, want 0, %g", m, v, k1)
	}
}

// TestBridgeLogRatio: under a constant control a the controlled chain ends at N(m, κ) with
// m = Σ_k σ_k c_k Δt · a and the base chain at N(0, κ), so the mean over bridges of exp(−logw)
// must be q(x1)/p(x1) = exp(x1·m/κ − ‖m‖²/(2κ)), for both integrators; and a symmetric space
// is refused.
func TestBridgeLogRatio(t *testing.T) {
	s, err := Geometric(0.1, 1)
	if err != nil {
		t.Fatal(err)
	}
	sp := Space{Particles: 1, SpatialDim: 2}
	a := []float64{1.0, 0.4}
	x1 := []float64{0.5, -0.3}
	const steps, n = 20, 20000
	ctl := func(x []float64, _ float64, u []float64) error {
		for i := range u {
			u[i] = a[i%2]
		}
		return nil
	}
	for _, exact := range []bool{false, true} {
		dt := 1.0 / steps
		var m0, kap float64
		for k := range steps {
			sig, c := stepScale(s, k, dt, exact)
			m0 += sig * c * dt
			kap += sig * sig * dt
		}
		want := math.Exp((x1[0]*a[0]+x1[1]*a[1])*m0/kap - (a[0]*a[0]+a[1]*a[1])*m0*m0/(2*kap))
		rng := rand.New(rand.NewPCG(3, 4))
		xs := make([]float64, 2*n)
		for i := range n {
			copy(xs[2*i:], x1)
		}
		logw := make([]float64, n)
		if err := sp.BridgeLogRatio(rng, s, steps, exact, xs, ctl, logw); err != nil {
			t.Fatal(err)
		}
		var sum, sum2 float64
		for _, l := range logw {
			r := math.Exp(-l)
			sum += r
			sum2 += r * r
		}
		mean := sum / n
		se := math.Sqrt((sum2/n - mean*mean) / n)
		if math.Abs(mean-want) > 4*se+1e-9 {
			t.Errorf("exact=%v: mean exp(−logw) %.5f ± %.5f, want q/p = %.5f", exact, mean, se, want)
		}
	}
	sym := Space{Particles: 2, SpatialDim: 2, Translation: true}
	if err := sym.BridgeLogRatio(rand.New(rand.NewPCG(1, 1)), s, steps, false, make([]float64, 4), ctl, make([]float64, 1)); err == nil {
		t.Error("a space with translation symmetry was accepted")
	}
}

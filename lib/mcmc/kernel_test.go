package mcmc

import (
	"context"
	"fmt"
	"math"
	"testing"

	"adjoint/lib/energy"
)

// torusEnergy is a smooth periodic energy of one particle on [−π, π)² with four regions of
// unequal mass: E = −cos 2x − 0.4 cos x − 0.7 cos 2y + 0.3 cos(x − y).
type torusEnergy struct{}

func (torusEnergy) Particles() int  { return 1 }
func (torusEnergy) SpatialDim() int { return 2 }

func (torusEnergy) EnergyGrad(x, e, g []float64) {
	for c := range e {
		a, b := x[2*c], x[2*c+1]
		e[c] = -math.Cos(2*a) - 0.4*math.Cos(a) - 0.7*math.Cos(2*b) + 0.3*math.Cos(a-b)
		if g != nil {
			g[2*c] = 2*math.Sin(2*a) + 0.4*math.Sin(a) - 0.3*math.Sin(a-b)
			g[2*c+1] = 1.4*math.Sin(2*b) + 0.3*math.Sin(a-b)
		}
	}
}

// torusRegion numbers the four regions: |x| < π/2 and |y| < π/2 make bits 0 and 1.
func torusRegion(a, b float64) int {
	r := 0
	if math.Abs(a) < math.Pi/2 {
		r |= 1
	}
	if math.Abs(b) < math.Pi/2 {
		r |= 2
	}
	return r
}

// TestTorusRegionMasses: MALA and HMC chains on a 2-D torus (positions wrapped into the box,
// the acceptance from the unwrapped move) put the masses of quadrature on the four regions of
// an energy with unequal wells, whose boundaries straddle the box's edges. The bound is four
// standard errors of the chains' means (each chain's fraction is one estimate) plus 0.003.
func TestTorusRegionMasses(t *testing.T) {
	quiet(t)
	const tau = 0.8
	sys := &energy.System{Name: "torus", Energy: torusEnergy{}, Temperature: tau, Box: []float64{2 * math.Pi, 2 * math.Pi}}
	want := torusMasses(tau)
	for _, method := range []string{MALA, HMC} {
		const chains, samples = 200, 20000
		res, err := Sample(sys, Options{Method: method, Samples: samples, Chains: chains, Burn: 400, Thin: 5, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		perChain := make([][4]float64, chains)
		for i := range res.N {
			a, b := res.Samples[2*i], res.Samples[2*i+1]
			if !(a > -math.Pi && a <= math.Pi && b > -math.Pi && b <= math.Pi) {
				t.Fatalf("%s: sample (%g, %g) outside the box", method, a, b)
			}
			perChain[i%chains][torusRegion(a, b)]++
		}
		for r := range want {
			var mean, sq float64
			for c := range chains {
				f := perChain[c][r] / float64(samples/chains)
				mean += f
				sq += f * f
			}
			mean /= chains
			se := math.Sqrt((sq/chains - mean*mean) / (chains - 1))
			t.Logf("%s region %d: chains %.4f ± %.4f, quadrature %.4f", method, r, mean, se, want[r])
			if math.Abs(mean-want[r]) > 4*se+0.003 {
				t.Errorf("%s region %d: mass %.4f ± %.4f, quadrature %.4f", method, r, mean, se, want[r])
			}
		}
	}
}

// shiftedQuadratic is E = ½ Σ_p ‖x_p − a_p‖² for n particles in d dimensions: not translation
// invariant, so on the zero centre-of-mass space its density is N(P a, I) there.
type shiftedQuadratic struct {
	n, d int
	a    []float64
}

func (q shiftedQuadratic) Particles() int  { return q.n }
func (q shiftedQuadratic) SpatialDim() int { return q.d }

func (q shiftedQuadratic) EnergyGrad(x, e, g []float64) {
	nd := q.n * q.d
	for c := range e {
		s := 0.0
		for i := range nd {
			u := x[c*nd+i] - q.a[i]
			s += u * u
			if g != nil {
				g[c*nd+i] = u
			}
		}
		e[c] = 0.5 * s
	}
}

// TestProjectedGradient: with translation symmetry and an energy that is not invariant, the
// chains stay at zero centre of mass and sample the restricted density N(P a, I): mean P a and
// per-coordinate variance 1 − 1/n.
func TestProjectedGradient(t *testing.T) {
	quiet(t)
	q := shiftedQuadratic{n: 3, d: 2, a: []float64{1, 2, 0.5, -1, 3, 0.5}}
	sys := &energy.System{Name: "shifted", Energy: q, Symmetry: energy.Symmetry{Translation: true}}
	pa := append([]float64(nil), q.a...)
	for j := range 2 {
		m := (pa[j] + pa[2+j] + pa[4+j]) / 3
		for p := range 3 {
			pa[2*p+j] -= m
		}
	}
	for _, method := range []string{MALA, HMC} {
		res, err := Sample(sys, Options{Method: method, Samples: 8000, Chains: 400, Burn: 300, Thin: 5, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		for i := range res.N {
			for j := range 2 {
				if s := res.Samples[i*6+j] + res.Samples[i*6+2+j] + res.Samples[i*6+4+j]; math.Abs(s) > 1e-9 {
					t.Fatalf("%s: centre of mass drifted to %g", method, s)
				}
			}
		}
		for k := range 6 {
			m, v := 0.0, 0.0
			for i := range res.N {
				m += res.Samples[i*6+k]
				v += res.Samples[i*6+k] * res.Samples[i*6+k]
			}
			m /= float64(res.N)
			v = v/float64(res.N) - m*m
			if math.Abs(m-pa[k]) > 0.06 || math.Abs(v-2.0/3) > 0.06 {
				t.Errorf("%s: coordinate %d mean %.4f variance %.4f, want %.4f and 2/3", method, k, m, v, pa[k])
			}
		}
	}
}

// TestRefineGaussian: refining samples of a wrong Gaussian (mean off by 2, variance 4) with
// MALA or HMC moves on the true energy gives the target's mean and variance. Each sample is one
// independent chain, so the bounds are four standard errors of N samples plus 0.01.
func TestRefineGaussian(t *testing.T) {
	quiet(t)
	mu := []float64{1, -0.5}
	const v = 0.49
	g, err := energy.NewGMM(2, []float64{1}, [][]float64{mu}, []float64{v})
	if err != nil {
		t.Fatal(err)
	}
	sys := &energy.System{Name: "gauss", Energy: g}
	const n = 4000
	x := make([]float64, 2*n)
	for i := range n {
		// A deterministic, wrong start: mean (−1, 1.5), spread 2.
		x[2*i] = -1 + 2*math.Sin(float64(i)*1.7)
		x[2*i+1] = 1.5 + 2*math.Cos(float64(i)*2.3)
	}
	for _, c := range []struct {
		method string
		steps  int
	}{{MALA, 200}, {HMC, 60}, {Gibbs, 4}} {
		res, err := Refine(context.Background(), sys, x, c.steps, RefineOptions{Method: c.method, Seed: 4})
		if err != nil {
			t.Fatal(err)
		}
		if res.N != n || len(res.Samples) != 2*n {
			t.Fatalf("%s: %d samples", c.method, res.N)
		}
		for k := range 2 {
			m, s := 0.0, 0.0
			for i := range n {
				m += res.Samples[2*i+k]
				s += res.Samples[2*i+k] * res.Samples[2*i+k]
			}
			m /= n
			s = s/n - m*m
			seM, seV := math.Sqrt(v/n), v*math.Sqrt(2.0/n)
			t.Logf("%s coordinate %d: mean %.4f (want %.2f), variance %.4f (want %.2f), accept %.3f", c.method, k, m, mu[k], s, v, res.Accept)
			if math.Abs(m-mu[k]) > 4*seM+0.01 || math.Abs(s-v) > 4*seV+0.01 {
				t.Errorf("%s coordinate %d: mean %.4f variance %.4f, want %.2f and %.2f", c.method, k, m, s, mu[k], v)
			}
		}
	}
	if x[0] != -1 {
		t.Fatal("Refine changed its input")
	}
}

// noGrad is an energy that leaves the gradient alone.
type noGrad struct{}

func (noGrad) Particles() int  { return 1 }
func (noGrad) SpatialDim() int { return 1 }
func (noGrad) EnergyGrad(x, e, _ []float64) {
	for c := range e {
		e[c] = x[c] * x[c]
	}
}

func TestKernelErrors(t *testing.T) {
	quiet(t)
	sys := &energy.System{Name: "flat", Energy: noGrad{}}
	if _, err := Refine(context.Background(), sys, []float64{1, 2}, 5, RefineOptions{}); err == nil {
		t.Error("Refine: energy without gradient accepted")
	}
	if _, err := Sample(sys, Options{Samples: 10, Burn: 2}); err == nil {
		t.Error("Sample: energy without gradient accepted")
	}
	q, _ := energy.NewQuadratic(1, 2, 1)
	good := &energy.System{Name: "q", Energy: q}
	for _, c := range []struct {
		name string
		run  func() error
	}{
		{"nil system", func() error { _, err := NewMALA(nil, KernelOptions{}); return err }},
		{"bad method", func() error { _, err := NewKernel(good, "metropolis", KernelOptions{}); return err }},
		{"gibbs with translation symmetry", func() error {
			dw, _ := energy.Benchmark("dw4")
			_, err := NewKernel(dw, Gibbs, KernelOptions{})
			return err
		}},
		{"gibbs without samples to refine", func() error { _, err := Sample(good, Options{Method: Gibbs, Samples: 10}); return err }},
		{"negative step", func() error { _, err := NewHMC(good, KernelOptions{Step: -1}); return err }},
		{"partial configuration", func() error {
			k, _ := NewMALA(good, KernelOptions{})
			_, err := k.Init([]float64{1, 2, 3})
			return err
		}},
		{"zero steps", func() error {
			_, err := Refine(context.Background(), good, []float64{1, 2}, 0, RefineOptions{})
			return err
		}},
		{"cancelled", func() error {
			k, _ := NewMALA(good, KernelOptions{})
			s, _ := k.Init([]float64{1, 2})
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return k.Step(ctx, s)
		}},
	} {
		if c.run() == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

// Example_kernel builds a sampler from the parts: a MALA kernel, chains started at random, a
// warm-up that adapts the step sizes, then moves whose states are kept.
func Example_kernel() {
	q, _ := energy.NewQuadratic(1, 2, 1) // a 2-D standard normal
	sys := &energy.System{Name: "normal", Energy: q}
	k, _ := NewMALA(sys, KernelOptions{Seed: 1})
	s, _ := k.InitRandom(100, 1)
	adapt := NewAdapter(DefaultTarget(k.Method()))
	ctx := context.Background()
	for t := range 200 {
		k.Step(ctx, s)
		adapt.Update(s, t >= 100)
	}
	adapt.Freeze(s)
	var kept []float64
	for range 20 {
		for range 5 {
			k.Step(ctx, s)
		}
		kept = append(kept, s.X...)
	}
	id, _ := CheckIdentities(sys, kept, 0)
	fmt.Println(len(kept)/2, math.Abs(id.Virial-2) < 0.2)
	// Output: 2000 true
}

// softGas is E = Σ_{i<j} 2 exp(−r²_ij / 0.5) with minimum-image distances, plus the periodic
// potential −Σ_i Σ_k cos(2π x_ik / L_k), in a periodic box.
type softGas struct {
	n   int
	box []float64
}

func (s softGas) Particles() int  { return s.n }
func (s softGas) SpatialDim() int { return 2 }

func (s softGas) EnergyGrad(x, e, g []float64) {
	nd := 2 * s.n
	for c := range e {
		xs := x[c*nd : (c+1)*nd]
		var gs []float64
		if g != nil {
			gs = g[c*nd : (c+1)*nd]
			clear(gs)
		}
		e[c] = 0
		for i := range s.n {
			for k := range 2 {
				w := 2 * math.Pi / s.box[k]
				e[c] -= math.Cos(w * xs[2*i+k])
				if gs != nil {
					gs[2*i+k] += w * math.Sin(w*xs[2*i+k])
				}
			}
			for j := i + 1; j < s.n; j++ {
				var d [2]float64
				r2 := 0.0
				for k := range 2 {
					u := xs[2*i+k] - xs[2*j+k]
					u -= s.box[k] * math.Round(u/s.box[k])
					d[k] = u
					r2 += u * u
				}
				w := 2 * math.Exp(-r2/0.5)
				e[c] += w
				if gs != nil {
					for k := range 2 {
						f := -w * 2 * d[k] / 0.5
						gs[2*i+k] += f
						gs[2*j+k] -= f
					}
				}
			}
		}
	}
}

// TestPeriodicGas: chains of a particle system on a torus start on a lattice filling the box,
// stay in it, and satisfy E[‖∇E‖²] = τ·E[ΔE], the identity that holds on a torus.
func TestPeriodicGas(t *testing.T) {
	quiet(t)
	box := []float64{3, 2.5}
	sys := &energy.System{Name: "gas", Energy: softGas{n: 4, box: box}, Temperature: 0.7, Box: box}
	for _, method := range []string{MALA, HMC} {
		res, err := Sample(sys, Options{Method: method, Samples: 6000, Chains: 300, Burn: 300, Thin: 5, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range res.Samples {
			if l := box[i%2]; !(v > -l/2 && v <= l/2) {
				t.Fatalf("%s: coordinate %d = %g outside the box", method, i, v)
			}
		}
		id, err := CheckIdentities(sys, res.Samples, 2000)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: ratio %.4f ± %.4f, accept %.3f", method, id.Ratio, id.RatioSE, res.Accept)
		if !id.Periodic || id.Virial != 0 || math.Abs(id.Ratio-1) > 4*id.RatioSE+0.01 {
			t.Errorf("%s: identities %+v", method, id)
		}
	}
}

// TestSwitchKernels: a state started by a MALA kernel moves on under an HMC kernel of the same
// system (and back), and the chains end at the target's variance.
func TestSwitchKernels(t *testing.T) {
	q, _ := energy.NewQuadratic(1, 2, 0.5)
	sys := &energy.System{Name: "q", Energy: q, Box: []float64{20, 20}}
	mala, err := NewMALA(sys, KernelOptions{Step: 0.3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	hmc, err := NewHMC(sys, KernelOptions{Step: 0.2, Leapfrog: 5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, err := mala.InitRandom(500, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 60 {
		k := mala
		if i%2 == 1 {
			k = hmc
		}
		if err := k.Step(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	v := 0.0
	for _, x := range s.X {
		v += x * x
	}
	v /= float64(len(s.X))
	if math.Abs(v-0.25) > 0.04 {
		t.Errorf("variance %.4f, want 0.25", v)
	}
	if s.Evals != 500*(1+30+30*5) {
		t.Errorf("%d energy evaluations, want %d", s.Evals, 500*(1+30+30*5))
	}
}

// torusMasses returns the masses of exp(−E/τ) of torusEnergy in the four regions of
// torusRegion, by midpoint quadrature (spectrally accurate for a smooth periodic integrand).
func torusMasses(tau float64) [4]float64 {
	const m = 400
	var want [4]float64
	z := 0.0
	e := make([]float64, 1)
	for i := range m {
		for j := range m {
			a := -math.Pi + (float64(i)+0.5)*2*math.Pi/m
			b := -math.Pi + (float64(j)+0.5)*2*math.Pi/m
			torusEnergy{}.EnergyGrad([]float64{a, b}, e, nil)
			w := math.Exp(-e[0] / tau)
			want[torusRegion(a, b)] += w
			z += w
		}
	}
	for r := range want {
		want[r] /= z
	}
	return want
}

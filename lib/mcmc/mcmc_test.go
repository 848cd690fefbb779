package mcmc

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"adjoint/internal/testutil"
	"adjoint/lib/display"
	"adjoint/lib/energy"
	"adjoint/lib/metrics"
	"adjoint/lib/npy"
	"adjoint/lib/sde"
)

func quiet(t *testing.T) {
	t.Cleanup(display.SetSink(nil))
}

// TestGaussianMoments: samples of N(0, s²I) have mean 0 and variance s² per coordinate, and
// satisfy the identities with d_eff = n·d, for both methods and a non-unit temperature.
func TestGaussianMoments(t *testing.T) {
	quiet(t)
	q, err := energy.NewQuadratic(2, 2, 0.7)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method string
		tau    float64
	}{{MALA, 1}, {HMC, 1}, {MALA, 2}} {
		t.Run(c.method, func(t *testing.T) {
			sys := &energy.System{Name: "gauss", Energy: q, Temperature: c.tau}
			res, err := Sample(sys, Options{Method: c.method, Samples: 8000, Chains: 400, Burn: 300, Thin: 5, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if res.N != 8000 || len(res.Samples) != 8000*4 {
				t.Fatalf("got %d samples", res.N)
			}
			want := 0.49 * c.tau
			for k := range 4 {
				m, v := 0.0, 0.0
				for i := range res.N {
					x := res.Samples[i*4+k]
					m += x
					v += x * x
				}
				m /= float64(res.N)
				v = v/float64(res.N) - m*m
				// Samples are correlated within chains: allow about 4 effective standard errors.
				if math.Abs(m) > 0.06*math.Sqrt(c.tau) || math.Abs(v-want) > 0.08*want {
					t.Errorf("coordinate %d: mean %.4f variance %.4f, want 0 and %.4f", k, m, v, want)
				}
			}
			if res.Accept < 0.4 || res.Accept > 0.9 {
				t.Errorf("acceptance %.3f far from the target", res.Accept)
			}
			id, err := CheckIdentities(sys, res.Samples, 0)
			if err != nil {
				t.Fatal(err)
			}
			if id.DEff != 4 || math.Abs(id.Virial-4) > 0.15 || math.Abs(id.Ratio-1) > 0.05 {
				t.Errorf("identities %+v", id)
			}
		})
	}
}

func TestDeterministicAndCancel(t *testing.T) {
	quiet(t)
	sys, _ := energy.Benchmark("dw4")
	opt := Options{Samples: 50, Chains: 10, Burn: 20, Thin: 2, Seed: 9, AnnealFrom: 3}
	a, err := Sample(sys, opt)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Sample(sys, opt)
	for i := range a.Samples {
		if a.Samples[i] != b.Samples[i] {
			t.Fatal("same seed, different samples")
		}
	}
	opt.Seed = 10
	c, _ := Sample(sys, opt)
	if c.Samples[0] == a.Samples[0] {
		t.Fatal("different seeds, same samples")
	}
	// Zero CoM is kept.
	for i := 0; i < len(a.Samples); i += 8 {
		sx := a.Samples[i] + a.Samples[i+2] + a.Samples[i+4] + a.Samples[i+6]
		if math.Abs(sx) > 1e-9 {
			t.Fatalf("CoM drifted: %g", sx)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := SampleContext(ctx, sys, opt); err == nil {
		t.Fatal("cancelled context ignored")
	}
	if _, err := Sample(sys, Options{Method: "gibbs"}); err == nil {
		t.Fatal("unknown method accepted")
	}
	if _, err := Sample(sys, Options{Init: []float64{1, 2}}); err == nil {
		t.Fatal("bad Init accepted")
	}
}

// TestIdentitiesOnReference checks the identities on the shared reference samples (ALGORITHM.md
// §10: DW-4 d_eff 6; LJ-13 35.996 ± 0.59 and ratio 0.992).
func TestIdentitiesOnReference(t *testing.T) {
	for _, c := range []struct {
		system, file string
		deff         int
		maxN         int
	}{{"dw4", "test_split_DW4.npy", 6, 10000}, {"lj13", "test_split_LJ13-1000.npy", 36, 1000}} {
		sys, _ := energy.Benchmark(c.system)
		a, err := npy.ReadFile(testutil.SharedData(t, c.file))
		if err != nil {
			t.Fatal(err)
		}
		id, err := CheckIdentities(sys, a.Data, c.maxN)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: x·∇E %.3f ± %.3f (want %d), ratio %.4f ± %.4f, energy %.2f (%.2f)", c.system, id.Virial, id.VirialSE, c.deff, id.Ratio, id.RatioSE, id.MeanEnergy, id.SDEnergy)
		if id.DEff != c.deff || math.Abs(id.Virial-float64(c.deff)) > 4*id.VirialSE+0.05 || math.Abs(id.Ratio-1) > 4*id.RatioSE+0.02 {
			t.Errorf("%s: identities fail: %+v", c.system, id)
		}
	}
}

func pairFractionBelow(x []float64, n, d int, r float64) float64 {
	dist := metrics.PairDistances(x, n, d)
	k := 0
	for _, v := range dist {
		if v < r {
			k++
		}
	}
	return float64(k) / float64(len(dist))
}

// TestDW4AgainstReference compares annealed HMC samples of DW-4 with the test split. The
// identities and the energy distribution agree with the reference. The weights of the pair
// distance modes do not quite: long runs of three samplers (MALA, HMC, plain random-walk
// Metropolis) agree on a fraction 0.49–0.50 of pair distances below 4, where the reference has
// 0.52 (test and val alike): configurations with two short pairs make 52% of the chains'
// samples and 44% of the reference, those with four short pairs 41% and 47%. Chains switch
// between the two about once per 300 HMC moves, so the warm-up mixes them. The geometric W2
// against the test split sits at 0.41–0.49 instead of the 0.30 floor, while two independent
// MCMC runs against each other give 0.29–0.32 (the floor). Importance sampling, which uses no
// chain at all, agrees with the chains (TestDW4ArrangementsAgainstImportanceSampling), so the
// reference splits, not the samplers, are off in their arrangement weights. The test pins what
// is established.
func TestDW4AgainstReference(t *testing.T) {
	quiet(t)
	sys, _ := energy.Benchmark("dw4")
	res, err := Sample(sys, Options{Method: HMC, Samples: 2000, Chains: 1000, Burn: 1000, Thin: 50, AnnealFrom: 3, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := npy.ReadFile(testutil.SharedData(t, "test_split_DW4.npy"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := metrics.Evaluate(sys, res.Samples, ref.Data, metrics.EvalOptions{N: 2000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	id, err := CheckIdentities(sys, res.Samples, 0)
	if err != nil {
		t.Fatal(err)
	}
	short := pairFractionBelow(res.Samples, 4, 2, 4)
	t.Logf("DW-4 HMC (accept %.3f, %.1f s): energy W2 %.3f, geometric W2 %.3f, distance W2 %.3f, mean energy %.3f (ref %.3f), x·∇E %.2f ± %.2f, ratio %.4f ± %.4f, pairs below 4: %.4f",
		res.Accept, res.Seconds, r.EnergyW2, r.GeometricW2, r.DistanceW2, r.MeanEnergyGen, r.MeanEnergyRef, id.Virial, id.VirialSE, id.Ratio, id.RatioSE, short)
	if math.Abs(r.MeanEnergyGen+22.45) > 0.3 || r.EnergyW2 > 0.3 || r.GeometricW2 > 0.6 {
		t.Errorf("DW-4 MCMC samples far from the reference: %+v", r)
	}
	if math.Abs(id.Virial-6) > 4*id.VirialSE || math.Abs(id.Ratio-1) > 4*id.RatioSE+0.01 {
		t.Errorf("identities fail on MCMC samples: %+v", id)
	}
	if short < 0.47 || short > 0.53 {
		t.Errorf("fraction of pair distances below 4: %.4f", short)
	}
}

// TestDW4ArrangementsAgainstImportanceSampling checks the weights of DW-4's metastable
// arrangements (configurations by number of pairs closer than the barrier at r = 4) in HMC
// samples against an estimator that uses no Markov chain: self-normalised importance sampling
// of exp(−E) from an isotropic Gaussian on the zero-CoM space. Both put about 52% of the mass
// on two short pairs and 40% on four; the shared DW-4 reference splits have 44% and 47%
// (a 4e7-draw run of the same estimator gives 0.522 ± 0.003 and 0.403 ± 0.003).
func TestDW4ArrangementsAgainstImportanceSampling(t *testing.T) {
	quiet(t)
	sys, _ := energy.Benchmark("dw4")
	const draws, sd = 2_000_000, 2.2
	rng := rand.New(rand.NewPCG(11, 12))
	x := make([]float64, 8)
	e := make([]float64, 1)
	logw := make([]float64, draws)
	class := make([]int, draws)
	for i := range draws {
		for k := range x {
			x[k] = sd * rng.NormFloat64()
		}
		sde.RemoveCoM(x, 4, 2)
		sys.Energy.EnergyGrad(x, e, nil)
		q := 0.0
		for _, v := range x {
			q += v * v
		}
		logw[i] = -e[0] + q/(2*sd*sd)
		class[i] = metrics.ShortPairs(x, 4, 2, 4)
	}
	top := math.Inf(-1)
	for _, v := range logw {
		top = max(top, v)
	}
	var is [7]float64
	sum, sum2 := 0.0, 0.0
	for i, v := range logw {
		w := math.Exp(v - top)
		is[class[i]] += w
		sum += w
		sum2 += w * w
	}
	ess := sum * sum / sum2
	res, err := Sample(sys, Options{Method: HMC, Samples: 4000, Chains: 1000, Burn: 1000, Thin: 100, AnnealFrom: 3, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	hmc, err := metrics.ShortPairFractions(res.Samples, 4, 2, 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []int{2, 4} {
		p := is[k] / sum
		// Binomial errors at the effective sizes of both estimates (the HMC samples are
		// nearly independent: chains change arrangement between most kept samples).
		se := math.Sqrt(p*(1-p)/ess + p*(1-p)/float64(res.N))
		t.Logf("%d short pairs: importance sampling %.4f (ESS %.0f), HMC %.4f, ±%.4f", k, p, ess, hmc[k], se)
		if math.Abs(hmc[k]-p) > 4*se {
			t.Errorf("%d short pairs: HMC %.4f, importance sampling %.4f ± %.4f", k, hmc[k], p, se)
		}
	}
}

// TestDW4AtFloorWithinArrangements: drawn with the arrangement weights of the val split, HMC
// samples of DW-4 sit at the noise floor against the test split (geometric W2 0.30, here
// within 20%), so the arrangement weights are the only way the chains and the shared splits
// differ (see TestDW4ArrangementsAgainstImportanceSampling and docs/validation.md).
func TestDW4AtFloorWithinArrangements(t *testing.T) {
	quiet(t)
	sys, _ := energy.Benchmark("dw4")
	res, err := Sample(sys, Options{Method: HMC, Samples: 6000, Chains: 1000, Burn: 6000, Thin: 1000, AnnealFrom: 3, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	val, err := npy.ReadFile(testutil.SharedData(t, "val_split_DW4.npy"))
	if err != nil {
		t.Fatal(err)
	}
	test, err := npy.ReadFile(testutil.SharedData(t, "test_split_DW4.npy"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := metrics.ShortPairFractions(val.Data, 4, 2, 4)
	have, _ := metrics.ShortPairFractions(res.Samples, 4, 2, 4)
	// Weighted draw of 2000 without replacement (Efraimidis–Spirakis keys u^(1/w)).
	rng := rand.New(rand.NewPCG(5, 6))
	type keyed struct {
		key float64
		i   int
	}
	keys := make([]keyed, 0, res.N)
	for i := range res.N {
		k := metrics.ShortPairs(res.Samples[i*8:(i+1)*8], 4, 2, 4)
		if want[k] == 0 || have[k] == 0 {
			continue
		}
		keys = append(keys, keyed{math.Log(rng.Float64()) / (want[k] / have[k]), i})
	}
	sort.Slice(keys, func(a, b int) bool { return keys[a].key > keys[b].key })
	drawn := make([]float64, 0, 2000*8)
	for _, k := range keys[:2000] {
		drawn = append(drawn, res.Samples[k.i*8:(k.i+1)*8]...)
	}
	r, err := metrics.Evaluate(sys, drawn, test.Data, metrics.EvalOptions{N: 2000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("HMC with the val split's arrangement weights vs test: geometric W2 %.3f, energy W2 %.3f (floor 0.300, 0.108)", r.GeometricW2, r.EnergyW2)
	if r.GeometricW2 > 0.36 {
		t.Errorf("geometric W2 %.3f above the floor's 20%% band (0.36)", r.GeometricW2)
	}
}

func ExampleSample() {
	restore := display.SetSink(nil) // no progress view
	defer restore()
	q, _ := energy.NewQuadratic(1, 2, 1) // a 2-D standard normal
	sys := &energy.System{Name: "normal", Energy: q}
	res, _ := Sample(sys, Options{Samples: 4000, Chains: 200, Burn: 200, Thin: 5, Seed: 1})
	id, _ := CheckIdentities(sys, res.Samples, 0)
	fmt.Println(res.N, id.DEff, math.Abs(id.Virial-2) < 0.2)
	// Output: 4000 2 true
}

// TestProjectedGaussian: with translation symmetry the chains live on the zero-CoM space, where
// N(0, I) restricted has per-coordinate variance 1 − 1/n and E[x·∇E] = (n−1)·d.
func TestProjectedGaussian(t *testing.T) {
	quiet(t)
	q, _ := energy.NewQuadratic(3, 2, 1)
	sys := &energy.System{Name: "projected", Energy: q, Symmetry: energy.Symmetry{Translation: true}}
	for _, method := range []string{MALA, HMC} {
		res, err := Sample(sys, Options{Method: method, Samples: 8000, Chains: 400, Burn: 300, Thin: 5, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		for k := range 6 {
			v := 0.0
			for i := range res.N {
				v += res.Samples[i*6+k] * res.Samples[i*6+k]
			}
			v /= float64(res.N)
			if math.Abs(v-2.0/3) > 0.06 {
				t.Errorf("%s: coordinate %d variance %.4f, want 2/3", method, k, v)
			}
		}
		id, _ := CheckIdentities(sys, res.Samples, 0)
		if id.DEff != 4 || math.Abs(id.Virial-4) > 0.15 {
			t.Errorf("%s: virial %.3f (d_eff %d), want 4", method, id.Virial, id.DEff)
		}
	}
}

package adjoint

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"adjoint/lib/display"
	"adjoint/lib/energy"
	"adjoint/lib/sde"
)

// TestDiagnoseGaussianProposal: for the target exp(−‖x‖²/2) in d dimensions (Z = (2π)^{d/2})
// and a deliberately wrong Gaussian proposal q = N(μ, b² I), the ESS fraction tends to
// Z²/E_q[w²] = Π_i sqrt(2b² − 1)/b² · exp(−μ_i²/(2b² − 1)), log Z comes within a few standard
// errors of its exact value, and the standard error matches sqrt((E_q[w²]/Z² − 1)/n).
func TestDiagnoseGaussianProposal(t *testing.T) {
	const n = 100000
	cases := []struct {
		name  string
		d     int
		scale float64   // proposal standard deviation b
		shift []float64 // proposal mean μ
		// exact ESS fraction Z²/E_q[w²]: (sqrt(2b² − 1)/b²)^d for N(0, b²), exp(−‖μ‖²) for N(μ, 1)
		frac float64
	}{
		{"wide", 3, 1.3, nil, math.Pow(math.Sqrt(2*1.69-1)/1.69, 3)},
		{"shifted", 2, 1, []float64{0.5, 0.3}, math.Exp(-0.34)},
		{"wide and shifted", 1, 1.5, []float64{-0.4}, math.Sqrt(2*2.25-1) / 2.25 * math.Exp(-0.16/(2*2.25-1))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 5))
			logw := make([]float64, n)
			energy := make([]float64, n)
			for k := range logw {
				var e, lq float64
				for i := range c.d {
					mu := 0.0
					if c.shift != nil {
						mu = c.shift[i]
					}
					z := rng.NormFloat64()
					x := mu + c.scale*z
					e += 0.5 * x * x
					lq += -0.5*z*z - math.Log(c.scale) - 0.5*math.Log(2*math.Pi)
				}
				energy[k] = e
				logw[k] = -e - lq
			}
			d := Diagnose(logw, energy)
			logZ := 0.5 * float64(c.d) * math.Log(2*math.Pi)
			se := math.Sqrt((1/c.frac - 1) / n)
			t.Logf("ESS/N %.4f (exact %.4f), log Z %.4f ± %.4f (exact %.4f, se %.4f)", d.ESSFraction, c.frac, d.LogZ, d.LogZSE, logZ, se)
			if d.N != n || d.Used != n || d.NonFinite != 0 {
				t.Fatalf("counts %+v", d)
			}
			if math.Abs(d.ESSFraction-c.frac) > 0.01 {
				t.Errorf("ESS fraction %.4f, closed form %.4f", d.ESSFraction, c.frac)
			}
			if math.Abs(d.LogZSE-se) > 0.1*se {
				t.Errorf("standard error %.5f, closed form %.5f", d.LogZSE, se)
			}
			if math.Abs(d.LogZ-logZ) > 4*se {
				t.Errorf("log Z %.5f, exact %.5f (se %.5f)", d.LogZ, logZ, se)
			}
			if w := d.Warnings(); len(w) != 0 {
				t.Errorf("warnings for good weights: %q", w)
			}
		})
	}
}

// TestDiagnoseEdgeCases: equal weights, one dominant weight, zero weights, non-finite values.
func TestDiagnoseEdgeCases(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	equal := make([]float64, 20)
	for i := range equal {
		equal[i] = 2
	}
	collapsed := make([]float64, 200) // one weight e^50 times the others
	for i := 1; i < len(collapsed); i++ {
		collapsed[i] = -50
	}
	cases := []struct {
		name                 string
		logw, energy         []float64
		ess, share, logZ, se float64 // NaN: must be NaN
		used, nonFinite      int
		warnings             []string // substrings, one per warning, in order
	}{
		{"equal", equal, nil, 20, 0.05, 2, 0, 20, 0, nil},
		{"few equal", []float64{2, 2, 2, 2}, nil, 4, 0.25, 2, 0, 4, 0, []string{"holds 25%"}},
		{"collapsed", collapsed, nil, 1, 1, math.Log(1. / 200), 1, 200, 0, []string{"train longer", "holds 100%"}},
		{"one of two", []float64{0, math.Log(3)}, nil, 1.6, 0.75, math.Log(2), 0.5, 2, 0, []string{"holds 75%"}},
		{"zero weights count", []float64{0, -inf}, []float64{1, inf}, 1, 1, math.Log(0.5), 1, 2, 1,
			[]string{"holds 100%", "1 of 2 samples"}},
		{"NaN and +Inf left out", []float64{0, 0, nan, inf}, []float64{1, 1, nan, -inf}, 2, 0.5, 0, 0, 2, 2,
			[]string{"holds 50%", "2 of 4"}},
		{"all zero", []float64{-inf, -inf}, nil, 0, nan, -inf, nan, 2, 2, []string{"all 2 weights are zero"}},
		{"none usable", []float64{nan, inf}, nil, 0, nan, nan, nan, 0, 2, []string{"none of the 2"}},
	}
	same := func(got, want float64) bool {
		if math.IsNaN(want) {
			return math.IsNaN(got)
		}
		return got == want || math.Abs(got-want) < 1e-12
	}
	for _, c := range cases {
		d := Diagnose(c.logw, c.energy)
		if !same(d.ESS, c.ess) || !same(d.MaxShare, c.share) || !same(d.LogZ, c.logZ) || !same(d.LogZSE, c.se) ||
			d.Used != c.used || d.NonFinite != c.nonFinite || d.N != len(c.logw) {
			t.Errorf("%s: %+v", c.name, d)
		}
		w := d.Warnings()
		if len(w) != len(c.warnings) {
			t.Errorf("%s: warnings %q, want %d", c.name, w, len(c.warnings))
			continue
		}
		for i, sub := range c.warnings {
			if !strings.Contains(w[i], sub) {
				t.Errorf("%s: warning %q does not say %q", c.name, w[i], sub)
			}
		}
	}
	if got := ESS([]float64{0, 0, 0, 0}); got != 4 {
		t.Errorf("ESS of equal weights %g", got)
	}
	sm := &Samples{N: len(collapsed), Particles: 1, SpatialDim: 1, X: make([]float64, len(collapsed)),
		Energy: make([]float64, len(collapsed)), LogW: collapsed, ESS: ESS(collapsed)}
	if st := sm.Table(); !strings.Contains(st.Caption, "warning: ESS 1.0 is 0.5%") || !strings.Contains(st.String(), "log Z ± se") {
		t.Errorf("samples table of collapsed weights:\n%s", st)
	}
	tab := Diagnose([]float64{0, -50}, nil).Table().String()
	for _, want := range []string{"ESS", "log Z", LogZEstimator, "max weight share", "warning"} {
		if !strings.Contains(tab, want) {
			t.Errorf("table lacks %q:\n%s", want, tab)
		}
	}
}

// TestSamplerLogZ: the sampler's own log weights estimate log Z = log ∫ exp(−E/τ) over the
// system's space, here for an untrained network (the weights correct whatever the control
// does): a Gaussian at temperature 2 in R², three particles joined by harmonic springs on the
// zero-centre-of-mass subspace of R^{3×2} (Z = (2π/3)² from the Laplacian's eigenvalues 3, 3),
// and a flat energy on a periodic box (Z is the box's area).
func TestSamplerLogZ(t *testing.T) {
	springs, err := energy.FromFunc(3, 2, func(x []float64) float64 {
		var e float64
		for i := range 3 {
			for j := i + 1; j < 3; j++ {
				dx, dy := x[2*i]-x[2*j], x[2*i+1]-x[2*j+1]
				e += 0.5 * (dx*dx + dy*dy)
			}
		}
		return e
	}, func(x, g []float64) {
		for i := range 3 {
			for c := range 2 {
				g[2*i+c] = 3*x[2*i+c] - (x[c] + x[2+c] + x[4+c])
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	flat, _ := energy.FromFunc(1, 2, func([]float64) float64 { return 0 }, func(_, g []float64) { clear(g) })
	quad, _ := energy.NewQuadratic(1, 2, 0.5)
	geo, _ := sde.Geometric(1e-2, 1.5)
	cases := []struct {
		name  string
		sys   *energy.System
		sched sde.Schedule
		logZ  float64
	}{
		{"gaussian τ=2", &energy.System{Name: "g", Energy: quad, Temperature: 2}, geo, math.Log(2 * math.Pi * 0.5)},
		{"springs, centre of mass removed", &energy.System{Name: "s", Energy: springs, Symmetry: energy.Symmetry{Translation: true}}, geo, 2 * math.Log(2*math.Pi/3)},
		{"flat torus", &energy.System{Name: "f", Energy: flat, Box: []float64{2, 3}}, nil, math.Log(6)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := gaussConfig(t, 2, 1)
			cfg.System, cfg.Steps, cfg.Batch = c.sys, 25, 1000
			if c.sched != nil {
				cfg.Schedule = c.sched
			}
			s, err := NewSampler(cfg)
			if err != nil {
				t.Fatal(err)
			}
			sm, err := s.Sample(8000)
			if err != nil {
				t.Fatal(err)
			}
			d := sm.Diagnostics()
			t.Logf("log Z %.4f ± %.4f, exact %.4f; ESS/N %.3f", d.LogZ, d.LogZSE, c.logZ, d.ESSFraction)
			if !(d.LogZSE < 0.05) || math.Abs(d.LogZ-c.logZ) > 4*d.LogZSE {
				t.Errorf("log Z %.4f ± %.4f, exact %.4f", d.LogZ, d.LogZSE, c.logZ)
			}
		})
	}
}

// TestSystematicResample: each index appears ⌊n w_i⌋ or ⌈n w_i⌉ times, zero weights never, in
// increasing order; resampled Samples are equally weighted copies of the originals; no positive
// weight is an error.
func TestSystematicResample(t *testing.T) {
	w := []float64{0.5, 0.25, 0, 0.125, 0.0625, 0.0625 - 1e-3, 1e-3}
	logw := make([]float64, len(w))
	for i, v := range w {
		logw[i] = math.Log(v) + 7 // a common constant does not matter
	}
	logw = append(logw, math.NaN())
	for _, n := range []int{1, 3, 10, 1000, 4097} {
		for _, u := range []float64{0, 0.3, 0.999999} {
			idx, err := SystematicResample(logw, n, u)
			if err != nil {
				t.Fatal(err)
			}
			count := make([]int, len(logw))
			for k, i := range idx {
				count[i]++
				if k > 0 && i < idx[k-1] {
					t.Fatalf("n %d u %g: indices not increasing", n, u)
				}
			}
			for i, v := range w {
				lo, hi := math.Floor(float64(n)*v-1e-9), math.Ceil(float64(n)*v+1e-9)
				if c := float64(count[i]); c < lo || c > hi {
					t.Errorf("n %d u %g: index %d drawn %d times, weight %g allows %g…%g", n, u, i, count[i], v, lo, hi)
				}
			}
			if count[2] != 0 || count[len(logw)-1] != 0 {
				t.Errorf("n %d u %g: zero or NaN weight drawn: %v", n, u, count)
			}
		}
	}
	for _, bad := range [][]float64{{math.Inf(-1), math.Inf(-1)}, {math.NaN()}, {}} {
		if _, err := SystematicResample(bad, 5, 0.5); err == nil || !strings.Contains(err.Error(), "no positive weight") {
			t.Errorf("%v: error %v", bad, err)
		}
	}
	if _, err := SystematicResample(logw, 5, 1); err == nil {
		t.Error("offset 1 accepted")
	}

	sm := &Samples{N: 4, Particles: 1, SpatialDim: 2, X: []float64{0, 0, 1, 1, 2, 2, 3, 3},
		Energy: []float64{0, 1, 2, 3}, LogW: []float64{math.Inf(-1), 0, math.Log(3), math.Inf(-1)}}
	r, err := sm.Resample(1)
	if err != nil {
		t.Fatal(err)
	}
	if r.N != 4 || r.ESS != 4 || len(r.X) != 8 {
		t.Fatalf("resampled %+v", r)
	}
	var ones, twos int
	for k := range r.N {
		if r.LogW[k] != 0 || r.X[2*k] != r.X[2*k+1] || r.Energy[k] != r.X[2*k] {
			t.Fatalf("resampled row %d: x %v, energy %g, log weight %g", k, r.X[2*k:2*k+2], r.Energy[k], r.LogW[k])
		}
		switch r.X[2*k] {
		case 1:
			ones++
		case 2:
			twos++
		default:
			t.Fatalf("zero-weight sample %g drawn", r.X[2*k])
		}
	}
	if ones != 1 || twos != 3 {
		t.Errorf("weights 1/4, 3/4 drew %d and %d of 4", ones, twos)
	}
	sm.LogW = []float64{math.Inf(-1), math.NaN(), math.Inf(-1), math.Inf(-1)}
	if _, err := sm.Resample(1); err == nil {
		t.Error("resampling without a positive weight succeeded")
	}
}

// TestTrainingDiagnostics: training diagnoses the first epoch of a call and every
// DiagnoseEvery-th, with exactly the weights Sample gives the same draws, reports the batch ESS
// through the progress view, and counts non-finite energies instead of dropping them.
func TestTrainingDiagnostics(t *testing.T) {
	cfg := gaussConfig(t, 2, 0.5)
	cfg.Batch, cfg.GradSteps = 128, 3
	a, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var seen []float64
	rep := &quietReporter{hook: func(p display.Progress) {
		if v, ok := p.Extra["batch ESS/N"]; ok {
			seen = append(seen, v)
		}
	}}
	r, err := a.Train(context.Background(), TrainOptions{Epochs: 5, DiagnoseEvery: 2, Reporter: rep})
	if err != nil {
		t.Fatal(err)
	}
	var epochs []int
	for _, d := range r.Diagnostics {
		epochs = append(epochs, d.Epoch)
		if d.Loss != r.Losses[d.Epoch-1] || d.N != cfg.Batch || !(d.ESSFraction > 0 && d.ESSFraction <= 1) {
			t.Errorf("epoch %d: %+v", d.Epoch, d)
		}
	}
	if fmt.Sprint(epochs) != "[1 2 4]" || len(seen) == 0 || r.NonFiniteEnergies != 0 {
		t.Fatalf("diagnosed epochs %v, %d progress reports with the ESS, %d non-finite", epochs, len(seen), r.NonFiniteEnergies)
	}
	// the first epoch's batch is what Sample draws first from the same seed
	b, _ := NewSampler(cfg)
	sm, err := b.Sample(cfg.Batch)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Diagnostics[0].Diagnostics, sm.Diagnostics(); got != want {
		t.Fatalf("batch diagnostics %+v, Sample's %+v", got, want)
	}
	r, _ = a.Train(context.Background(), TrainOptions{Epochs: 2, DiagnoseEvery: -1, Reporter: &quietReporter{}})
	if len(r.Diagnostics) != 0 {
		t.Fatalf("diagnostics with DiagnoseEvery −1: %v", r.Diagnostics)
	}

	// an energy that is +Inf beyond x₀ = 0.5 (with a finite gradient)
	f, _ := energy.FromFunc(1, 2, func(x []float64) float64 {
		if x[0] > 0.5 {
			return math.Inf(1)
		}
		return 2 * (x[0]*x[0] + x[1]*x[1])
	}, func(x, g []float64) { g[0], g[1] = 4*x[0], 4*x[1] })
	cfg.System = &energy.System{Name: "wall", Energy: f}
	c, _ := NewSampler(cfg)
	var extra float64
	rep = &quietReporter{hook: func(p display.Progress) { extra = p.Extra["non-finite E"] }}
	r, err = c.Train(context.Background(), TrainOptions{Epochs: 2, Reporter: rep})
	if err != nil {
		t.Fatal(err)
	}
	if r.NonFiniteEnergies == 0 || float64(r.NonFiniteEnergies) != extra || c.NonFiniteEnergies() != r.NonFiniteEnergies {
		t.Fatalf("non-finite energies: report %d, progress %g, sampler %d", r.NonFiniteEnergies, extra, c.NonFiniteEnergies())
	}
	if d := r.Diagnostics[0]; d.NonFinite == 0 || d.Used != d.N {
		t.Fatalf("diagnostics of a batch with infinite energies: %+v", d.Diagnostics)
	}
	if !strings.Contains(r.Table().String(), "non-finite energies") {
		t.Fatal("report table does not show the non-finite energies")
	}
	path := filepath.Join(t.TempDir(), "ck")
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadCheckpoint(path, LoadOptions{System: cfg.System})
	if err != nil || back.NonFiniteEnergies() != c.NonFiniteEnergies() {
		t.Fatalf("reloaded count %v, %v", back, err)
	}
}

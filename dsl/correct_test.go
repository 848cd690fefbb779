package dsl

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"adjoint/lib/adjoint"
	"adjoint/lib/display"
	"adjoint/lib/energy"
)

// corrHead declares a 2-D system and a small sampler and trains it briefly.
const corrHead = `system w { particles 1 in 2d; energy = 0.5*(x[0].x - 1)^2 + 2*x[0].y^2 }
sde v { sigma = geometric(1e-2, 2); steps 20 }
sampler q = adjoint(w, v) { net mlp(layers 1, hidden 8); batch 16; buffer 32; grad_steps 2; seed 5 }
train q for 2 epochs
`

// execCorr runs src in a fresh session and returns the session, its recorder and the samples x.
func execCorr(t *testing.T, src string) (*Session, *recorder, *adjoint.Samples) {
	t.Helper()
	defer display.SetSink(nil)()
	s := NewSession()
	rec := &recorder{}
	if _, err := s.Exec(t.Context(), src, "c.adj", rec); err != nil {
		t.Fatal(err)
	}
	v, _ := s.Value("x")
	x, ok := v.(*adjoint.Samples)
	if !ok {
		t.Fatalf("x is %T", v)
	}
	return s, rec, x
}

// TestSampleResample: `x = sample q N resample` shows the weights' diagnostics before
// resampling and binds N samples, each one of the N drawn, in the systematic draw of
// Samples.Resample with the sampler's seed (as `adjoint sample --resample`), equally weighted;
// the statement is deterministic for the seed.
func TestSampleResample(t *testing.T) {
	const n = 64
	_, _, drawn := execCorr(t, corrHead+"x = sample q 64")
	_, rec, x := execCorr(t, corrHead+"x = sample q 64 resample\nreport x")
	_, _, again := execCorr(t, corrHead+"x = sample q 64 resample")

	if x.N != n || len(x.X) != 2*n || len(x.LogW) != n {
		t.Fatalf("resampled %d samples (%d numbers, %d weights), want %d", x.N, len(x.X), len(x.LogW), n)
	}
	rows := map[[2]float64]float64{} // drawn configuration → its energy
	for i := range n {
		rows[[2]float64{drawn.X[2*i], drawn.X[2*i+1]}] = drawn.Energy[i]
	}
	for i := range n {
		r := [2]float64{x.X[2*i], x.X[2*i+1]}
		e, ok := rows[r]
		if !ok {
			t.Fatalf("resampled sample %d %v is none of the drawn samples", i, r)
		}
		if e != x.Energy[i] {
			t.Errorf("sample %d: energy %v, the drawn sample's %v", i, x.Energy[i], e)
		}
		if x.LogW[i] != 0 {
			t.Errorf("log weight %d = %v, want 0", i, x.LogW[i])
		}
	}
	want, err := drawn.Resample(5)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x.X, want.X) {
		t.Error("the resampled samples differ from Samples.Resample with the sampler's seed")
	}
	if !slices.Equal(x.X, again.X) || !slices.Equal(x.Energy, again.Energy) {
		t.Error("two runs with the same seed resampled differently")
	}
	text := rec.shownText()
	for _, w := range []string{"before resampling", "ESS (Kish)", "log Z ± se", "equally weighted"} {
		if !strings.Contains(text, w) {
			t.Errorf("shown output lacks %q:\n%s", w, text)
		}
	}
	if !strings.Contains(rec.text.String(), "resampled 64 samples by their importance weights (systematic)") {
		t.Errorf("printed: %s", rec.text.String())
	}
}

// TestResampleNoPositiveWeight: resampling samples whose weights are all zero (an energy that
// is +Inf everywhere) fails at run time saying so, after the diagnostics and their warning,
// and leaves the name as it was.
func TestResampleNoPositiveWeight(t *testing.T) {
	defer display.SetSink(nil)()
	s := NewSession()
	rec := &recorder{}
	if _, err := s.Exec(t.Context(), corrHead+"x = sample q 8", "a.adj", rec); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Value("x")
	_, err := s.Exec(t.Context(), `system hot { particles 1 in 1d; energy = exp(800 + x[0].x^2) }
sampler h = adjoint(hot, v) { net mlp(layers 1, hidden 4); batch 8 }
x = sample h 8 resample`, "b.adj", rec)
	var re *RuntimeError
	if !errors.As(err, &re) || re.Pos.Line != 3 {
		t.Fatalf("got %v, want a runtime error on line 3", err)
	}
	first := strings.SplitN(err.Error(), "\n", 2)[0]
	if !strings.Contains(first, "no positive weight among 8") || !strings.Contains(first, "x is left as it was") {
		t.Errorf("error %q does not say that no weight is positive", first)
	}
	if after, _ := s.Value("x"); after != before {
		t.Error("a failed resample replaced x")
	}
	if text := rec.shownText(); !strings.Contains(text, "all 8 weights are zero") {
		t.Errorf("the diagnostics' warning is not shown:\n%s", text)
	}
}

// TestRefineGaussian: refine moves samples that all start at 0 to N(0, 2 I) in 2-D, with MALA
// with HMC and with Gibbs sweeps (the sample variance within a generous tolerance of the exact one; it is 0
// before), and marks them equally weighted when they were resampled before.
func TestRefineGaussian(t *testing.T) {
	cases := []struct {
		name, stmt string
	}{
		{"mala", "refine x 300"},
		{"hmc", "refine x 60 method hmc"},
		{"mala into another name", "y = refine x 300 method MALA"},
		{"gibbs", "refine x 3 method gibbs"},
	}
	const n, variance = 2000, 2.0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewSession()
			if _, err := s.Exec(t.Context(), "system g { particles 1 in 2d; energy = (x[0].x^2 + x[0].y^2) / (2*2) }", "g.adj", nil); err != nil {
				t.Fatal(err)
			}
			v, _ := s.Value("g")
			start := &adjoint.Samples{N: n, Particles: 1, SpatialDim: 2, X: make([]float64, 2*n), Energy: make([]float64, n),
				LogW: make([]float64, n), ESS: n}
			s.values["x"] = start
			s.origin[start] = v.(*energy.System)
			s.info[start] = sampleInfo{seed: 9, w: equalWeights}
			rec := &recorder{}
			if _, err := s.Exec(t.Context(), c.stmt, "r.adj", rec); err != nil {
				t.Fatal(err)
			}
			name := "x"
			if strings.HasPrefix(c.stmt, "y") {
				name = "y"
				if xv, _ := s.Value("x"); xv != start {
					t.Error("y = refine x … replaced x")
				}
			}
			got, _ := s.Value(name)
			sm := got.(*adjoint.Samples)
			if sm == start || sm.N != n || len(sm.X) != 2*n {
				t.Fatalf("refined samples: %d, want %d new ones", sm.N, n)
			}
			for k := range 2 {
				var m, m2 float64
				for i := range n {
					m += sm.X[2*i+k]
					m2 += sm.X[2*i+k] * sm.X[2*i+k]
				}
				m /= n
				vr := m2/n - m*m
				// standard errors 0.032 (mean) and 0.063 (variance) for independent draws
				if math.Abs(m) > 0.15 || math.Abs(vr-variance) > 0.3 {
					t.Errorf("coordinate %d: mean %.3f variance %.3f, want 0 and %g", k, m, vr, variance)
				}
			}
			for i := range n {
				if e := (sm.X[2*i]*sm.X[2*i] + sm.X[2*i+1]*sm.X[2*i+1]) / 4; math.Abs(sm.Energy[i]-e) > 1e-12 || sm.LogW[i] != 0 {
					t.Fatalf("sample %d: energy %v log weight %v, want %v and 0", i, sm.Energy[i], sm.LogW[i], e)
				}
			}
			if s.info[sm].w != equalWeights || s.origin[sm] != s.origin[start] {
				t.Errorf("refined resampled samples: weighting %v, system %v", s.info[sm].w, s.origin[sm])
			}
			if !strings.Contains(rec.text.String(), "refined 2000 samples of x by") {
				t.Errorf("printed: %s", rec.text.String())
			}
		})
	}
}

// TestRefineScript: refine after sampling keeps the samples' system (eval and plots work),
// replaces their weights by 0 and shows them without a log Z.
func TestRefineScript(t *testing.T) {
	s, rec, x := execCorr(t, corrHead+`x = sample q 32
y = refine x 5
refine x 5 method hmc
report x
report eval(x, y, n 16)
plot energy_hist(x, y)
`)
	y, _ := s.Value("y")
	if y == any(x) || x.N != 32 || s.info[x].w != noWeights || s.info[y.(*adjoint.Samples)].w != noWeights {
		t.Fatalf("x %p y %p, weighting %v", x, y, s.info[x].w)
	}
	for _, l := range x.LogW {
		if l != 0 {
			t.Fatalf("log weights %v, want 0", x.LogW)
		}
	}
	printed := rec.text.String()
	for _, w := range []string{"refined 32 samples of x by 5 MALA moves", "refined 32 samples of x by 5 HMC moves"} {
		if !strings.Contains(printed, w) {
			t.Errorf("printed output lacks %q:\n%s", w, printed)
		}
	}
	shown := rec.shownText()
	for _, w := range []string{"the importance weights no longer apply", "–", "energy W2", "Energy histogram"} {
		if !strings.Contains(shown, w) {
			t.Errorf("shown output lacks %q:\n%s", w, shown)
		}
	}
}

// TestRefineNoGradient: refining samples of a system whose energy gives no gradient fails
// with one line, as `adjoint sample --refine` does, and leaves the samples as they were.
func TestRefineNoGradient(t *testing.T) {
	s := NewSession()
	sys := &energy.System{Name: "flat", Energy: noGradient{}}
	x := &adjoint.Samples{N: 2, Particles: 1, SpatialDim: 1, X: []float64{1, 2}, Energy: []float64{1, 4}, LogW: []float64{0, 0}}
	s.values["x"] = x
	s.origin[x] = sys
	_, err := s.Exec(t.Context(), "refine x 3", "n.adj", nil)
	if err == nil || !strings.Contains(err.Error(), `system "flat": the energy gives no gradient`) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("got %v, want one line saying the energy gives no gradient", err)
	}
	if v, _ := s.Value("x"); v != any(x) || x.X[0] != 1 {
		t.Error("a failed refine changed x")
	}
}

// noGradient is an energy that leaves the gradient alone.
type noGradient struct{}

func (noGradient) Particles() int  { return 1 }
func (noGradient) SpatialDim() int { return 1 }
func (noGradient) EnergyGrad(x, e, _ []float64) {
	for c := range e {
		e[c] = x[c] * x[c]
	}
}

// TestCorrectionChecks: mistakes in resample and refine are one-line errors at check time;
// the forms that are right pass.
func TestCorrectionChecks(t *testing.T) {
	const head = "system q1 { particles 1 in 1d; energy = x[0].x^2 }\nsde v { sigma = 1 }\nsampler q = adjoint(q1, v)\n"
	cases := []struct {
		name, src string
		pos, msg  string // "line:col" and a substring of the first error; "" when the script is right
		hint      string
	}{
		{"fractional moves", "x = sample q 10\nrefine x 2.5", "5:10", "the number of moves must be a whole number ≥ 1, got 2.5", ""},
		{"zero moves", "x = sample q 10\ny = refine x 0", "5:14", "the number of moves must be a whole number ≥ 1, got 0", ""},
		{"refine a sampler", "refine q 10", "4:8", "q is a sampler, samples is needed here", "x = sample q N, then refine x K"},
		{"refine data", "d = load \"d.npy\"\nrefine d 10", "5:8", "d is data, samples is needed here", ""},
		{"refine a system", "refine q1 10", "4:8", "q1 is a system, samples is needed here", ""},
		{"refine unknown", "x = sample q 10\nrefine xx 10", "5:8", `unknown name "xx"`, "did you mean x"},
		{"unknown method", "x = sample q 10\nrefine x 10 method metropolis", "5:20", `unknown refine method "metropolis"`, "methods are mala, hmc, gibbs"},
		{"method typo", "x = sample q 10\nrefine x 10 method hcm", "5:20", `unknown refine method "hcm"`, "hmc"},
		{"refine option typo", "x = sample q 10\nrefine x 10 methd hmc", "5:13", `unexpected "methd" after refine x`, "method"},
		{"resample typo", "x = sample q 10 resampel", "4:17", `unexpected "resampel" after sample q`, "resample"},
		{"refine without moves", "x = sample q 10\nrefine x", "5:9", "expected the number of moves, found end of line", "refine X K"},
		{"plot weights of refined", "x = sample q 10\nrefine x 10\nplot weights(x)", "6:14", "x holds refined samples, which carry no importance weights", "resample before refining"},
		{"save weights of refined", "x = sample q 10\ny = refine x 10\nsave weights(y) \"w.npy\"", "6:14", "y holds refined samples", ""},
		{"refined, then sampled again", "x = sample q 10\nrefine x 10\nx = sample q 10\nplot weights(x)", "", "", ""},
		{"resampled, then refined", "x = sample q 10 resample\nrefine x 10 method hmc\nsave weights(x) \"w.npy\"\nplot weights(x)", "", "", ""},
		{"a parameter named refine", "refine = 2\nprint refine", "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSession()
			s.DryRun = true // no files are read or written
			err := s.Check(head+tc.src, "t.adj")
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("%s:\n%v", tc.src, err)
				}
				return
			}
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("got %v, want a checked error", err)
			}
			first := list[0]
			if !strings.HasPrefix(first.Error(), "t.adj:"+tc.pos+": ") || !strings.Contains(first.Msg, tc.msg) || !strings.Contains(first.Hint, tc.hint) {
				t.Errorf("got\n%v\nwant at %s %q (hint %q)", first, tc.pos, tc.msg, tc.hint)
			}
			if strings.Contains(first.Msg, "\n") {
				t.Errorf("message of more than one line: %q", first.Msg)
			}
		})
	}
	// the weighting of samples carries over to the next script of the session
	s := NewSession()
	s.DryRun = true
	if err := s.Check(head+"x = sample q 10\nrefine x 3", "a.adj"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Exec(t.Context(), head+"x = sample q 10\nrefine x 3", "a.adj", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Check("plot weights(x)", "b.adj"); err == nil || !strings.Contains(err.Error(), "x holds refined samples") {
		t.Errorf("next script: %v", err)
	}
}

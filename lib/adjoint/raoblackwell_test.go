package adjoint

import (
	"math"
	"strings"
	"testing"

	"adjoint/lib/energy"
	"adjoint/lib/refdata"
	"adjoint/lib/sde"
)

// TestRBTargets checks the Rao–Blackwellized regression targets (Config.RBCandidates) on a
// Gaussian whose buffer holds exact samples, where the conditional mean of the paper's target
// −∇g(X_1) given X_t is the closed-form optimal control −a·x/(1 + a·(κ(1) − κ(t))). The averaged
// targets must keep that mean (their regression slope on X_t matches it, as the row's own
// targets' does) and scatter about it less, by far early in the trajectory.
func TestRBTargets(t *testing.T) {
	const std, dim, n = 0.5, 2, 20000
	cfg := gaussConfig(t, dim, std)
	s, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	k1 := cfg.Schedule.Kappa(1)
	a := 1/(std*std) - 1/k1
	x, y := make([]float64, 2048*dim), make([]float64, 2048*dim)
	for i := range x {
		x[i] = std * s.rng.NormFloat64()
		y[i] = -a * x[i]
	}
	s.buf.push(x, y, 0, nil)
	s.cfg.RBCandidates = 255
	for _, tt := range []float64{0, 0.05, 0.5, 0.9} {
		opt := -a / (1 + a*(k1-cfg.Schedule.Kappa(tt)))
		var res [2]float64
		for k, rb := range []bool{false, true} {
			mb := newMatchBatch(n, dim)
			mb.rb = rb
			s.draw(mb, n, func(float64, int) float64 { return tt })
			var xy, xx, r2 float64
			for i := range mb.y {
				xi, yi := float64(mb.x[i]), float64(mb.y[i])
				xy += xi * yi
				xx += xi * xi
				r2 += (yi - opt*xi) * (yi - opt*xi)
			}
			res[k] = math.Sqrt(r2 / n)
			if tt == 0 {
				continue // X_0 = 0: no slope to fit, only the scatter
			}
			tol := 0.1 * math.Abs(opt) // the own targets scatter by 2 at t = 0.05
			if rb {
				tol = 0.02 * math.Abs(opt)
			}
			if slope := xy / xx; math.Abs(slope-opt) > tol {
				t.Errorf("t = %g, rb %v: targets' slope on X_t is %.4f, the optimal control's %.4f", tt, rb, slope, opt)
			}
		}
		t.Logf("t = %g: scatter about the optimal control %.4f (own targets), %.4f (averaged)", tt, res[0], res[1])
		if tt < 0.9 && !(res[1] < 0.3*res[0]) {
			t.Errorf("t = %g: averaged targets scatter by %.4f, own targets by %.4f: want under 0.3 times", tt, res[1], res[0])
		}
		if !(res[1] <= res[0]*1.001) {
			t.Errorf("t = %g: averaged targets scatter more (%.4f) than the rows' own (%.4f)", tt, res[1], res[0])
		}
	}
}

// TestRBTraining trains with averaged targets, checks the Gaussian's variance is reached and that
// checkpoints keep the setting; it also checks the setting's validation.
func TestRBTraining(t *testing.T) {
	const std = 0.5
	cfg := gaussConfig(t, 2, std)
	cfg.RBCandidates = 127
	s, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.TrainEpochs(cfg.Epochs); err != nil {
		t.Fatal(err)
	}
	smp, err := s.Sample(4000)
	if err != nil {
		t.Fatal(err)
	}
	if v := meanSquare(smp.X); math.Abs(v-std*std) > 0.2*std*std {
		t.Errorf("variance of the samples %.4f, want %.4f", v, std*std)
	}
	if l := reload(t, s, cfg); l.cfg.RBCandidates != 127 {
		t.Errorf("checkpoint keeps rb_candidates %d, want 127", l.cfg.RBCandidates)
	}
	bad := cfg
	bad.RBCandidates = -1
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "rb_candidates") {
		t.Errorf("negative count: %v", err)
	}
	box, err := energy.NewQuadratic(1, 2, std)
	if err != nil {
		t.Fatal(err)
	}
	bad.RBCandidates = 8
	bad.System = &energy.System{Name: "torus", Energy: box, Temperature: 1, Box: []float64{1, 1}}
	bad.Schedule, _ = sde.Constant(1)
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "periodic") {
		t.Errorf("periodic system: %v", err)
	}
}

// TestRBTargetsBenchmarks measures, with reference samples as the buffer (DW-4's exact samples,
// LJ-13's test split), the mean square of each system's default regression targets per time,
// with and without averaging over 255 candidates (go test -run TestRBTargetsBenchmarks -v
// ./lib/adjoint prints them). Both have the same conditional mean; what the averaging removes is
// the targets' scatter about it, which early in the trajectory is most of their size. It must
// leave less than half by the time given (for DW-4, t = 0.03, where a pair's width is set) and
// change nothing late.
func TestRBTargetsBenchmarks(t *testing.T) {
	for _, tc := range []struct {
		system, ref string
		times       []float64
		halfBy      float64 // at and before this time the averaged mean square is under half
	}{
		{"dw4", refdata.DW4Exact, []float64{0.001, 0.01, 0.03, 0.05, 0.1, 0.2, 0.5}, 0.03},
		{"lj13", refdata.LJ13Test, []float64{0.01, 0.05, 0.1, 0.2, 0.4, 0.6}, 0.05},
	} {
		s := referenceBuffer(t, tc.system, tc.ref)
		cfg := s.cfg
		s.cfg.RBCandidates = 255
		const rows = 4096
		nd := s.space.Dim()
		for _, tt := range tc.times {
			var m [2]float64
			for k, rb := range []bool{false, true} {
				mb := newMatchBatch(rows, nd)
				mb.rb = rb
				s.draw(mb, rows, func(float64, int) float64 { return tt })
				for _, v := range mb.y {
					m[k] += float64(v) * float64(v) / rows
				}
			}
			t.Logf("%s t = %-5g remaining %.4f of κ(1): mean square of the targets %8.2f own, %8.2f averaged", tc.system, tt, 1-cfg.Schedule.Kappa(tt)/s.kappa1, m[0], m[1])
			switch {
			case tt <= tc.halfBy && !(m[1] < 0.5*m[0]):
				t.Errorf("%s, t = %g: averaging leaves %.2f of %.2f", tc.system, tt, m[1], m[0])
			case tt >= 0.5 && math.Abs(m[1]-m[0]) > 0.05*m[0]:
				t.Errorf("%s, t = %g: averaging changed late targets, %.2f against %.2f", tc.system, tt, m[1], m[0])
			}
		}
	}
}

// referenceBuffer returns a sampler with a benchmark's default configuration whose replay buffer
// holds the embedded reference samples ref (refdata), for measuring regression targets on them.
func referenceBuffer(t *testing.T, system, ref string) *Sampler {
	t.Helper()
	sys, err := energy.Benchmark(system)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSampler(DefaultConfig(sys))
	if err != nil {
		t.Fatal(err)
	}
	a, err := refdata.Load(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SeedBuffer(a.Data); err != nil {
		t.Fatal(err)
	}
	return s
}

// meanSquare is the mean of the squares of x: a centred sample's variance per coordinate.
func meanSquare(x []float64) float64 {
	var v float64
	for _, u := range x {
		v += u * u
	}
	return v / float64(len(x))
}

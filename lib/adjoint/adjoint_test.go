package adjoint

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"adjoint/lib/display"
	"adjoint/lib/energy"
	"adjoint/lib/nn"
	"adjoint/lib/sde"
)

// quietReporter swallows progress and can run a hook on every report.
type quietReporter struct {
	reports int
	hook    func(p display.Progress)
}

func (q *quietReporter) Report(p display.Progress) {
	q.reports++
	if q.hook != nil {
		q.hook(p)
	}
}
func (q *quietReporter) Finish(display.Progress) {}

// gaussConfig is a small configuration for a Gaussian target N(0, std² I) of one particle in
// dim dimensions with the constant schedule σ = 1 (κ(1) = 1).
func gaussConfig(t *testing.T, dim int, std float64) Config {
	t.Helper()
	q, err := energy.NewQuadratic(1, dim, std)
	if err != nil {
		t.Fatal(err)
	}
	sys := &energy.System{Name: "gauss", Energy: q, Temperature: 1}
	sched, _ := sde.Constant(1)
	return Config{
		System: sys, Schedule: sched, Steps: 40, Net: NetConfig{Kind: NetMLP, Layers: 2, Hidden: 32},
		Batch: 256, TrainBatch: 256, Buffer: 2048, GradSteps: 20, LR: 3e-3, Epochs: 80, ClipNorm: 100, Seed: 7,
	}
}

// reload saves s to a temporary checkpoint and loads it back with cfg's system and schedule.
func reload(t *testing.T, s *Sampler, cfg Config) *Sampler {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.ckpt")
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	l, err := LoadWith(path, cfg.System, cfg.Schedule)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// seededDraw reseeds s's sampling stream with 5 and returns n samples' coordinates followed by
// their log weights, for bit-for-bit comparisons of draws.
func seededDraw(t *testing.T, s *Sampler, n int) []float64 {
	t.Helper()
	s.Reseed(5)
	sm, err := s.Sample(n)
	if err != nil {
		t.Fatal(err)
	}
	return append(sm.X, sm.LogW...)
}

func train(t *testing.T, s *Sampler, epochs int) *TrainReport {
	t.Helper()
	r, err := s.Train(context.Background(), TrainOptions{Epochs: epochs, Reporter: &quietReporter{}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func variance(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return s / float64(len(x))
}

// TestGaussianOptimalControl: for E = ‖x‖²/(2s²) the path measure is Gaussian and the optimal
// drift is σ² v* with v*(x, t) = −c x / (1 + c (κ(1) − κ(t))), c = 1/s² − 1/κ(1) (the h-transform
// of the base process by exp(−g), g = E + log p_1^base). The learned v must approach it.
func TestGaussianOptimalControl(t *testing.T) {
	const std = 0.5
	cfg := gaussConfig(t, 2, std)
	s, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	k1 := cfg.Schedule.Kappa(1)
	c := 1/(std*std) - 1/k1
	errAt := func() float64 {
		// relative L2 error over states drawn from the optimal marginal at each t
		var num, den float64
		rng := s.rng
		x := make([]float64, 2)
		u := make([]float64, 2)
		for _, tt := range []float64{0.05, 0.25, 0.5, 0.75, 0.95} {
			g, v := sde.BridgeMoments(cfg.Schedule, tt)
			sd := math.Sqrt(g*g*std*std + v)
			a := -c / (1 + c*(k1-cfg.Schedule.Kappa(tt)))
			for range 200 {
				x[0], x[1] = sd*rng.NormFloat64(), sd*rng.NormFloat64()
				if err := s.Control(x, tt, u); err != nil {
					t.Fatal(err)
				}
				sig := cfg.Schedule.Sigma(tt)
				for i := range 2 {
					d := u[i]/sig - a*x[i]
					num += d * d
					den += a * x[i] * a * x[i]
				}
			}
		}
		return math.Sqrt(num / den)
	}
	before := errAt()
	rep := train(t, s, cfg.Epochs)
	after := errAt()
	t.Logf("relative error of v: %.3f before, %.3f after %d epochs (loss %.3g → %.3g, %.2f evals/step)",
		before, after, rep.Epochs, rep.Losses[0], rep.FinalLoss(), rep.EvalsPerStep)
	if after > 0.2 || after > before/4 {
		t.Fatalf("learned control is %.3f (relative L2) from the closed form (%.3f untrained)", after, before)
	}
	if want := float64(cfg.Batch) / float64(cfg.GradSteps); math.Abs(rep.EvalsPerStep-want) > 1e-12 {
		t.Fatalf("evals per step %g, want %g", rep.EvalsPerStep, want)
	}
	sm, err := s.Sample(2000)
	if err != nil {
		t.Fatal(err)
	}
	if v := variance(sm.X); math.Abs(v-std*std) > 0.15*std*std {
		t.Fatalf("sample variance %g, want %g", v, std*std)
	}
	if sm.ESS < 0.5*float64(sm.N) {
		t.Fatalf("ESS %.1f of %d for a near-optimal control", sm.ESS, sm.N)
	}
}

// TestBaseCorrection: with κ(1) = s² the corrected target is exactly N(0, s²); without the
// correction the sampler targets exp(−E)·p_1^base = N(0, s²/2).
func TestBaseCorrection(t *testing.T) {
	for _, c := range []struct {
		off  bool
		want float64
	}{{false, 1}, {true, 0.5}} {
		cfg := gaussConfig(t, 2, 1)
		cfg.NoBaseCorrection = c.off
		cfg.Epochs = 40
		s, err := NewSampler(cfg)
		if err != nil {
			t.Fatal(err)
		}
		train(t, s, cfg.Epochs)
		sm, err := s.Sample(3000)
		if err != nil {
			t.Fatal(err)
		}
		v := variance(sm.X)
		t.Logf("NoBaseCorrection=%v: sample variance %.3f (target %.2f)", c.off, v, c.want)
		if math.Abs(v-c.want) > 0.12*c.want {
			t.Fatalf("NoBaseCorrection=%v: variance %.3f, want %.2f", c.off, v, c.want)
		}
	}
}

// TestImportanceWeights: the Girsanov weights of an untrained sampler reweight its samples to
// the target N(0, 0.25 I).
func TestImportanceWeights(t *testing.T) {
	cfg := gaussConfig(t, 2, 0.5)
	s, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sm, err := s.Sample(6000)
	if err != nil {
		t.Fatal(err)
	}
	w := sm.Weights()
	var raw, rw float64
	for k := range sm.N {
		r2 := sm.X[2*k]*sm.X[2*k] + sm.X[2*k+1]*sm.X[2*k+1]
		raw += r2 / 2 / float64(sm.N)
		rw += w[k] * r2 / 2
	}
	t.Logf("untrained: raw variance %.3f, reweighted %.3f (target 0.25), ESS %.0f of %d", raw, rw, sm.ESS, sm.N)
	if math.Abs(rw-0.25) > 0.03 || math.Abs(raw-0.25) < 0.2 {
		t.Fatalf("raw variance %.3f, reweighted %.3f, want reweighted 0.25", raw, rw)
	}
	if sm.ESS <= 1 || sm.ESS >= float64(sm.N) {
		t.Fatalf("ESS %g", sm.ESS)
	}
	if got := ESS([]float64{0, 0, 0, 0}); math.Abs(got-4) > 1e-12 {
		t.Fatalf("ESS of equal weights %g", got)
	}
	if got := ESS([]float64{0, -1000, -1000}); math.Abs(got-1) > 1e-9 {
		t.Fatalf("ESS of one dominant weight %g", got)
	}
}

// TestMixtureModes: a 2-D two-mode mixture (weights 0.3, 0.7) gets the right mass in each mode,
// both in the raw samples and after importance weighting.
func TestMixtureModes(t *testing.T) {
	g, err := energy.NewGMM(2, []float64{0.3, 0.7}, [][]float64{{-1.5, 0}, {1.5, 0.5}}, []float64{0.25, 0.25})
	if err != nil {
		t.Fatal(err)
	}
	sys := &energy.System{Name: "gmm2", Energy: g}
	cfg := DefaultConfig(sys)
	cfg.Schedule, _ = sde.Constant(1.5)
	cfg.Steps, cfg.Net, cfg.Batch, cfg.TrainBatch, cfg.Buffer, cfg.GradSteps, cfg.LR, cfg.Epochs =
		50, NetConfig{Kind: NetMLP, Layers: 2, Hidden: 64}, 256, 256, 4096, 25, 1e-3, 120
	s, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	train(t, s, cfg.Epochs)
	sm, err := s.Sample(4000)
	if err != nil {
		t.Fatal(err)
	}
	var left, wleft float64
	w := sm.Weights()
	for k := range sm.N {
		if sm.X[2*k] < 0 {
			left++
			wleft += w[k]
		}
	}
	left /= float64(sm.N)
	t.Logf("mass in the left mode %.3f raw, %.3f weighted (want 0.30); mean energy %.3f, ESS %.0f/%d", left, wleft, sm.MeanEnergy(), sm.ESS, sm.N)
	if math.Abs(left-0.3) > 0.07 || math.Abs(wleft-0.3) > 0.05 {
		t.Fatalf("left mode holds %.3f of the samples (%.3f weighted), want 0.30", left, wleft)
	}
}

// TestResumeEqualsUninterrupted: training 3 epochs, saving, loading and training 3 more gives
// bit-identical losses, buffer and network to 6 uninterrupted epochs.
func TestResumeEqualsUninterrupted(t *testing.T) {
	for _, kind := range []NetKind{NetMLP, NetEGNN} {
		t.Run(kind.String(), func(t *testing.T) { testResume(t, kind) })
	}
}

func testResume(t *testing.T, kind NetKind) {
	sys, err := energy.Benchmark("dw4")
	if err != nil {
		t.Fatal(err)
	}
	cfg := PaperConfig(sys)
	cfg.Steps, cfg.Net, cfg.Batch, cfg.TrainBatch, cfg.Buffer, cfg.GradSteps, cfg.Epochs =
		20, NetConfig{Kind: kind, Layers: 2, Hidden: 16}, 32, 32, 80, 5, 6
	if kind == NetMLP { // the annealed learning rate, κ time sampling and reweighted draws survive a resume too
		cfg.TimeSampling, cfg.LRFinal, cfg.Integrator, cfg.Reweight = TimeKappa, 1e-5, IntegratorKappa, 0.5
	} else { // and so does buffer refinement, with the step size it adapted to
		cfg.RefineBuffer = 4
	}
	a, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	train(t, a, 6)
	b, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "ck.adj")
	if _, err := b.Train(context.Background(), TrainOptions{Epochs: 3, Checkpoint: path, Reporter: &quietReporter{}}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Epoch() != 3 || c.BufferLen() != 80 || !strings.HasPrefix(c.Network(), kind.String()) {
		t.Fatalf("loaded epoch %d buffer %d", c.Epoch(), c.BufferLen())
	}
	train(t, c, 3)
	la, lc := a.LossHistory(), c.LossHistory()
	if len(la) != 6 || len(lc) != 6 {
		t.Fatalf("loss histories %d, %d", len(la), len(lc))
	}
	for i := range la {
		if la[i] != lc[i] {
			t.Fatalf("epoch %d loss %v uninterrupted, %v resumed", i+1, la[i], lc[i])
		}
	}
	for i := range a.buf.x {
		if a.buf.x[i] != c.buf.x[i] || a.buf.y[i] != c.buf.y[i] {
			t.Fatalf("buffer differs at %d", i)
		}
	}
	if (a.buf.lw == nil) != (cfg.Reweight == 0) || len(a.buf.lw) != len(c.buf.lw) || (a.buf.lw != nil && a.buf.cdf == nil) {
		t.Fatalf("buffer log weights: %d uninterrupted, %d resumed, reweight %g", len(a.buf.lw), len(c.buf.lw), cfg.Reweight)
	}
	if (cfg.RefineBuffer > 0) != (a.refineStep > 0) || a.refineStep != c.refineStep {
		t.Fatalf("refine step %v uninterrupted, %v resumed", a.refineStep, c.refineStep)
	}
	for i := range a.buf.lw {
		if a.buf.lw[i] != c.buf.lw[i] {
			t.Fatalf("buffer log weight %d: %v uninterrupted, %v resumed", i, a.buf.lw[i], c.buf.lw[i])
		}
	}
	sa, _ := a.Sample(10)
	sc, _ := c.Sample(10)
	for i := range sa.X {
		if sa.X[i] != sc.X[i] {
			t.Fatalf("samples differ at %d", i)
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}

// TestNaNDetection: a non-finite gradient stops training with an error naming the epoch, and
// the checkpoint keeps the last good state.
func TestNaNDetection(t *testing.T) {
	calls := 0
	f, _ := energy.FromFunc(1, 2, func(x []float64) float64 { return 0.5 * (x[0]*x[0] + x[1]*x[1]) },
		func(x, g []float64) {
			calls++
			g[0], g[1] = x[0], x[1]
			if calls > 64*2 {
				g[0] = math.NaN()
			}
		})
	sys := &energy.System{Name: "nan", Energy: f}
	cfg := gaussConfig(t, 2, 1)
	cfg.System, cfg.Batch, cfg.TrainBatch, cfg.Steps, cfg.GradSteps = sys, 64, 64, 10, 3
	s, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ck.adj")
	_, err = s.Train(context.Background(), TrainOptions{Epochs: 5, Checkpoint: path, CheckpointEvery: 1, Reporter: &quietReporter{}})
	if err == nil || !strings.Contains(err.Error(), "epoch 3") {
		t.Fatalf("error %v, want one naming epoch 3", err)
	}
	if _, err := LoadWith(path, sys, nil); err != nil {
		t.Fatal(err)
	}
	good, _ := LoadWith(path, sys, nil)
	if good.Epoch() != 2 {
		t.Fatalf("checkpoint at epoch %d, want the last good epoch 2", good.Epoch())
	}
}

// TestCancellation: cancelling stops between steps; the sampler stays usable.
func TestCancellation(t *testing.T) {
	cfg := gaussConfig(t, 2, 1)
	cfg.GradSteps = 50
	s, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rep := &quietReporter{}
	rep.hook = func(p display.Progress) {
		if p.Epoch >= 2 {
			cancel()
		}
	}
	r, err := s.Train(ctx, TrainOptions{Epochs: 1000, Reporter: rep})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if r == nil || r.Epochs < 2 || r.Epochs > 3 {
		t.Fatalf("report %+v", r)
	}
	if _, err := s.Sample(10); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Train(context.Background(), TrainOptions{Epochs: 1, Reporter: &quietReporter{}}); err != nil {
		t.Fatal(err)
	}
	// a time limit stops inside an epoch, without an error
	s.cfg.GradSteps = 1 << 20
	start := time.Now()
	r, err = s.Train(context.Background(), TrainOptions{Duration: 200 * time.Millisecond, Reporter: &quietReporter{}})
	// (on a loaded machine the limit may pass before the first gradient step: no step count asked)
	if err != nil || r.Epochs != 0 || !strings.Contains(r.Stopped, "time limit") {
		t.Fatalf("time-limited call: %v, %+v", err, r)
	}
	if el := time.Since(start); el > 60*time.Second {
		t.Fatalf("time limit of 200ms took %v", el)
	}
}

// TestPrefill: the buffer starts with base-process samples when asked, and they are counted.
func TestPrefill(t *testing.T) {
	cfg := gaussConfig(t, 2, 1)
	cfg.PrefillBase, cfg.Batch, cfg.GradSteps = 300, 64, 2
	s, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := train(t, s, 1)
	if s.BufferLen() != 364 || r.EnergyEvals != 364 {
		t.Fatalf("buffer %d, evaluations %d, want 364", s.BufferLen(), r.EnergyEvals)
	}
	train(t, s, 1)
	if s.BufferLen() != 428 {
		t.Fatalf("prefill repeated: buffer %d", s.BufferLen())
	}
}

func TestDefaultConfigAndValidation(t *testing.T) {
	for _, c := range []struct {
		name                 string
		steps, batch, epochs int
		smax                 float64
	}{{"dw4", 199, 512, 5000, 1.5}, {"lj13", 999, 512, 4000, 2}, {"lj55", 999, 200, 4000, 2}} {
		sys, _ := energy.Benchmark(c.name)
		cfg := PaperConfig(sys)
		if cfg.EMA != 0 || cfg.Reweight != 0 || cfg.LRFinal != 0 || cfg.TimeSampling != TimeUniform || cfg.MixTarget || cfg.SampleSteps != 0 {
			t.Errorf("%s: the paper's configuration has extras: %+v", c.name, cfg)
		}
		// lj55's defaults are the paper's with the parameter average
		if d := DefaultConfig(sys); c.name == "lj55" {
			want := cfg
			want.EMA = DefaultEMA
			if !reflect.DeepEqual(d, want) {
				t.Errorf("%s: defaults %+v, want the paper's with EMA %g", c.name, d, DefaultEMA)
			}
		}
		if cfg.Steps != c.steps || cfg.Batch != c.batch || cfg.TrainBatch != c.batch || cfg.Epochs != c.epochs ||
			cfg.Buffer != 10000 || cfg.GradSteps != 100 || cfg.LR != 1e-4 || cfg.ClipNorm != 100 ||
			cfg.Net != (NetConfig{Kind: NetEGNN, Layers: 5, Hidden: 128}) || math.Abs(cfg.Schedule.Kappa(1)-(c.smax*c.smax-1e-6)) > 1e-9 {
			t.Errorf("%s: %+v", c.name, cfg)
		}
		if err := cfg.Validate(); err != nil {
			t.Error(err)
		}
	}
	// dw4's default recipe: the paper's with the changes docs/validation.md measured
	sys, _ := energy.Benchmark("dw4")
	want := PaperConfig(sys)
	want.Net = NetConfig{Kind: NetEGNN, Layers: 3, Hidden: 64}
	want.Steps, want.Buffer, want.LR, want.LRFinal, want.TrainBatch = 100, 2560, 1e-3, 1e-4, 256
	want.TimeSampling, want.Reweight, want.EMA, want.MixTarget = TimeKappa, 0.5, DefaultEMA, true
	want.SampleSteps = DefaultSampleSteps
	if d := DefaultConfig(sys); !reflect.DeepEqual(d, want) {
		t.Errorf("dw4 defaults %+v, want %+v", d, want)
	} else if err := d.Validate(); err != nil {
		t.Error(err)
	}
	// lj13's CPU recipe: the paper's, sized for a CPU, sampled on a finer grid
	sys, _ = energy.Benchmark("lj13")
	want = PaperConfig(sys)
	want.Net = NetConfig{Kind: NetEGNN, Layers: 3, Hidden: 32}
	want.Steps, want.Batch, want.TrainBatch, want.GradSteps, want.LR = 200, 128, 128, 50, 5e-4
	want.EMA, want.SampleSteps = DefaultEMA, DefaultSampleSteps
	if d := DefaultConfig(sys); !reflect.DeepEqual(d, want) {
		t.Errorf("lj13 defaults %+v, want %+v", d, want)
	} else if err := d.Validate(); err != nil {
		t.Error(err)
	}
	cfg := gaussConfig(t, 2, 1)
	bad := []func(*Config){
		func(c *Config) { c.System = nil },
		func(c *Config) { c.Schedule = nil },
		func(c *Config) { c.Steps = 0 },
		func(c *Config) { c.LR = 0 },
		func(c *Config) { c.Net.Kind = NetKind(3) },
		func(c *Config) { c.TimeSampling = TimeSampling(3) },
		func(c *Config) { c.NetTime = NetTime(2) },
		func(c *Config) { c.Integrator = Integrator(-1) },
		func(c *Config) { c.LRFinal = -1 },
		func(c *Config) { c.Net.TanhRange = -1 },
		func(c *Config) { c.Net.TanhRange = math.NaN() },
		func(c *Config) { c.Net.TanhRange = math.Inf(1) },
	}
	for i, mod := range bad {
		c := cfg
		mod(&c)
		if _, err := NewSampler(c); err == nil {
			t.Errorf("bad config %d accepted", i)
		}
	}
	s, _ := NewSampler(cfg)
	for _, b := range []display.Bundle{s.MIMEBundle(), (&TrainReport{System: "x"}).MIMEBundle()} {
		if _, ok := b.Data["text/html"]; !ok {
			t.Errorf("bundle without HTML: %v", b.Data)
		}
	}
}

// described is an MLP that names itself, as nn.DeviceEGNN does.
type described struct{ nn.Model }

func (described) Describe() string { return "mlp on a test device" }

// TestNetworkNote: the sampler's table names a supplied network by its own description when it
// has one, both when it comes in the configuration and when SetModel swaps it in.
func TestNetworkNote(t *testing.T) {
	cfg := gaussConfig(t, 2, 1)
	mlp, err := nn.NewMLP(nn.MLPConfig{Dim: 2, Hidden: []int{8}, Activation: "silu", Seed: 1, LR: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		model nn.Model
		want  string
	}{
		{"built", nil, "mlp 2×32"},
		{"plain", mlp, "user-supplied network"},
		{"described", described{mlp}, "mlp on a test device"},
	} {
		c := cfg
		c.Model = tc.model
		s, err := NewSampler(c)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Network(); got != tc.want {
			t.Errorf("%s: network %q, want %q", tc.name, got, tc.want)
		}
		var row string
		for _, r := range s.Table().Rows {
			if r[0] == "network" {
				row = r[1]
			}
		}
		if want := fmt.Sprintf("%s, %d parameters", tc.want, s.Model().NumParams()); row != want {
			t.Errorf("%s: table row %q, want %q", tc.name, row, want)
		}
	}
	s, _ := NewSampler(cfg)
	if err := s.SetModel(described{mlp}); err != nil {
		t.Fatal(err)
	}
	if got := s.Network(); got != "mlp on a test device" {
		t.Errorf("after SetModel: network %q", got)
	}
}

// TestTanhRange: NetConfig.TanhRange reaches the EGNN, the sampler's table names it, and a
// checkpoint keeps it.
func TestTanhRange(t *testing.T) {
	sys, err := energy.Benchmark("dw4")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		set, want float64
		note      string
	}{{0, 15, "egnn 2×8"}, {15, 15, "egnn 2×8"}, {40, 40, "egnn 2×8, tanh range 40"}} {
		cfg := DefaultConfig(sys)
		cfg.Net = NetConfig{Kind: NetEGNN, Layers: 2, Hidden: 8, TanhRange: tc.set}
		cfg.Steps, cfg.Batch, cfg.TrainBatch, cfg.Buffer, cfg.GradSteps = 10, 8, 8, 16, 2
		s, err := NewSampler(cfg)
		if err != nil {
			t.Fatal(err)
		}
		train(t, s, 1)
		path := filepath.Join(t.TempDir(), "s.ckpt")
		if err := s.Save(path); err != nil {
			t.Fatal(err)
		}
		back, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		for name, smp := range map[string]*Sampler{"new": s, "loaded": back} {
			m, ok := smp.Model().(*nn.EGNN)
			if !ok {
				t.Fatalf("%g %s: model %T", tc.set, name, smp.Model())
			}
			if got := m.Config().TanhRange; got != tc.want {
				t.Errorf("%g %s: EGNN tanh range %g, want %g", tc.set, name, got, tc.want)
			}
			if got := smp.Config().Net.TanhRange; got != tc.set {
				t.Errorf("%g %s: config tanh range %g", tc.set, name, got)
			}
		}
		if note := s.Network(); note != tc.note {
			t.Errorf("%g: network %q, want %q", tc.set, note, tc.note)
		}
	}
}

// TestDeviceChoice: Config.Device DeviceCUDA puts the EGNN on the GPU when one is usable and
// otherwise keeps it on the CPU with the reason in the table; other networks stay on the CPU;
// unknown devices are refused. ToDevice moves a sampler's EGNN or says why it cannot.
func TestDeviceChoice(t *testing.T) {
	sys, err := energy.Benchmark("dw4")
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig(sys)
	cfg.Net = NetConfig{Kind: NetEGNN, Layers: 2, Hidden: 8}
	cfg.Device = Device(2)
	if _, err := NewSampler(cfg); err == nil || !strings.Contains(err.Error(), "device 2") {
		t.Errorf("device 2: %v", err)
	}
	if _, err := ParseDevice("tpu"); err == nil || !strings.Contains(err.Error(), "tpu") {
		t.Errorf("device tpu: %v", err)
	}
	cfg.Device = DeviceCUDA
	s, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	switch m := s.Model().(type) {
	case *nn.DeviceEGNN: // a GPU is usable here
		if !strings.Contains(s.Network(), " on cuda") {
			t.Errorf("GPU network named %q", s.Network())
		}
		m.Close()
	case *nn.EGNN:
		if !strings.HasPrefix(s.Network(), "egnn 2×8 on the CPU (") {
			t.Errorf("fallback network named %q", s.Network())
		}
		if err := s.ToDevice(nil); err == nil {
			t.Error("ToDevice without a usable GPU: no error")
		}
	default:
		t.Errorf("model %T", m)
	}
	cfg.Net.Kind = NetMLP
	s, err = NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Model().(*nn.MLP); !ok || !strings.Contains(s.Network(), "only the EGNN runs on the GPU") {
		t.Errorf("MLP with device cuda: %T named %q", s.Model(), s.Network())
	}
	if err := s.ToDevice(nil); err == nil || !strings.Contains(err.Error(), "only the EGNN") {
		t.Errorf("ToDevice of an MLP: %v", err)
	}
}

// hugeModel is a network whose output is enormous (or infinite) everywhere: what a network
// that diverged mid-training gives.
type hugeModel struct {
	nn.Model
	v float32
}

func (m hugeModel) Forward(x, t, out []float32) error {
	for i := range out {
		out[i] = m.v
		if i%2 == 1 {
			out[i] = -m.v
		}
	}
	return nil
}

// TestControlBound: the control is cut back to what regression targets can be, so that a huge
// or infinite network output moves a sample by a bounded amount per step instead of running
// to infinity; without a clip norm there is no bound.
func TestControlBound(t *testing.T) {
	for _, v := range []float32{1e30, float32(math.Inf(1))} {
		cfg := gaussConfig(t, 2, 1)
		cfg.Steps, cfg.Batch = 50, 16
		s, err := NewSampler(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetModel(hugeModel{Model: s.Model(), v: v}); err != nil {
			t.Fatal(err)
		}
		sm, err := s.Sample(16)
		if err != nil {
			t.Fatalf("output %g: %v", v, err)
		}
		// with σ = 1, κ(1) = 1 the drift is at most A + 2‖x‖ (A = 4·clip/τ): by Grönwall
		// ‖x(1)‖ ≤ (A/2)(e² − 1), plus the noise
		a := 4 * cfg.ClipNorm
		limit := a/2*(math.Exp(2)-1)*1.05 + 10
		for i, x := range sm.X {
			if math.IsNaN(x) || math.Abs(x) > limit {
				t.Fatalf("output %g: coordinate %d is %g (limit %g)", v, i, x, limit)
			}
		}
	}
	cfg := gaussConfig(t, 2, 1)
	cfg.ClipNorm = 0
	s, _ := NewSampler(cfg)
	u := []float64{1e30, -1e30}
	s.boundControl([]float64{0, 0}, u, 1)
	if u[0] != 1e30 {
		t.Errorf("no clip norm: control changed to %v", u)
	}
}

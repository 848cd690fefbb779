package adjoint

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// TestFitReachesBayesLoss: for the Gaussian target N(0, s² I) under the constant schedule
// (κ(t) = t, κ(1) = 1), a buffer seeded with exact samples and fitted with Fit gives a loss by
// time close to the Bayes loss of the optimal control, which is closed-form:
// d c² Var(X_1 | X_t) = d c² s² (1 − t) / (t s² + 1 − t), with c = 1/s² − 1.
func TestFitReachesBayesLoss(t *testing.T) {
	const dim, s = 2, 0.5
	cfg := gaussConfig(t, dim, s)
	cfg.Buffer = 4096
	smp, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float64, cfg.Buffer*dim)
	for i := range x {
		x[i] = s * rng.NormFloat64()
	}
	if err := smp.SeedBuffer(x); err != nil {
		t.Fatal(err)
	}
	if smp.BufferLen() != cfg.Buffer {
		t.Fatalf("buffer holds %d, want %d", smp.BufferLen(), cfg.Buffer)
	}
	c := 1/(s*s) - 1
	bayes := func(lo, hi float64) float64 { // mean of the Bayes loss over t in [lo, hi]
		const m = 200
		var sum float64
		for k := range m {
			tt := lo + (hi-lo)*(float64(k)+0.5)/m
			sum += dim * c * c * s * s * (1 - tt) / (tt*s*s + 1 - tt)
		}
		return sum / m
	}
	const bins = 5
	before, err := smp.LossByTime(bins, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if before[bins-1] < 2*bayes(0.8, 1) {
		t.Errorf("untrained network already near the Bayes loss late: %.3g vs %.3g", before[bins-1], bayes(0.8, 1))
	}
	if _, err := smp.Fit(context.Background(), 1500); err != nil {
		t.Fatal(err)
	}
	after, err := smp.LossByTime(bins, 8192)
	if err != nil {
		t.Fatal(err)
	}
	for b := range bins {
		lo, hi := float64(b)/bins, float64(b+1)/bins
		want := bayes(lo, hi)
		t.Logf("t in [%.1f, %.1f): loss %.3f before, %.3f after, Bayes %.3f", lo, hi, before[b], after[b], want)
		if math.Abs(after[b]-want) > 0.1*want+0.05 {
			t.Errorf("t in [%.1f, %.1f): loss %.3f, Bayes loss %.3f", lo, hi, after[b], want)
		}
	}
	if smp.BufferLen() != cfg.Buffer {
		t.Errorf("Fit changed the buffer: %d", smp.BufferLen())
	}
}

func TestFitErrors(t *testing.T) {
	smp, err := NewSampler(gaussConfig(t, 2, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := smp.Fit(context.Background(), 10); err == nil {
		t.Error("Fit on an empty buffer: no error")
	}
	if _, err := smp.LossByTime(4, 10); err == nil {
		t.Error("LossByTime on an empty buffer: no error")
	}
	for _, x := range [][]float64{nil, {1, 2, 3}, {1, math.NaN()}, {math.Inf(1), 0}} {
		if err := smp.SeedBuffer(x); err == nil {
			t.Errorf("SeedBuffer(%v): no error", x)
		}
	}
	if err := smp.SeedBuffer([]float64{0.1, 0.2}); err != nil {
		t.Fatal(err)
	}
	if _, err := smp.Fit(context.Background(), 0); err == nil {
		t.Error("Fit(0): no error")
	}
	if _, err := smp.LossByTime(0, 10); err == nil {
		t.Error("LossByTime(0 bins): no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := smp.Fit(ctx, 5); err == nil {
		t.Error("Fit with a cancelled context: no error")
	}
	for _, lr := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if err := smp.SetLearningRate(lr); err == nil {
			t.Errorf("SetLearningRate(%g): no error", lr)
		}
	}
	// A rate too small to move a float32 parameter leaves the network as it was: the rate set
	// is the one the steps take (the configuration's 3e-3 would move it).
	x, tt := []float32{0.3, -0.4}, []float32{0.5}
	before, after := make([]float32, 2), make([]float32, 2)
	if err := smp.model.Forward(x, tt, before); err != nil {
		t.Fatal(err)
	}
	if err := smp.SetLearningRate(1e-30); err != nil {
		t.Fatal(err)
	}
	if _, err := smp.Fit(context.Background(), 5); err != nil {
		t.Fatal(err)
	}
	if err := smp.model.Forward(x, tt, after); err != nil {
		t.Fatal(err)
	}
	if before[0] != after[0] || before[1] != after[1] {
		t.Errorf("fit at learning rate 1e-30 moved the network: %v → %v", before, after)
	}
}

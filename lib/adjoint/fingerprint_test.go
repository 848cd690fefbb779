package adjoint

import (
	"context"
	"encoding/json"
	"flag"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"testing"

	"adjoint/lib/energy"
	"adjoint/lib/sde"
	"adjoint/lib/tensor"
)

var updateFingerprint = flag.Bool("update-fingerprint", false, "rewrite testdata/fingerprint.json from the current code")

// fingerprint is what a short fixed-seed run produces: every number is kept as its float64 bits
// (hex in the file), so a change in the training or sampling arithmetic or in the order of
// random draws shows up.
type fingerprint struct {
	Losses   []string `json:"losses"`
	Buffer   string   `json:"buffer_hash"`
	Steps    int      `json:"steps"`
	Evals    int64    `json:"evals"`
	X        []string `json:"x"`
	LogW     []string `json:"logw"`
	Energy   []string `json:"energy"`
	FitLoss  string   `json:"fit_loss,omitempty"`
	ByTime   []string `json:"loss_by_time,omitempty"`
	AfterRNG uint64   `json:"after_rng"`
}

func bitsOf(v []float64) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = hexBits(x)
	}
	return out
}

func hexBits(x float64) string {
	const digits = "0123456789abcdef"
	b := math.Float64bits(x)
	s := make([]byte, 16)
	for i := 15; i >= 0; i-- {
		s[i] = digits[b&15]
		b >>= 4
	}
	return string(s)
}

// fingerprintCases are small runs that together go through every training path: EGNN and MLP,
// both integrators and time samplings, the annealed learning rate, the base prefill, a Gaussian
// with a constant schedule, and buffer seeding with Fit and LossByTime.
func fingerprintCases(t *testing.T) map[string]func() (*Sampler, error) {
	dw4 := func(kind NetKind, mod func(*Config)) func() (*Sampler, error) {
		return func() (*Sampler, error) {
			sys, err := energy.Benchmark("dw4")
			if err != nil {
				return nil, err
			}
			cfg := PaperConfig(sys)
			cfg.Steps, cfg.Net, cfg.Batch, cfg.TrainBatch, cfg.Buffer, cfg.GradSteps, cfg.Epochs =
				20, NetConfig{Kind: kind, Layers: 2, Hidden: 16}, 32, 24, 50, 4, 10
			cfg.Seed = 11
			cfg.EMA = 0 // recorded before the parameter average; TestSampleUsesAverage covers it
			if mod != nil {
				mod(&cfg)
			}
			return NewSampler(cfg)
		}
	}
	return map[string]func() (*Sampler, error){
		"dw4-egnn": dw4(NetEGNN, nil),
		"dw4-mlp-kappa": dw4(NetMLP, func(c *Config) {
			c.TimeSampling, c.Integrator, c.LRFinal, c.PrefillBase = TimeKappa, IntegratorKappa, 1e-5, 40
		}),
		"gauss": func() (*Sampler, error) {
			cfg := gaussConfig(t, 3, 0.7)
			cfg.Batch, cfg.TrainBatch, cfg.Buffer, cfg.GradSteps, cfg.Steps = 64, 48, 100, 5, 15
			return NewSampler(cfg)
		},
		"gauss-periodic": func() (*Sampler, error) {
			cfg := gaussConfig(t, 2, 0.7)
			cfg.System.Box = []float64{2, 3}
			cfg.Batch, cfg.TrainBatch, cfg.Buffer, cfg.GradSteps, cfg.Steps = 32, 32, 100, 3, 12
			cfg.Schedule, _ = sde.Geometric(1e-2, 1)
			return NewSampler(cfg)
		},
	}
}

func runFingerprint(t *testing.T, name string, mk func() (*Sampler, error)) fingerprint {
	s, err := mk()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Train(context.Background(), TrainOptions{Epochs: 2, Reporter: &quietReporter{}}); err != nil {
		t.Fatal(err)
	}
	var fp fingerprint
	fp.Losses = bitsOf(s.LossHistory())
	h := fnv.New64a()
	for _, v := range append(append([]float64(nil), s.buf.x...), s.buf.y...) {
		b := math.Float64bits(v)
		for i := range 8 {
			h.Write([]byte{byte(b >> (8 * i))})
		}
	}
	fp.Buffer = hexBits(math.Float64frombits(h.Sum64()))
	fp.Steps = s.steps
	if name == "gauss" {
		seed := make([]float64, 20*3)
		for i := range seed {
			seed[i] = math.Sin(float64(i))
		}
		if err := s.SeedBuffer(seed); err != nil {
			t.Fatal(err)
		}
		fl, err := s.Fit(context.Background(), 3)
		if err != nil {
			t.Fatal(err)
		}
		fp.FitLoss = hexBits(fl)
		bt, err := s.LossByTime(3, 10)
		if err != nil {
			t.Fatal(err)
		}
		fp.ByTime = bitsOf(bt)
	}
	sm, err := s.Sample(6)
	if err != nil {
		t.Fatal(err)
	}
	fp.Evals = s.EnergyEvals()
	fp.X = bitsOf(sm.X[:min(len(sm.X), 12)])
	fp.LogW = bitsOf(sm.LogW)
	fp.Energy = bitsOf(sm.Energy)
	fp.AfterRNG = s.rng.Uint64()
	return fp
}

// TestFingerprint: short fixed-seed runs reproduce, bit for bit, the losses, replay buffer,
// samples, weights and random stream recorded in testdata/fingerprint.json. Any change of the
// arithmetic or of the order of random draws breaks it; regenerate with -update-fingerprint
// only for an intended change of the numbers.
func TestFingerprint(t *testing.T) {
	path := filepath.Join("testdata", "fingerprint.json")
	// the network's sums are split over workers: fix their number so the bits do not depend on
	// the machine
	tensor.SetWorkers(2)
	defer tensor.SetWorkers(0)
	got := map[string]fingerprint{}
	for name, mk := range fingerprintCases(t) {
		got[name] = runFingerprint(t, name, mk)
	}
	if *updateFingerprint {
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]fingerprint
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(got) {
		t.Fatalf("%d recorded cases, %d run", len(want), len(got))
	}
	for name, g := range got {
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(want[name])
		if string(gb) != string(wb) {
			t.Errorf("%s: run differs from the recorded fingerprint\n got %s\nwant %s", name, gb, wb)
		}
	}
}

// TestOldCheckpoint: a checkpoint written by an earlier version (settings stored as strings)
// still loads, and training and sampling from it continue with the recorded numbers.
func TestOldCheckpoint(t *testing.T) {
	tensor.SetWorkers(2)
	defer tensor.SetWorkers(0)
	s, err := Load(filepath.Join("testdata", "v1-kappa.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Epoch() != 1 || s.Config().LRFinal != 1e-5 {
		t.Fatalf("loaded epoch %d, config %+v", s.Epoch(), s.Config())
	}
	if _, err := s.Train(context.Background(), TrainOptions{Epochs: 1, Reporter: &quietReporter{}}); err != nil {
		t.Fatal(err)
	}
	sm, err := s.Sample(2)
	if err != nil {
		t.Fatal(err)
	}
	got := append([]string{hexBits(s.LossHistory()[1])}, bitsOf(sm.LogW)...)
	want := []string{"40caa84b6aaaaaab", "4027c9f06d9a9dc7", "c05bc32ab3b315c9"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("loss and log weights %v, recorded %v", got, want)
		}
	}
}

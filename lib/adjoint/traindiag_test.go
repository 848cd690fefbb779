package adjoint

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"adjoint/lib/energy"
	"adjoint/lib/nn"
)

// tinyDW4 is a DW-4 sampler with a small MLP that trains an epoch in milliseconds.
func tinyDW4(t *testing.T, mod func(*Config)) *Sampler {
	t.Helper()
	sys, err := energy.Benchmark("dw4")
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig(sys)
	cfg.Steps, cfg.Net, cfg.Batch, cfg.TrainBatch, cfg.Buffer, cfg.GradSteps, cfg.LR =
		10, NetConfig{Kind: NetMLP, Layers: 1, Hidden: 8}, 16, 16, 48, 2, 1e-3
	cfg.Seed = 5
	if mod != nil {
		mod(&cfg)
	}
	s, err := NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// gaussRows returns n configurations of dimension dim with N(0, scale²) coordinates.
func gaussRows(seed uint64, n, dim int, scale float64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]float64, n*dim)
	for i := range x {
		x[i] = scale * rng.NormFloat64()
	}
	return x
}

// modelBytes is what the network saves: parameters and optimiser state.
func modelBytes(t *testing.T, m nn.Model) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := m.Save(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestLossByTimeOn: the loss by time on given terminal states is, bit for bit, LossByTime's on
// a buffer seeded with them from the same random stream; the sampler's own buffer and network
// are left as they were, and configurations that are not finite are left out.
func TestLossByTimeOn(t *testing.T) {
	seeded, other := tinyDW4(t, func(c *Config) { c.Buffer = 64 }), tinyDW4(t, func(c *Config) { c.Buffer = 64 })
	train(t, other, 2) // a buffer of its own (the network is trained too: reload it below)
	if err := other.SetModel(seeded.model); err != nil {
		t.Fatal(err)
	}
	other.pcg.Seed(9, 9)
	seeded.pcg.Seed(9, 9)
	ref := gaussRows(1, 40, 8, 1.5)
	if err := seeded.SeedBuffer(ref); err != nil {
		t.Fatal(err)
	}
	want, err := seeded.LossByTime(4, 50)
	if err != nil {
		t.Fatal(err)
	}
	bufX, bufEp, n := slices.Clone(other.buf.x), slices.Clone(other.buf.ep), other.buf.n
	net := modelBytes(t, other.model)
	got, err := other.LossByTimeOn(ref, 4, 50)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("LossByTimeOn %v, LossByTime on the seeded buffer %v", got, want)
	}
	if other.buf.n != n || !slices.Equal(other.buf.x, bufX) || !slices.Equal(other.buf.ep, bufEp) {
		t.Error("the replay buffer changed")
	}
	if !bytes.Equal(modelBytes(t, other.model), net) {
		t.Error("the network changed")
	}
	bad := append(slices.Clone(ref[:16]), math.NaN())
	bad = append(bad, ref[17:24]...)
	p, err := other.profileOn("x", bad, 2, 10)
	if err != nil || p.Samples != 2 || p.Dropped != 1 {
		t.Errorf("with a NaN configuration: %+v, %v", p, err)
	}
	for _, c := range []struct {
		name        string
		x           []float64
		bins, draws int
	}{{"ragged", ref[:7], 2, 2}, {"no bins", ref, 0, 2}, {"no draws", ref, 2, 0}, {"all NaN", []float64{math.NaN(), 0, 0, 0, 0, 0, 0, 0}, 2, 2}} {
		if _, err := other.LossByTimeOn(c.x, c.bins, c.draws); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

// TestGradientSNR: the bins' mean gradients add up to the mean gradient of the whole
// minibatches, computed on its own from the same draws; the statistics are consistent; the
// network and its optimiser state are unchanged.
func TestGradientSNR(t *testing.T) {
	for _, ts := range []TimeSampling{TimeUniform, TimeKappa} {
		s := tinyDW4(t, func(c *Config) { c.TimeSampling = ts })
		train(t, s, 2)
		net := modelBytes(t, s.model)
		const bins, batch, reps = 4, 32, 3
		s.pcg.Seed(3, 4)
		g, means, err := s.gradientSNR(bins, batch, reps)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(modelBytes(t, s.model), net) {
			t.Fatal("the network changed")
		}
		// the same minibatches, whole
		s.pcg.Seed(3, 4)
		model := s.model.(nn.Differentiable)
		np := model.NumParams()
		mb := newMatchBatch(batch, s.space.Dim())
		whole, grad := make([]float64, np), make([]float64, np)
		for range reps {
			s.draw(mb, batch, s.times.at)
			if _, err := model.LossGrad(mb.x, mb.t, mb.y, grad); err != nil {
				t.Fatal(err)
			}
			for i, v := range grad {
				whole[i] += v / reps
			}
		}
		sum := make([]float64, np)
		for b := range bins {
			for i, v := range means[b] {
				sum[i] += v
			}
		}
		var diff, diffFull float64
		for i := range whole {
			diff += (sum[i] - whole[i]) * (sum[i] - whole[i])
			diffFull += (means[bins][i] - whole[i]) * (means[bins][i] - whole[i])
		}
		if nw := norm(whole); !(nw > 0) || math.Sqrt(diff) > 1e-4*nw || math.Sqrt(diffFull) > 1e-4*nw {
			t.Errorf("%v: |whole| %g, |Σ bins − whole| %g, |full − whole| %g", ts, nw, math.Sqrt(diff), math.Sqrt(diffFull))
		}
		if math.Abs(g.Full.MeanNorm-norm(whole)) > 1e-4*norm(whole) || math.Abs(g.Full.Cosine-1) > 1e-9 {
			t.Errorf("%v: full minibatch %+v, |whole| %g", ts, g.Full, norm(whole))
		}
		var rows, share float64
		for _, b := range g.Bins {
			rows += b.Rows
			share += b.NoiseShare
			if b.Noise < 0 || b.SNR < 0 || b.SNR > 1+1e-12 || math.Abs(b.Cosine) > 1+1e-12 ||
				math.Abs(b.MeanSqNorm-b.Noise-b.MeanNorm*b.MeanNorm) > 1e-9*b.MeanSqNorm {
				t.Errorf("%v: bin %+v", ts, b)
			}
		}
		if math.Abs(rows-batch) > 1e-9 || math.Abs(share-1) > 1e-9 || g.Params != np || len(g.Bins) != bins {
			t.Errorf("%v: rows %g, noise shares %g, %+v", ts, rows, share, g)
		}
	}
	s := tinyDW4(t, nil)
	if _, err := s.GradientSNR(4, 8, 2); err == nil {
		t.Error("empty buffer: no error")
	}
	train(t, s, 1)
	if _, err := s.GradientSNR(4, 8, 1); err == nil {
		t.Error("one minibatch: no error")
	}
}

// TestBufferStaleness: the buffer records the epoch each sample came in at, a checkpoint keeps
// it, one written without it gets it inferred from the ring order, and the age groups have the
// ages, counts and energies of the batches they hold.
func TestBufferStaleness(t *testing.T) {
	s := tinyDW4(t, nil) // batch 16, buffer 48: after 5 epochs it holds the batches of epochs 3, 4, 5
	train(t, s, 5)
	st, err := s.BufferStaleness(3, 40)
	if err != nil {
		t.Fatal(err)
	}
	if st.Epoch != 5 || st.Inferred || len(st.Groups) != 3 {
		t.Fatalf("%+v", st)
	}
	for g, a := range st.Groups {
		if a.Count != 16 || a.MinAge != g+1 || a.MaxAge != g+1 || !(a.Loss > 0) || a.NonFinite != 0 {
			t.Errorf("group %d: %+v", g, a)
		}
	}
	// the youngest group is the latest batch, whose mean energy training recorded
	if e := st.Groups[0].MeanEnergy; math.Abs(e-s.lastEnergy) > 1e-9*math.Abs(s.lastEnergy) {
		t.Errorf("youngest group's mean energy %g, latest batch's %g", e, s.lastEnergy)
	}
	rec := slices.Clone(s.buf.ep)
	s.buf.inferEpochs(s.epoch, s.cfg.Batch)
	if !slices.Equal(s.buf.ep, rec) {
		t.Errorf("inferred epochs %v, recorded %v", s.buf.ep, rec)
	}
	path := filepath.Join(t.TempDir(), "s.ckpt")
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	l, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l.buf.ep, rec) || l.buf.epochsInferred {
		t.Errorf("loaded epochs %v (inferred %v), saved %v", l.buf.ep, l.buf.epochsInferred, rec)
	}
	old, err := Load(filepath.Join("testdata", "v1-kappa.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	ost, err := old.BufferStaleness(4, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !ost.Inferred || len(old.buf.ep) != old.buf.n {
		t.Errorf("old checkpoint: %+v", ost)
	}
	for _, bad := range [][2]int{{0, 10}, {4, 0}} {
		if _, err := s.BufferStaleness(bad[0], bad[1]); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// TestInferEpochs: ring order to insertion epochs, for a buffer not yet full and one that
// wrapped around.
func TestInferEpochs(t *testing.T) {
	b := newBuffer(5, 1)
	for ep := range 4 { // two samples an epoch: epochs 0 and 1 fill 4 slots, 2 and 3 wrap
		b.push([]float64{1, 2}, []float64{0, 0}, ep, nil)
		if ep == 1 {
			got := slices.Clone(b.ep)
			b.inferEpochs(2, 2)
			if !slices.Equal(b.ep, got) {
				t.Errorf("not full: inferred %v, recorded %v", b.ep, got)
			}
		}
	}
	// after wrapping the slots hold epochs 2, 3, 3, 1, 2 and the oldest is slot next = 3
	if want := []int32{2, 3, 3, 1, 2}; !slices.Equal(b.ep, want) || b.next != 3 {
		t.Fatalf("recorded %v, next %d", b.ep, b.next)
	}
	want := slices.Clone(b.ep)
	b.inferEpochs(4, 2)
	if !slices.Equal(b.ep, want) {
		t.Errorf("wrapped: inferred %v, recorded %v (next %d)", b.ep, want, b.next)
	}
}

// TestDiagnoseTraining: the whole diagnosis on a tiny sampler is complete, repeatable for a
// seed, and leaves the network and the buffer as they were.
func TestDiagnoseTraining(t *testing.T) {
	s := tinyDW4(t, nil)
	train(t, s, 2)
	path := filepath.Join(t.TempDir(), "s.ckpt")
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	net, bufX := modelBytes(t, s.model), slices.Clone(s.buf.x)
	opt := TrainingDiagnosisOptions{Ref: gaussRows(2, 30, 8, 1.5), N: 24, Bins: 3, Draws: 20, Reps: 3, Seed: 4}
	d, err := s.DiagnoseTraining(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(modelBytes(t, s.model), net) || !slices.Equal(s.buf.x, bufX) {
		t.Error("the network or the buffer changed")
	}
	if len(d.BinEdges) != 4 || d.Model.Samples+d.Model.Dropped != 24 || d.Reference.Samples != 30 || d.Buffer.Samples != 32 ||
		len(d.RefExcess) != 3 || len(d.Staleness.Groups) != 4 || len(d.Gradient.Bins) != 3 || d.Gradient.Batch != 16 {
		t.Fatalf("diagnosis %+v", d)
	}
	for _, p := range []*LossProfile{d.Model, d.Reference, d.Buffer} {
		var share float64
		for b, l := range p.Loss {
			share += p.Share[b]
			if !(l > 0) || math.IsInf(l, 0) {
				t.Errorf("%s: bin %d loss %g", p.Set, b, l)
			}
		}
		if math.Abs(share-1) > 1e-12 || math.IsNaN(p.MeanEnergy) {
			t.Errorf("%s: shares add to %g, mean energy %g", p.Set, share, p.MeanEnergy)
		}
	}
	if d.RefExcess[1] != d.Reference.Loss[1]-d.Model.Loss[1] || math.IsNaN(d.ModelWeightedEnergy) {
		t.Errorf("reference excess %v, weighted energy %g", d.RefExcess, d.ModelWeightedEnergy)
	}
	if txt := d.String(); len(d.Tables()) != 3 || txt == "" {
		t.Errorf("tables:\n%s", txt)
	}
	// the same checkpoint and seed give the same numbers
	l, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := l.DiagnoseTraining(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	j1, _ := json.Marshal(d)
	j2, _ := json.Marshal(d2)
	if !bytes.Equal(j1, j2) {
		t.Errorf("repeat differs:\n%s\n%s", j1, j2)
	}
	for name, o := range map[string]TrainingDiagnosisOptions{
		"one minibatch": {Reps: 1},
		"negative n":    {N: -1},
		"ragged ref":    {Ref: []float64{1, 2, 3}},
	} {
		if _, err := s.DiagnoseTraining(context.Background(), o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := tinyDW4(t, nil).DiagnoseTraining(context.Background(), TrainingDiagnosisOptions{}); err == nil {
		t.Error("empty buffer: no error")
	}
}

package adjoint

import (
	"context"
	"testing"

	"adjoint/lib/energy"
)

// BenchmarkEpochDW4Small measures one training epoch of DW-4 with the demo's small EGNN (2×32,
// 100 integration steps, batch 256, 50 gradient steps), with and without the diagnostics of the
// epoch's batch.
func BenchmarkEpochDW4Small(b *testing.B) {
	sys, err := energy.Benchmark("dw4")
	if err != nil {
		b.Fatal(err)
	}
	cfg := DefaultConfig(sys)
	cfg.Net = NetConfig{Kind: NetEGNN, Layers: 2, Hidden: 32}
	cfg.Steps, cfg.Batch, cfg.TrainBatch, cfg.GradSteps, cfg.LR = 100, 256, 256, 50, 1e-3
	for _, c := range []struct {
		name  string
		every int
	}{{"diagnosed", 1}, {"plain", -1}} {
		b.Run(c.name, func(b *testing.B) {
			s, err := NewSampler(cfg)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if _, err := s.Train(context.Background(), TrainOptions{Epochs: 1, DiagnoseEvery: c.every, Reporter: &quietReporter{}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package adjoint

import (
	"context"
	"testing"

	"adjoint/lib/energy"
)

// BenchmarkEpochDW4Small measures one training epoch of DW-4 with the demo's small EGNN (2×32,
// 100 integration steps, batch 256, 50 gradient steps).
func BenchmarkEpochDW4Small(b *testing.B) {
	sys, err := energy.Benchmark("dw4")
	if err != nil {
		b.Fatal(err)
	}
	cfg := DefaultConfig(sys)
	cfg.Net = NetConfig{Kind: "egnn", Layers: 2, Hidden: 32}
	cfg.Steps, cfg.Batch, cfg.TrainBatch, cfg.GradSteps, cfg.LR = 100, 256, 256, 50, 1e-3
	s, err := NewSampler(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := s.Train(context.Background(), TrainOptions{Epochs: 1, Reporter: &quietReporter{}}); err != nil {
			b.Fatal(err)
		}
	}
}

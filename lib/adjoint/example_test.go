package adjoint_test

import (
	"context"
	"fmt"

	"adjoint/lib/adjoint"
	"adjoint/lib/energy"
)

// Training a DW-4 sampler with the paper's configuration (an EGNN 5×128, 5000 epochs), then
// drawing samples with importance weights.
func Example() {
	sys, err := energy.Benchmark("dw4")
	if err != nil {
		panic(err)
	}
	cfg := adjoint.DefaultConfig(sys)
	s, err := adjoint.NewSampler(cfg)
	if err != nil {
		panic(err)
	}
	if _, err := s.TrainEpochs(cfg.Epochs); err != nil {
		panic(err)
	}
	sm, err := s.Sample(2000)
	if err != nil {
		panic(err)
	}
	fmt.Printf("mean energy %.2f, ESS %.0f of %d\n", sm.MeanEnergy(), sm.ESS, sm.N)
	if err := sm.SaveNPY("dw4.npy"); err != nil {
		panic(err)
	}
}

// Fitting the controller to exact samples' targets alone (no sampling in between) and reading
// the regression loss by time: late bins show how well the network fits ∇g itself.
func ExampleSampler_Fit() {
	sys, err := energy.Benchmark("dw4")
	if err != nil {
		panic(err)
	}
	cfg := adjoint.DefaultConfig(sys)
	cfg.Net = adjoint.NetConfig{Kind: adjoint.NetEGNN, Layers: 2, Hidden: 16}
	cfg.TrainBatch = 32
	s, err := adjoint.NewSampler(cfg)
	if err != nil {
		panic(err)
	}
	exact := make([]float64, 64*sys.Dim()) // stand-in: load reference samples here
	for i := range exact {
		exact[i] = float64(i%7) - 3
	}
	if err := s.SeedBuffer(exact); err != nil {
		panic(err)
	}
	if _, err := s.Fit(context.Background(), 20); err != nil {
		panic(err)
	}
	loss, err := s.LossByTime(4, 64)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(loss), "bins")
	// Output: 4 bins
}

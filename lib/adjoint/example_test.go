package adjoint_test

import (
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

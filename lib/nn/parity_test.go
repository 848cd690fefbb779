package nn

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// The fixture testdata/egnn_parity.{bin,json} holds a small EGNN (5 particles in 3-D, 3 layers
// × 16, attention, LastGain 1) with inputs and the outputs this package computed for them.
// scripts/torch_egnn.py --check lib/nn/testdata/egnn_parity loads the same file into the
// PyTorch peer and compares; this test guards the Go side against drift. Regenerate with
// ADJOINT_WRITE_FIXTURES=1 go test -run TestEGNNParityFixture ./lib/nn.
type parityIO struct {
	X   []float32 `json:"x"`
	T   []float32 `json:"t"`
	Out []float32 `json:"out"`
}

func TestEGNNParityFixture(t *testing.T) {
	base := filepath.Join("testdata", "egnn_parity")
	if os.Getenv("ADJOINT_WRITE_FIXTURES") == "1" {
		m, err := NewEGNN(EGNNConfig{Particles: 5, SpatialDim: 3, Layers: 3, Hidden: 16, LastGain: 1, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 1))
		io := parityIO{X: make([]float32, 4*15), T: make([]float32, 4)}
		for i := range io.X {
			io.X[i] = float32(1.5 * rng.NormFloat64())
		}
		for i := range io.T {
			io.T[i] = float32(rng.Float64())
		}
		io.Out = make([]float32, len(io.X))
		if err := m.Forward(io.X, io.T, io.Out); err != nil {
			t.Fatal(err)
		}
		if err := SaveFile(m, base+".bin"); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(io)
		if err := os.WriteFile(base+".json", b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, err := LoadFile(base + ".bin")
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	raw, err := os.ReadFile(base + ".json")
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	var io parityIO
	if err := json.Unmarshal(raw, &io); err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(io.Out))
	if err := m.Forward(io.X, io.T, out); err != nil {
		t.Fatal(err)
	}
	for i := range out {
		if d := math.Abs(float64(out[i] - io.Out[i])); d > 1e-5*math.Max(1, math.Abs(float64(io.Out[i]))) {
			t.Fatalf("output %d: %g, fixture %g", i, out[i], io.Out[i])
		}
	}
}

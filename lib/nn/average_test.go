package nn

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// params32 copies a model's parameters.
func params32(b *base) [][]float64 {
	var out [][]float64
	for _, p := range b.params {
		v := make([]float64, p.Len())
		for i := range v {
			v[i] = p.At(i)
		}
		out = append(out, v)
	}
	return out
}

// TestAverage checks the parameter average against the recurrence computed here from the
// parameters after each step (with the warm-up), its swap, and its round trip through a file,
// for both networks.
func TestAverage(t *testing.T) {
	mlp, err := NewMLP(MLPConfig{Dim: 4, Hidden: []int{8}, Seed: 2, LR: 1e-2})
	if err != nil {
		t.Fatal(err)
	}
	egnn, err := NewEGNN(EGNNConfig{Particles: 3, SpatialDim: 2, Layers: 2, Hidden: 8, Seed: 4, LR: 1e-2})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		m    Averaged
		b    *base
	}{{"mlp", mlp, &mlp.base}, {"egnn", egnn, &egnn.base}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			const decay = 0.95
			if err := c.m.SetAverage(decay); err != nil {
				t.Fatal(err)
			}
			want := params32(c.b)
			rng := rand.New(rand.NewPCG(1, 2))
			D := c.m.Dim()
			for n := 1; n <= 40; n++ {
				x, y := to32(randVec(rng, 4*D, 1)), to32(randVec(rng, 4*D, 1))
				if _, err := c.m.TrainStep(x, []float32{0.1, 0.4, 0.6, 0.9}, y); err != nil {
					t.Fatal(err)
				}
				d := math.Min(decay, float64(1+n)/float64(10+n))
				for k, p := range params32(c.b) {
					for i := range p {
						want[k][i] = d*want[k][i] + (1-d)*p[i]
					}
				}
			}
			raw := params32(c.b)
			if !c.m.SwapAverage() {
				t.Fatal("SwapAverage reports no average")
			}
			moved := 0.0
			for k, p := range params32(c.b) {
				for i := range p {
					if e := math.Abs(p[i] - want[k][i]); e > 1e-6*(1+math.Abs(want[k][i])) {
						t.Fatalf("average of parameter %d[%d] is %g, recurrence gives %g", k, i, p[i], want[k][i])
					}
					moved = math.Max(moved, math.Abs(p[i]-raw[k][i]))
				}
			}
			if moved == 0 {
				t.Fatal("the average equals the parameters: nothing was averaged")
			}
			// saved while swapped back: the file carries parameters and average
			c.m.SwapAverage()
			path := filepath.Join(t.TempDir(), "m.bin")
			if err := SaveFile(c.m, path); err != nil {
				t.Fatal(err)
			}
			m2, err := LoadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			a2 := m2.(Averaged)
			if a2.AverageDecay() != decay {
				t.Fatalf("loaded decay %g, saved %g", a2.AverageDecay(), decay)
			}
			var b2 *base
			switch m := m2.(type) {
			case *MLP:
				b2 = &m.base
			case *EGNN:
				b2 = &m.base
			}
			if b2.avg.n != 40 {
				t.Fatalf("loaded average has %d steps, want 40", b2.avg.n)
			}
			for k, p := range params32(b2) {
				for i := range p {
					if float32(p[i]) != float32(raw[k][i]) {
						t.Fatalf("loaded parameter %d[%d] = %g, saved %g", k, i, p[i], raw[k][i])
					}
				}
			}
			a2.SwapAverage()
			for k, p := range params32(b2) {
				for i := range p {
					if math.Abs(p[i]-want[k][i]) > 1e-6*(1+math.Abs(want[k][i])) {
						t.Fatalf("loaded average %d[%d] = %g, want %g", k, i, p[i], want[k][i])
					}
				}
			}
			if err := c.m.SetAverage(0); err != nil || c.m.SwapAverage() || c.m.AverageDecay() != 0 {
				t.Fatalf("SetAverage(0): err %v, average still kept", err)
			}
			for _, bad := range []float64{-0.1, 1, math.NaN()} {
				if err := c.m.SetAverage(bad); err == nil {
					t.Errorf("SetAverage(%g) accepted", bad)
				}
			}
		})
	}
}

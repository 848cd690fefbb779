package nn

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"adjoint/lib/tensor"
)

// forward64 evaluates a float64 network on float64 inputs.
func forward64(t *testing.T, b *base, x, ts []float64) []float64 {
	t.Helper()
	B := len(ts)
	tp := tensor.NewTape(tensor.Float64)
	X := tp.Input(B, b.dim)
	T := tp.Input(B, 1)
	copy(X.F64(), x)
	copy(T.F64(), ts)
	y := b.g.build(tp, X, T)
	if err := tp.Err(); err != nil {
		t.Fatal(err)
	}
	return append([]float64(nil), y.F64()...)
}

// loss64 is the regression loss of a float64 network, with parameter gradients filled.
func loss64(t *testing.T, b *base, x, ts, target []float64) float64 {
	t.Helper()
	B := len(ts)
	tp := tensor.NewTape(tensor.Float64)
	X, T, Y := tp.Input(B, b.dim), tp.Input(B, 1), tp.Input(B, b.dim)
	copy(X.F64(), x)
	copy(T.F64(), ts)
	copy(Y.F64(), target)
	l, err := b.lossGrad(tp, X, T, Y)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func randVec(rng *rand.Rand, n int, scale float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = scale * rng.NormFloat64()
	}
	return v
}

func to32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// checkParamGrads compares the analytic parameter gradients with central differences.
func checkParamGrads(t *testing.T, b *base, x, ts, target []float64, perParam int) {
	t.Helper()
	loss64(t, b, x, ts, target)
	grads := make([][]float64, len(b.params))
	for i, p := range b.params {
		grads[i] = append([]float64(nil), p.Grad64()...)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	const h = 1e-6
	for i, p := range b.params {
		d := p.F64()
		idx := rng.Perm(len(d))
		if len(idx) > perParam {
			idx = idx[:perParam]
		}
		for _, k := range idx {
			old := d[k]
			d[k] = old + h
			fp := loss64(t, b, x, ts, target)
			d[k] = old - h
			fm := loss64(t, b, x, ts, target)
			d[k] = old
			fd := (fp - fm) / (2 * h)
			if math.Abs(fd-grads[i][k]) > 1e-6*math.Max(1, math.Abs(fd)) {
				t.Fatalf("%s[%d]: analytic %.10g, finite difference %.10g", b.names[i], k, grads[i][k], fd)
			}
		}
	}
}

func TestMLPParamGradients(t *testing.T) {
	for _, act := range []string{"silu", "tanh", "relu"} {
		t.Run(act, func(t *testing.T) {
			m, err := newMLP(MLPConfig{Dim: 3, Hidden: []int{6, 5}, Activation: act, Seed: 1}, tensor.Float64)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			checkParamGrads(t, &m.base, randVec(rng, 12, 1), []float64{0.1, 0.5, 0.7, 0.9}, randVec(rng, 12, 1), 20)
		})
	}
}

func smallEGNN(t *testing.T, n, d int, att bool) *EGNN {
	t.Helper()
	m, err := newEGNN(EGNNConfig{Particles: n, SpatialDim: d, Layers: 3, Hidden: 8, Attention: Bool(att), LastGain: 1, Seed: 3}, tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEGNNParamGradients(t *testing.T) {
	for _, tc := range []struct {
		n, d int
		att  bool
	}{{4, 2, true}, {3, 3, false}} {
		m := smallEGNN(t, tc.n, tc.d, tc.att)
		rng := rand.New(rand.NewPCG(4, 5))
		B := 3
		checkParamGrads(t, &m.base, randVec(rng, B*tc.n*tc.d, 1.5), []float64{0.2, 0.6, 0.95}, randVec(rng, B*tc.n*tc.d, 1), 6)
	}
}

// orthogonal returns a random d×d orthogonal matrix (Gram–Schmidt), with a reflection when
// reflect is set.
func orthogonal(rng *rand.Rand, d int, reflect bool) [][]float64 {
	q := make([][]float64, d)
	for i := range q {
		v := randVec(rng, d, 1)
		for j := 0; j < i; j++ {
			var dot float64
			for k := range v {
				dot += v[k] * q[j][k]
			}
			for k := range v {
				v[k] -= dot * q[j][k]
			}
		}
		var nrm float64
		for _, x := range v {
			nrm += x * x
		}
		for k := range v {
			v[k] /= math.Sqrt(nrm)
		}
		q[i] = v
	}
	if reflect {
		for k := range q[0] {
			q[0][k] = -q[0][k]
		}
	}
	return q
}

func TestEGNNEquivariance(t *testing.T) {
	for _, tc := range []struct {
		n, d int
	}{{4, 2}, {5, 3}} {
		m := smallEGNN(t, tc.n, tc.d, true)
		rng := rand.New(rand.NewPCG(11, uint64(tc.n)))
		B, n, d := 2, tc.n, tc.d
		x := randVec(rng, B*n*d, 1.5)
		ts := []float64{0.3, 0.8}
		y := forward64(t, &m.base, x, ts)
		var scale float64
		for _, v := range y {
			scale = math.Max(scale, math.Abs(v))
		}
		if scale < 1e-3 {
			t.Fatalf("output too small (%g) for a meaningful test", scale)
		}
		// CoM-free output.
		for b := 0; b < B; b++ {
			for k := 0; k < d; k++ {
				var s float64
				for i := 0; i < n; i++ {
					s += y[(b*n+i)*d+k]
				}
				if math.Abs(s) > 1e-12 {
					t.Fatalf("output centre of mass %g ≠ 0", s)
				}
			}
		}
		for _, reflect := range []bool{false, true} {
			q := orthogonal(rng, d, reflect)
			perm := rng.Perm(n)
			shift := randVec(rng, d, 3)
			// x'_i = Q x_perm(i) + shift.
			x2 := make([]float64, len(x))
			for b := 0; b < B; b++ {
				for i := 0; i < n; i++ {
					src := x[(b*n+perm[i])*d : (b*n+perm[i]+1)*d]
					for r := 0; r < d; r++ {
						s := shift[r]
						for c := 0; c < d; c++ {
							s += q[r][c] * src[c]
						}
						x2[(b*n+i)*d+r] = s
					}
				}
			}
			y2 := forward64(t, &m.base, x2, ts)
			for b := 0; b < B; b++ {
				for i := 0; i < n; i++ {
					src := y[(b*n+perm[i])*d : (b*n+perm[i]+1)*d]
					for r := 0; r < d; r++ {
						var want float64
						for c := 0; c < d; c++ {
							want += q[r][c] * src[c]
						}
						if got := y2[(b*n+i)*d+r]; math.Abs(got-want) > 1e-5*scale {
							t.Fatalf("n=%d d=%d reflect=%v: output %g, transformed %g", n, d, reflect, got, want)
						}
					}
				}
			}
		}
	}
}

func TestMLPLearnsRegression(t *testing.T) {
	m, err := NewMLP(MLPConfig{Dim: 2, Hidden: []int{32, 32}, Seed: 5, LR: 3e-3})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(6, 7))
	B := 64
	x, ts, y := make([]float32, 2*B), make([]float32, B), make([]float32, 2*B)
	var first, last float64
	for step := 0; step < 600; step++ {
		for b := 0; b < B; b++ {
			x0, x1, tv := rng.Float64()*2-1, rng.Float64()*2-1, rng.Float64()
			x[2*b], x[2*b+1], ts[b] = float32(x0), float32(x1), float32(tv)
			y[2*b] = float32(math.Sin(2*x0) * tv)
			y[2*b+1] = float32(x0*x1 - tv)
		}
		l, err := m.TrainStep(x, ts, y)
		if err != nil {
			t.Fatal(err)
		}
		if step < 10 {
			first += l / 10
		}
		if step >= 590 {
			last += l / 10
		}
	}
	if !(last < first/10) {
		t.Fatalf("loss went from %.4g to %.4g: want a tenfold decrease", first, last)
	}
	// Forward agrees with the training loss.
	out := make([]float32, len(x))
	if err := m.Forward(x, ts, out); err != nil {
		t.Fatal(err)
	}
	var s float64
	for i := range out {
		d := float64(out[i] - y[i])
		s += d * d
	}
	if s/float64(B) > 3*last+1e-3 {
		t.Fatalf("forward loss %g far above training loss %g", s/float64(B), last)
	}
}

func TestEGNNTrainStepReducesLoss(t *testing.T) {
	m, err := NewEGNN(EGNNConfig{Particles: 4, SpatialDim: 2, Layers: 2, Hidden: 16, Seed: 1, LR: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(8, 8))
	B := 16
	x := to32(randVec(rng, B*8, 1))
	ts := make([]float32, B)
	for i := range ts {
		ts[i] = float32(rng.Float64())
	}
	// Target: a CoM-free contraction −x (an equivariant function the network can represent).
	y := make([]float32, len(x))
	for b := 0; b < B; b++ {
		for k := 0; k < 2; k++ {
			var s float32
			for i := 0; i < 4; i++ {
				s += x[(b*4+i)*2+k]
			}
			for i := 0; i < 4; i++ {
				y[(b*4+i)*2+k] = -(x[(b*4+i)*2+k] - s/4)
			}
		}
	}
	first, err := m.TrainStep(x, ts, y)
	if err != nil {
		t.Fatal(err)
	}
	var l float64
	for i := 0; i < 150; i++ {
		if l, err = m.TrainStep(x, ts, y); err != nil {
			t.Fatal(err)
		}
	}
	if !(l < first/2) {
		t.Fatalf("EGNN loss %g → %g: want it halved", first, l)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	mlp, err := NewMLP(MLPConfig{Dim: 4, Hidden: []int{8}, Activation: "tanh", Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	egnn, err := NewEGNN(EGNNConfig{Particles: 3, SpatialDim: 3, Layers: 2, Hidden: 8, Attention: Bool(false), Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, m := range []Model{mlp, egnn} {
		D := m.Dim()
		x, y := to32(randVec(rng, 2*D, 1)), to32(randVec(rng, 2*D, 1))
		ts := []float32{0.25, 0.75}
		if _, err := m.TrainStep(x, ts, y); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "model.bin")
		if err := SaveFile(m, path); err != nil {
			t.Fatal(err)
		}
		m2, err := LoadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if m2.NumParams() != m.NumParams() || m2.Dim() != D {
			t.Fatalf("loaded %d params dim %d, saved %d dim %d", m2.NumParams(), m2.Dim(), m.NumParams(), D)
		}
		o1, o2 := make([]float32, 2*D), make([]float32, 2*D)
		_ = m.Forward(x, ts, o1)
		_ = m2.Forward(x, ts, o2)
		for i := range o1 {
			if o1[i] != o2[i] {
				t.Fatalf("forward differs after load: %g vs %g", o1[i], o2[i])
			}
		}
		// The optimiser state travels too: one more step gives the same loss and parameters.
		l1, _ := m.TrainStep(x, ts, y)
		l2, _ := m2.TrainStep(x, ts, y)
		_ = m.Forward(x, ts, o1)
		_ = m2.Forward(x, ts, o2)
		if l1 != l2 || o1[0] != o2[0] {
			t.Fatalf("training diverges after load: loss %g vs %g", l1, l2)
		}

		raw, _ := os.ReadFile(path)
		corrupt := append([]byte(nil), raw...)
		corrupt[len(corrupt)/2] ^= 0x55
		for _, c := range []struct {
			name string
			data []byte
			want string
		}{
			{"empty", nil, "magic"},
			{"bad magic", append([]byte("XXXXXXXX"), raw[8:]...), "magic"},
			{"truncated", raw[:len(raw)-9], "checksum"},
			{"flipped byte", corrupt, "checksum"},
		} {
			if _, err := Load(bytes.NewReader(c.data)); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%s: error %v, want one mentioning %q", c.name, err, c.want)
			}
		}
	}
	// A well-formed file whose header disagrees with its data: the architecture check fails.
	var buf bytes.Buffer
	if err := mlp.Save(&buf); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	body := bytes.Replace(raw[:len(raw)-4], []byte(`"Hidden":[8]`), []byte(`"Hidden":[9]`), 1)
	if bytes.Equal(body, raw[:len(raw)-4]) {
		t.Fatal("test setup: header text not found")
	}
	var crc [4]byte
	binary.LittleEndian.PutUint32(crc[:], crc32.ChecksumIEEE(body))
	if _, err := Load(bytes.NewReader(append(body, crc[:]...))); err == nil || !strings.Contains(err.Error(), "architecture") {
		t.Fatalf("mismatched header: error %v, want an architecture mismatch", err)
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "missing.bin")); err == nil {
		t.Fatal("loading a missing file gave no error")
	}
}

func TestBadInputs(t *testing.T) {
	if _, err := NewMLP(MLPConfig{Dim: 0}); err == nil {
		t.Fatal("MLP with dim 0 accepted")
	}
	if _, err := NewMLP(MLPConfig{Dim: 2, Activation: "gelu"}); err == nil {
		t.Fatal("unknown activation accepted")
	}
	if _, err := NewEGNN(EGNNConfig{Particles: 1, SpatialDim: 3}); err == nil {
		t.Fatal("EGNN with one particle accepted")
	}
	m, _ := NewMLP(MLPConfig{Dim: 2, Hidden: []int{4}})
	if _, err := m.TrainStep(make([]float32, 3), make([]float32, 2), make([]float32, 4)); err == nil {
		t.Fatal("mismatched x accepted")
	}
	if err := m.Forward(make([]float32, 4), make([]float32, 2), make([]float32, 3)); err == nil {
		t.Fatal("short out accepted")
	}
}

// TestSteadyStateAllocations checks that training and inference reuse every buffer: after the
// first call, a step allocates nothing (the parallel paths included).
func TestSteadyStateAllocations(t *testing.T) {
	tensor.SetWorkers(2)
	defer tensor.SetWorkers(0)
	m, err := NewEGNN(EGNNConfig{Particles: 4, SpatialDim: 2, Layers: 2, Hidden: 32})
	if err != nil {
		t.Fatal(err)
	}
	mlp, err := NewMLP(MLPConfig{Dim: 8, Hidden: []int{64, 64}})
	if err != nil {
		t.Fatal(err)
	}
	B := 64
	x, ts, y, out := make([]float32, B*8), make([]float32, B), make([]float32, B*8), make([]float32, B*8)
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	for name, f := range map[string]func(){
		"egnn train":   func() { _, _ = m.TrainStep(x, ts, y) },
		"egnn forward": func() { _ = m.Forward(x, ts, out) },
		"mlp train":    func() { _, _ = mlp.TrainStep(x, ts, y) },
	} {
		f()
		if a := testing.AllocsPerRun(10, f); a > 0 {
			t.Errorf("%s: %g allocations per call in steady state", name, a)
		}
	}
}

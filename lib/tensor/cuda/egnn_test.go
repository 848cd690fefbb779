package cuda_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"testing"

	"adjoint/lib/nn"
	"adjoint/lib/tensor/cuda"
)

// egnnCase is one architecture and batch of the parity tests.
type egnnCase struct {
	B, n, d, layers, hidden int
	attention               bool
	// tol scales the tolerances (1 when zero): larger sums, in cuBLAS's order, round more.
	tol float64
}

func (c egnnCase) String() string {
	return fmt.Sprintf("B%d_n%d_d%d_%dx%d_att%v", c.B, c.n, c.d, c.layers, c.hidden, c.attention)
}

// smallEGNNCases run in the emulator (and on a GPU).
var smallEGNNCases = []egnnCase{
	{B: 3, n: 4, d: 2, layers: 2, hidden: 8, attention: true},
	{B: 3, n: 5, d: 3, layers: 2, hidden: 8, attention: true},
	{B: 2, n: 3, d: 2, layers: 3, hidden: 8, attention: false},
}

// TestEGNNEmulatedParity checks the device EGNN against lib/nn's CPU EGNN with the kernels run
// by the host emulator: Forward, three TrainSteps (losses, parameters and Adam state after
// them), and that the saved checkpoint loads on the CPU.
func TestEGNNEmulatedParity(t *testing.T) {
	dev := cuda.EmulatorDevice(t)
	for _, c := range smallEGNNCases {
		t.Run(c.String(), func(t *testing.T) { egnnParity(t, dev, c) })
	}
	t.Run("errors", func(t *testing.T) { egnnErrors(t, dev) })
	t.Run("average", func(t *testing.T) { egnnAverageParity(t, dev) })
}

// TestEGNNDeviceParity is TestEGNNEmulatedParity on a real GPU, with an LJ-13-sized case added
// (skipped, saying why, without one).
func TestEGNNDeviceParity(t *testing.T) {
	dev := cuda.GPUDevice(t)
	cases := append(append([]egnnCase(nil), smallEGNNCases...),
		egnnCase{B: 16, n: 13, d: 3, layers: 3, hidden: 32, attention: true, tol: 5})
	for _, c := range cases {
		t.Run(c.String(), func(t *testing.T) { egnnParity(t, dev, c) })
	}
	t.Run("errors", func(t *testing.T) { egnnErrors(t, dev) })
	t.Run("average", func(t *testing.T) { egnnAverageParity(t, dev) })
}

func egnnBatch(r *rand.Rand, B, dim int) (x, tt, y []float32) {
	x, tt, y = make([]float32, B*dim), make([]float32, B), make([]float32, B*dim)
	for i := range x {
		x[i] = float32(1.5 * r.NormFloat64())
		y[i] = float32(r.NormFloat64())
	}
	for i := range tt {
		tt[i] = float32(r.Float64())
	}
	return x, tt, y
}

func egnnParity(t *testing.T, dev *cuda.Device, c egnnCase) {
	const lr = 1e-3
	k := max(c.tol, 1)
	cfg := nn.EGNNConfig{Particles: c.n, SpatialDim: c.d, Layers: c.layers, Hidden: c.hidden,
		Attention: nn.Bool(c.attention), LastGain: 1, Seed: 7, LR: lr}
	cpu, err := nn.NewEGNN(cfg)
	if err != nil {
		t.Fatal(err)
	}
	gm := toDevice(t, cpu, dev)
	if gm.NumParams() != cpu.NumParams() || gm.Dim() != cpu.Dim() {
		t.Fatalf("params %d vs %d, dim %d vs %d", gm.NumParams(), cpu.NumParams(), gm.Dim(), cpu.Dim())
	}
	if want := fmt.Sprintf("egnn %d×%d on %s", c.layers, c.hidden, dev); gm.Describe() != want {
		t.Errorf("described as %q, want %q", gm.Describe(), want)
	}
	r := rand.New(rand.NewPCG(uint64(c.n), uint64(c.B)))
	dim := c.n * c.d
	x, tt, y := egnnBatch(r, c.B, dim)

	want, got := make([]float32, len(x)), make([]float32, len(x))
	if err := cpu.Forward(x, tt, want); err != nil {
		t.Fatal(err)
	}
	if err := gm.Forward(x, tt, got); err != nil {
		t.Fatal(err)
	}
	closeSlices(t, "forward", got, want, 2e-5*k, 2e-4*k)

	for s := range 3 {
		if s > 0 {
			x, tt, y = egnnBatch(r, c.B, dim)
		}
		lc, err := cpu.TrainStep(x, tt, y)
		if err != nil {
			t.Fatal(err)
		}
		lg, err := gm.TrainStep(x, tt, y)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(lc-lg) > k*(1e-5*math.Abs(lc)+1e-7) {
			t.Errorf("step %d: loss %.9g on the device, %.9g on the CPU", s, lg, lc)
		}
	}
	if gm.Steps() != 3 {
		t.Errorf("device steps %d, want 3", gm.Steps())
	}
	bg := saved(t, gm)
	fc, fg := savedFile(t, cpu), fileOf(t, bg)
	if fmt.Sprint(fc.header) != fmt.Sprint(fg.header) {
		t.Fatalf("headers differ:\n%v\n%v", fg.header, fc.header)
	}
	// Three Adam steps move each parameter by at most about 3·lr; the device must follow the
	// CPU to a small fraction of that.
	closeSlices(t, "parameters after 3 steps", fg.params, fc.params, 2e-3*lr*k, 1e-5*k)
	closeSlices64(t, "Adam first moments", fg.m1, fc.m1, 1e-5*k, 1e-3*k)
	closeSlices64(t, "Adam second moments", fg.m2, fc.m2, 1e-9*k, 1e-3*k)
	// Moved at all: the parameters after training differ from the initial ones.
	init0, err := nn.NewEGNN(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fi := savedFile(t, init0)
	moved := 0
	for i := range fi.params {
		if fi.params[i] != fg.params[i] {
			moved++
		}
	}
	if moved < len(fi.params)/2 {
		t.Errorf("only %d of %d parameters changed in 3 steps", moved, len(fi.params))
	}

	// The checkpoint written from the device loads on the CPU and computes the device's output.
	back, err := nn.Load(bytes.NewReader(bg))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := back.(*nn.EGNN); !ok {
		t.Fatalf("loaded %T, want *nn.EGNN", back)
	}
	x, tt, _ = egnnBatch(r, c.B+1, dim)
	want, got = make([]float32, len(x)), make([]float32, len(x))
	if err := back.Forward(x, tt, want); err != nil {
		t.Fatal(err)
	}
	if err := gm.Forward(x, tt, got); err != nil {
		t.Fatal(err)
	}
	closeSlices(t, "forward of the reloaded checkpoint", got, want, 2e-5*k, 2e-4*k)
}

// egnnErrors checks that misuse is an error, not a panic.
func egnnErrors(t *testing.T, dev *cuda.Device) {
	gm, err := nn.NewEGNNOn(nn.EGNNConfig{Particles: 3, SpatialDim: 2, Layers: 1, Hidden: 4}, dev)
	if err != nil {
		t.Fatal(err)
	}
	if gm.Device() == "" {
		t.Error("empty device name")
	}
	out := make([]float32, 6)
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"forward empty batch", gm.Forward(nil, nil, nil)},
		{"forward short x", gm.Forward(make([]float32, 5), make([]float32, 1), out)},
		{"forward short out", gm.Forward(make([]float32, 6), make([]float32, 1), out[:5])},
		{"train short target", func() error { _, err := gm.TrainStep(make([]float32, 6), make([]float32, 1), out[:3]); return err }()},
	} {
		if tc.err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	x := []float32{0, 0, 1, 0, 0, 1}
	nan := []float32{float32(math.NaN()), 0, 0, 0, 0, 0}
	if _, err := gm.TrainStep(x, []float32{0.5}, nan); err == nil {
		t.Error("NaN target: no error")
	}
	if gm.Steps() != 0 {
		t.Errorf("a failed step counted: %d steps", gm.Steps())
	}
	if err := gm.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gm.Forward(x, []float32{0.5}, out); err == nil {
		t.Error("forward after Close: no error")
	}
	if _, err := cuda.NewEGNN(dev, cuda.EGNNConfig{Particles: 1, SpatialDim: 2, Layers: 1, Hidden: 4, LR: 1}, nil); err == nil {
		t.Error("one particle: no error")
	}
	if _, err := cuda.NewEGNN(nil, cuda.EGNNConfig{}, nil); err == nil {
		t.Error("nil device: no error")
	}
}

func closeSlices(t *testing.T, what string, got, want []float32, atol, rtol float64) {
	t.Helper()
	g, w := make([]float64, len(got)), make([]float64, len(want))
	for i := range got {
		g[i] = float64(got[i])
	}
	for i := range want {
		w[i] = float64(want[i])
	}
	closeSlices64(t, what, g, w, atol, rtol)
}

func closeSlices64(t *testing.T, what string, got, want []float64, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	bad, worst, wi := 0, 0.0, -1
	for i := range got {
		e := math.Abs(got[i] - want[i])
		if !(e <= atol+rtol*math.Abs(want[i])) {
			bad++
			if e > worst || math.IsNaN(e) {
				worst, wi = e, i
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values off; worst at %d: %g vs %g", what, bad, len(got), wi, got[wi], want[wi])
	}
}

// toDevice moves a copy of cpu to dev; the copy is closed when the test ends.
func toDevice(t *testing.T, cpu *nn.EGNN, dev *cuda.Device) *nn.DeviceEGNN {
	t.Helper()
	gm, err := nn.ToDevice(cpu, dev)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := gm.Close(); err != nil {
			t.Error(err)
		}
	})
	return gm
}

// saved is what m.Save writes.
func saved(t *testing.T, m interface{ Save(io.Writer) error }) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := m.Save(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fileOf parses a saved model file.
func fileOf(t *testing.T, b []byte) *modelFile {
	t.Helper()
	f, err := readModelFile(b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// savedFile is m's saved model file, parsed.
func savedFile(t *testing.T, m interface{ Save(io.Writer) error }) *modelFile {
	t.Helper()
	return fileOf(t, saved(t, m))
}

// modelFile is the content of lib/nn's versioned model format.
type modelFile struct {
	header map[string]any
	avg    []float64 // the parameter average, when the file keeps one
	params []float32
	m1, m2 []float64
}

// readModelFile parses lib/nn's format (magic, version, header, float32 parameters, float64
// moments, CRC) without lib/nn, so the test sees exactly what was written.
func readModelFile(b []byte) (*modelFile, error) {
	if len(b) < 20 || string(b[:8]) != "ADJNNET\x00" {
		return nil, fmt.Errorf("not a model file")
	}
	hl := int(binary.LittleEndian.Uint32(b[12:]))
	p := b[16:]
	if hl > len(p) {
		return nil, fmt.Errorf("header length %d", hl)
	}
	f := &modelFile{}
	if err := json.Unmarshal(p[:hl], &f.header); err != nil {
		return nil, err
	}
	p = p[hl : len(p)-4]
	per := 20 // float32 parameter, two float64 moments
	if _, ok := f.header["avg_decay"]; ok {
		per += 8 // and the float64 parameter average
	}
	if len(p)%per != 0 {
		return nil, fmt.Errorf("%d data bytes", len(p))
	}
	n := len(p) / per
	for i := range n {
		f.params = append(f.params, math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:])))
	}
	p = p[4*n:]
	for i := range (per - 4) / 8 * n {
		v := math.Float64frombits(binary.LittleEndian.Uint64(p[8*i:]))
		switch i / n {
		case 0:
			f.m1 = append(f.m1, v)
		case 1:
			f.m2 = append(f.m2, v)
		default:
			f.avg = append(f.avg, v)
		}
	}
	return f, nil
}

// BenchmarkEGNNDevice times the device EGNN (5 layers × 128, attention) at the benchmark sizes:
// Forward (what sampling calls at every Euler–Maruyama step) and TrainStep (forward, backward,
// Adam), copies in and out included. It needs a GPU.
func BenchmarkEGNNDevice(b *testing.B) {
	dev, err := cuda.Open(cuda.Options{})
	if err != nil {
		b.Skip("no CUDA device: " + err.Error())
	}
	defer dev.Close()
	for _, c := range []struct {
		name     string
		n, d, bs int
	}{{"lj13_B512", 13, 3, 512}, {"lj55_B200", 55, 3, 200}} {
		gm, err := nn.NewEGNNOn(nn.EGNNConfig{Particles: c.n, SpatialDim: c.d, Seed: 1}, dev)
		if err != nil {
			b.Fatal(err)
		}
		x, tt, y := egnnBatch(rand.New(rand.NewPCG(1, 2)), c.bs, c.n*c.d)
		out := make([]float32, len(x))
		b.Run(c.name+"/forward", func(b *testing.B) {
			if err := gm.Forward(x, tt, out); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if err := gm.Forward(x, tt, out); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/train_step", func(b *testing.B) {
			if _, err := gm.TrainStep(x, tt, y); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if _, err := gm.TrainStep(x, tt, y); err != nil {
					b.Fatal(err)
				}
			}
		})
		if err := gm.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// egnnAverageParity checks the parameter average on the device against lib/nn's: a CPU network
// that has averaged for two steps moves to the device, both take three more steps, and the
// device's average (its own Forward with the average swapped in, and the checkpoint it writes,
// reloaded on the CPU) equals the CPU's; Save while swapped still writes the parameters in
// their place; decay 0 drops the average.
func egnnAverageParity(t *testing.T, dev *cuda.Device) {
	const lr, decay = 1e-2, 0.9
	cfg := nn.EGNNConfig{Particles: 4, SpatialDim: 2, Layers: 2, Hidden: 8, Attention: nn.Bool(true),
		LastGain: 1, Seed: 3, LR: lr}
	cpu, err := nn.NewEGNN(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := cpu.SetAverage(decay); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	const B, dim = 3, 8
	for range 2 {
		x, tt, y := egnnBatch(r, B, dim)
		if _, err := cpu.TrainStep(x, tt, y); err != nil {
			t.Fatal(err)
		}
	}
	gm := toDevice(t, cpu, dev)
	if gm.AverageDecay() != decay {
		t.Fatalf("device average decay %g, want %g", gm.AverageDecay(), decay)
	}
	if err := gm.SetAverage(decay); err != nil { // same decay: keeps the average it has
		t.Fatal(err)
	}
	for range 3 {
		x, tt, y := egnnBatch(r, B, dim)
		if _, err := cpu.TrainStep(x, tt, y); err != nil {
			t.Fatal(err)
		}
		if _, err := gm.TrainStep(x, tt, y); err != nil {
			t.Fatal(err)
		}
	}
	x, tt, _ := egnnBatch(r, B, dim)
	forward := func(m nn.Model) []float32 {
		t.Helper()
		out := make([]float32, len(x))
		if err := m.Forward(x, tt, out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	lastC, lastG := forward(cpu), forward(gm)
	closeSlices(t, "forward with the last parameters", lastG, lastC, 1e-5, 1e-4)
	if !cpu.SwapAverage() || !gm.SwapAverage() {
		t.Fatal("SwapAverage reported no average")
	}
	avgC, avgG := forward(cpu), forward(gm)
	closeSlices(t, "forward with the average", avgG, avgC, 1e-5, 1e-4)
	// The average is not the last parameters: the comparison above could fail.
	diff := 0.0
	for i := range avgC {
		diff = math.Max(diff, math.Abs(float64(avgC[i]-lastC[i])))
	}
	if diff < 1e-3 {
		t.Fatalf("average and last parameters agree to %g: the test cannot tell them apart", diff)
	}
	// Saved while swapped: the file has the parameters in their place and the average beside.
	bg := saved(t, gm)
	if !cpu.SwapAverage() || !gm.SwapAverage() {
		t.Fatal("SwapAverage back reported no average")
	}
	closeSlices(t, "forward after swapping back", forward(gm), lastC, 1e-5, 1e-4)
	back, err := nn.Load(bytes.NewReader(bg))
	if err != nil {
		t.Fatal(err)
	}
	a, ok := back.(nn.Averaged)
	if !ok || a.AverageDecay() != decay {
		t.Fatalf("reloaded %T without the average", back)
	}
	closeSlices(t, "reloaded, last parameters", forward(back), lastC, 1e-5, 1e-4)
	if !a.SwapAverage() {
		t.Fatal("reloaded network has no average to swap")
	}
	closeSlices(t, "reloaded, average", forward(back), avgC, 1e-5, 1e-4)
	fc, fg := savedFile(t, cpu), fileOf(t, bg)
	if fmt.Sprint(fc.header) != fmt.Sprint(fg.header) { // decay and update count included
		t.Errorf("headers differ:\n%v\n%v", fg.header, fc.header)
	}
	if len(fc.avg) == 0 || len(fg.avg) != len(fc.avg) {
		t.Fatalf("average of %d values in the device's file, %d in the CPU's", len(fg.avg), len(fc.avg))
	}
	// float32 on the device, float64 on the CPU: agreement to float32 rounding of the steps.
	closeSlices64(t, "average in the file", fg.avg, fc.avg, 1e-6, 1e-5)
	closeSlices(t, "parameters in the file saved while swapped", fg.params, fc.params, 2e-5*lr, 1e-5)

	if err := gm.SetAverage(0); err != nil {
		t.Fatal(err)
	}
	if gm.AverageDecay() != 0 || gm.SwapAverage() {
		t.Error("decay 0 kept an average")
	}
	if m0, err := nn.Load(bytes.NewReader(saved(t, gm))); err != nil {
		t.Fatal(err)
	} else if m0.(nn.Averaged).AverageDecay() != 0 {
		t.Error("a network without an average saved one")
	}
}

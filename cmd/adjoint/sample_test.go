package main

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"adjoint/lib/adjoint"
	"adjoint/lib/display"
	"adjoint/lib/energy"
	"adjoint/lib/nn"
	"adjoint/lib/npy"
)

// outputsOf runs fn with os.Stdout and os.Stderr redirected and returns what it printed to each.
func outputsOf(t *testing.T, fn func() error) (stdout, stderr string, err error) {
	t.Helper()
	var got [2]string
	done := make(chan struct{}, 2)
	olds := [2]*os.File{os.Stdout, os.Stderr}
	var ws [2]*os.File
	for i := range 2 {
		r, w, perr := os.Pipe()
		if perr != nil {
			t.Fatal(perr)
		}
		ws[i] = w
		go func() {
			b, _ := io.ReadAll(r)
			got[i] = string(b)
			done <- struct{}{}
		}()
	}
	os.Stdout, os.Stderr = ws[0], ws[1]
	restore := display.SetSink(nil)
	err = fn()
	restore()
	os.Stdout, os.Stderr = olds[0], olds[1]
	ws[0].Close()
	ws[1].Close()
	<-done
	<-done
	return got[0], got[1], err
}

// TestSampleDiagnosticsAndResample: `adjoint sample` prints the weight diagnostics, and with
// --resample writes equally weighted rows drawn from the same draws.
func TestSampleDiagnosticsAndResample(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "dw4.ckpt")
	if err := runTrain(append([]string{"dw4", "--epochs", "1", "-o", ck}, tiny...)); err != nil {
		t.Fatal(err)
	}
	plain, resampled, w := filepath.Join(dir, "a.npy"), filepath.Join(dir, "b.npy"), filepath.Join(dir, "w.npy")
	stdout, _, err := outputsOf(t, func() error { return runSample([]string{ck, "-n", "60", "-o", plain}) })
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ESS ", " of 60 (", "log Z ", " ± ", adjoint.LogZEstimator, "max weight share ", "non-finite energies or weights 0"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if _, _, err := outputsOf(t, func() error {
		return runSample([]string{ck, "-n", "60", "-o", resampled, "--weights", w, "--resample"})
	}); err != nil {
		t.Fatal(err)
	}
	a, _ := npy.ReadFile(plain)
	b, _ := npy.ReadFile(resampled)
	lw, _ := npy.ReadFile(w)
	if b == nil || lw == nil || len(b.Data) != len(a.Data) || len(lw.Data) != 60 {
		t.Fatalf("resampled files: %v, %v", b, lw)
	}
	rows := map[string]bool{}
	for k := range 60 {
		rows[string(fmtRow(a.Data[8*k:8*k+8]))] = true
	}
	for k := range 60 {
		if !rows[string(fmtRow(b.Data[8*k:8*k+8]))] || lw.Data[k] != 0 {
			t.Fatalf("resampled row %d is not one of the drawn samples, or has log weight %g", k, lw.Data[k])
		}
	}
}

// TestSampleSeed: a repeated call draws the same samples; --seed S draws the same samples for
// the same S and others for another.
func TestSampleSeed(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "dw4.ckpt")
	if err := runTrain(append([]string{"dw4", "--epochs", "1", "-o", ck}, tiny...)); err != nil {
		t.Fatal(err)
	}
	draw := func(name string, extra ...string) []float64 {
		t.Helper()
		out := filepath.Join(dir, name)
		if _, _, err := outputsOf(t, func() error {
			return runSample(append([]string{ck, "-n", "20", "-o", out}, extra...))
		}); err != nil {
			t.Fatal(err)
		}
		a, err := npy.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return a.Data
	}
	same := slices.Equal[[]float64]
	d0, d1 := draw("d0.npy"), draw("d1.npy")
	s5, s5b, s6 := draw("s5.npy", "--seed", "5"), draw("s5b.npy", "--seed", "5"), draw("s6.npy", "--seed", "6")
	if !same(d0, d1) {
		t.Error("two calls without --seed drew different samples")
	}
	if !same(s5, s5b) {
		t.Error("two calls with --seed 5 drew different samples")
	}
	if same(s5, s6) || same(s5, d0) {
		t.Error("--seed 5 drew the same samples as --seed 6 or as the default")
	}
	// dw4 keeps a parameter average by default; --last-params draws with the last parameters
	l0, l1 := draw("l0.npy", "--last-params"), draw("l1.npy", "--last-params")
	if !same(l0, l1) || same(l0, d0) {
		t.Error("--last-params: two calls differ, or they draw as the average does")
	}
}

// TestSampleDevice: --device cpu draws what the default draws; --device cuda draws on a GPU or,
// without one, says so in one line and draws the CPU's samples; an unknown device is a usage
// error that writes nothing.
func TestSampleDevice(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "dw4.ckpt")
	if err := runTrain(append([]string{"dw4", "--epochs", "1", "-o", ck}, tiny...)); err != nil {
		t.Fatal(err)
	}
	draw := func(name string, extra ...string) ([]float64, string, error) {
		t.Helper()
		out := filepath.Join(dir, name)
		_, stderr, err := outputsOf(t, func() error {
			return runSample(append([]string{ck, "-n", "20", "-o", out}, extra...))
		})
		if err != nil {
			return nil, stderr, err
		}
		a, rerr := npy.ReadFile(out)
		if rerr != nil {
			t.Fatal(rerr)
		}
		return a.Data, stderr, nil
	}
	def, _, err := draw("def.npy")
	if err != nil {
		t.Fatal(err)
	}
	cpu, _, err := draw("cpu.npy", "--device", "cpu")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(def, cpu) {
		t.Error("--device cpu drew other samples than the default")
	}
	gpu, msg, err := draw("gpu.npy", "--device", "cuda")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(msg, "no usable GPU") {
		if !slices.Equal(cpu, gpu) {
			t.Error("--device cuda fell back to the CPU but drew other samples")
		}
	} else if !strings.Contains(msg, "device: cuda") || len(gpu) != len(cpu) {
		t.Errorf("--device cuda: neither a GPU nor a fallback line:\n%s", msg)
	}
	if _, _, err := draw("tpu.npy", "--device", "tpu"); err == nil || !strings.Contains(err.Error(), "--device") {
		t.Errorf("--device tpu: error %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tpu.npy")); !os.IsNotExist(err) {
		t.Error("--device tpu wrote a samples file")
	}
}

func fmtRow(v []float64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return b
}

// TestSampleResampleWithoutWeight: a network that returns NaN gives no usable weight; the
// command warns, --resample fails with a one-line error, and files already there stay intact.
func TestSampleResampleWithoutWeight(t *testing.T) {
	sys, err := energy.Benchmark("dw4")
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.NewMLP(nn.MLPConfig{Dim: 8, Hidden: []int{4}, Activation: "silu", Seed: 1, LR: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	if err := m.Save(&raw); err != nil {
		t.Fatal(err)
	}
	// every parameter NaN (the format: magic, version, header length, header, float32 params, …, CRC)
	p := raw.Bytes()
	off := 16 + int(binary.LittleEndian.Uint32(p[12:]))
	for i := range m.NumParams() {
		binary.LittleEndian.PutUint32(p[off+4*i:], math.Float32bits(float32(math.NaN())))
	}
	binary.LittleEndian.PutUint32(p[len(p)-4:], crc32.ChecksumIEEE(p[:len(p)-4]))
	bad, err := nn.Load(bytes.NewReader(p))
	if err != nil {
		t.Fatal(err)
	}
	cfg := adjoint.DefaultConfig(sys)
	cfg.Model, cfg.Steps, cfg.Batch = bad, 5, 16
	s, err := adjoint.NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ck, out, w := filepath.Join(dir, "nan.ckpt"), filepath.Join(dir, "s.npy"), filepath.Join(dir, "w.npy")
	if err := s.Save(ck); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, []byte("earlier samples"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := outputsOf(t, func() error {
		return runSample([]string{ck, "-n", "20", "-o", out, "--weights", w, "--resample"})
	})
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "no positive weight") {
		t.Fatalf("error %q, want one line saying there is no positive weight", err)
	}
	if !strings.Contains(stderr, "warning: none of the 20 log weights is usable") || !strings.Contains(stdout, "non-finite energies or weights 20") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	if b, _ := os.ReadFile(out); string(b) != "earlier samples" {
		t.Errorf("samples file changed: %q", b)
	}
	if _, err := os.Stat(w); !os.IsNotExist(err) {
		t.Errorf("weights file written: %v", err)
	}
}

// TestTrainResumeAdj: a checkpoint of a system declared in a script resumes with the script
// supplying the system, which the checkpoint records by name only.
func TestTrainResumeAdj(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "p.adj")
	src := "system pair {\n  particles 2 in 2d\n  energy = sum i: norm2(x[i] - com) + 0.1 * norm2(com)\n  symmetry translation\n}\n"
	if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(dir, "p.ckpt")
	if err := runTrain(append([]string{script, "--epochs", "1", "-o", ck}, tiny...)); err != nil {
		t.Fatal(err)
	}
	if _, err := adjoint.Load(ck); err == nil || !strings.Contains(err.Error(), `system "pair" must be supplied`) {
		t.Fatalf("loading without the system: %v", err)
	}
	if err := runTrain([]string{script, "--resume", "--epochs", "1", "-o", ck}); err != nil {
		t.Fatal(err)
	}
	s, err := resumeFrom(script, ck)
	if err != nil || s.Epoch() != 2 {
		t.Fatalf("resumed: %v", err)
	}
}

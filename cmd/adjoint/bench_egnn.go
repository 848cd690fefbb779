package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"adjoint/lib/nn"
	"adjoint/lib/tensor"
)

func init() {
	registerBench("egnn", "EGNN controller training step (forward, loss, backward, Adam)", runBenchEGNN)
}

// egnnSystems maps a system name to (particles, spatial dimension).
var egnnSystems = map[string][2]int{"dw4": {4, 2}, "lj13": {13, 3}, "lj55": {55, 3}}

type egnnResult struct {
	Bench     string  `json:"bench"`
	Impl      string  `json:"impl"`
	System    string  `json:"system"`
	Batch     int     `json:"batch"`
	Layers    int     `json:"layers"`
	Hidden    int     `json:"hidden"`
	Steps     int     `json:"steps"`
	MsPerStep float64 `json:"ms_per_step"`
	Threads   int     `json:"threads"`
	BLAS      string  `json:"blas"`
	Device    string  `json:"device,omitempty"`
	// TF32 says whether cuBLAS may use TF32 tensor cores (ADJOINT_TF32=1; GPU runs only).
	TF32 *bool `json:"tf32,omitempty"`
}

func runBenchEGNN(args []string) error {
	fs := newFlagSet("bench egnn", "--system dw4|lj13|lj55 [--batch B] [--layers L] [--hidden H] [--steps N] [--device cpu|cuda] [--peer [--peer-layout edges|dense]]")
	system := fs.String("system", "dw4", "system: dw4, lj13 or lj55")
	batch := fs.Int("batch", 512, "batch size")
	layers := fs.Int("layers", 5, "EGNN layers")
	hidden := fs.Int("hidden", 128, "hidden width")
	steps := fs.Int("steps", 5, "timed steps (median reported)")
	warmup := fs.Int("warmup", 1, "untimed steps first")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "worker goroutines")
	peer := fs.Bool("peer", false, "then run the PyTorch peer (scripts/torch_egnn.py) and print the ratio")
	python := fs.String("python", "/usr/bin/python3", "Python for --peer")
	script := fs.String("script", "", "path of torch_egnn.py (default: found next to the binary or in ./scripts)")
	peerLayout := fs.String("peer-layout", "edges", "PyTorch layout: edges (reference-style edge list) or dense (split first layer, like lib/nn)")
	device := addDeviceFlag(fs)
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	sys, ok := egnnSystems[*system]
	if !ok {
		return fmt.Errorf("%w: unknown system %q (dw4, lj13, lj55)", errUsage, *system)
	}
	if *batch < 1 || *steps < 1 || *threads < 1 {
		return fmt.Errorf("%w: batch, steps and threads must be positive", errUsage)
	}
	tensor.SetWorkers(*threads)
	n, d := sys[0], sys[1]
	dev, err := openDevice(*device, os.Stderr)
	if err != nil {
		return err
	}
	var m nn.Model
	ecfg := nn.EGNNConfig{Particles: n, SpatialDim: d, Layers: *layers, Hidden: *hidden, Seed: 1}
	impl, blas, devName := "go", tensor.BLASName(), "cpu"
	var tf32 *bool
	if dev != nil {
		gm, err := nn.NewEGNNOn(ecfg, dev)
		if err != nil {
			return fmt.Errorf("bench egnn: %w", err)
		}
		defer gm.Close()
		m, impl, blas, devName = gm, "go-cuda", "cublas", gm.Device()
		on := dev.TF32()
		tf32 = &on
	} else if m, err = nn.NewEGNN(ecfg); err != nil {
		return fmt.Errorf("bench egnn: %w", err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	D := n * d
	x, t, y := make([]float32, *batch*D), make([]float32, *batch), make([]float32, *batch*D)
	for i := range x {
		x[i] = float32(1.5 * rng.NormFloat64())
		y[i] = float32(rng.NormFloat64())
	}
	for i := range t {
		t[i] = float32(rng.Float64())
	}
	for i := 0; i < *warmup; i++ {
		if _, err := m.TrainStep(x, t, y); err != nil {
			return fmt.Errorf("bench egnn: %w", err)
		}
	}
	times := make([]float64, *steps)
	for i := range times {
		start := time.Now()
		if _, err := m.TrainStep(x, t, y); err != nil {
			return fmt.Errorf("bench egnn: %w", err)
		}
		times[i] = float64(time.Since(start).Microseconds()) / 1000
	}
	goRes := egnnResult{Bench: "egnn", Impl: impl, System: *system, Batch: *batch, Layers: *layers, Hidden: *hidden,
		Steps: *steps, MsPerStep: median(times), Threads: *threads, BLAS: blas, Device: devName, TF32: tf32}
	if err := emitJSON(goRes); err != nil {
		return err
	}
	if !*peer {
		return nil
	}
	peerScript := "torch_egnn.py"
	if dev != nil {
		peerScript = "torch_egnn_cuda.py"
	}
	path, err := findTorchScript(*script, peerScript)
	if err != nil {
		return fmt.Errorf("bench egnn --peer: %w", err)
	}
	cmd := exec.Command(*python, path, "--system", *system, "--batch", fmt.Sprint(*batch), "--layers", fmt.Sprint(*layers),
		"--hidden", fmt.Sprint(*hidden), "--steps", fmt.Sprint(*steps), "--warmup", fmt.Sprint(*warmup), "--threads", fmt.Sprint(*threads), "--layout", *peerLayout)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("bench egnn --peer: %s %s: %w", *python, path, err)
	}
	var peerRes egnnResult
	found := false
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		fmt.Println(line)
		if json.Unmarshal([]byte(line), &peerRes) == nil && peerRes.MsPerStep > 0 {
			found = true
		}
	}
	if !found {
		return fmt.Errorf("bench egnn --peer: no JSON result from %s", path)
	}
	return emitJSON(map[string]any{
		"bench": "egnn", "system": *system, "batch": *batch, "compare": "torch/" + impl, "device": devName,
		"go_ms_per_step": goRes.MsPerStep, "torch_ms_per_step": peerRes.MsPerStep,
		"ratio": peerRes.MsPerStep / goRes.MsPerStep, "threads": *threads, "blas": goRes.BLAS, "peer_layout": *peerLayout,
	})
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// findTorchScript locates scripts/NAME (torch_egnn.py, or its CUDA runner): the flag, next to
// the binary (../scripts), or ./scripts.
func findTorchScript(flagPath, name string) (string, error) {
	cands := []string{}
	if flagPath != "" {
		cands = append(cands, flagPath)
	}
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		cands = append(cands, filepath.Join(dir, "..", "scripts", name), filepath.Join(dir, "scripts", name))
	}
	cands = append(cands, filepath.Join("scripts", name))
	for _, c := range cands {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c, nil
		}
	}
	return "", fmt.Errorf("%s not found (tried %s)", name, strings.Join(cands, ", "))
}

package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"adjoint/lib/adjoint"
	"adjoint/lib/nn"
	"adjoint/lib/tensor/cuda"
)

// addDeviceFlag registers --device: where the EGNN computes. Its default is ADJOINT_DEVICE
// when set, else cpu.
func addDeviceFlag(fs *flag.FlagSet) *string {
	def := cuda.Requested()
	if def == "" {
		def = "cpu"
	}
	return fs.String("device", def, "where the EGNN runs: cpu or cuda (default: ADJOINT_DEVICE, else cpu; cuda falls back to the CPU when no GPU is usable)")
}

// openDevice returns the GPU for --device cuda, or nil for cpu. When no usable GPU is found it
// writes one line saying why to w and returns nil: the caller computes on the CPU.
func openDevice(choice string, w io.Writer) (*cuda.Device, error) {
	switch strings.ToLower(strings.TrimSpace(choice)) {
	case "", "cpu":
		return nil, nil
	case "cuda", "gpu":
	default:
		return nil, fmt.Errorf("%w: --device %q (cpu or cuda)", errUsage, choice)
	}
	var (
		dev *cuda.Device
		err error
	)
	switch cuda.Requested() {
	case "", "cuda", "gpu":
		cuda.SetLog(nil)
		dev, err = cuda.Default()
	default:
		// The flag wins over ADJOINT_DEVICE=cpu.
		dev, err = cuda.Open(cuda.Options{})
	}
	if err == nil {
		if err = dev.KernelsErr(); err == nil {
			err = dev.BLASErr()
		}
	}
	if err != nil {
		fmt.Fprintf(w, "device: no usable GPU (%v); using the CPU\n", err)
		return nil, nil
	}
	fmt.Fprintf(w, "device: %s\n", dev)
	return dev, nil
}

// moveToDevice moves the sampler's EGNN, with its optimiser state, to dev (a new network, built
// on the CPU from the configuration and seed, or one loaded from a checkpoint); other networks
// stay on the CPU, which w is told. A nil dev changes nothing.
func moveToDevice(s *adjoint.Sampler, dev *cuda.Device, w io.Writer) error {
	if dev == nil {
		return nil
	}
	if _, ok := s.Model().(*nn.EGNN); !ok {
		fmt.Fprintf(w, "device: only the EGNN runs on the GPU; the %T computes on the CPU\n", s.Model())
		return nil
	}
	return s.ToDevice(dev)
}

// sampleFlags are train's --sample N --samples-out FILE: samples drawn right after training with
// the trained network where it lives (on the GPU with --device cuda).
type sampleFlags struct {
	n   *int
	out *string
}

func addSampleFlags(fs *flag.FlagSet) sampleFlags {
	return sampleFlags{
		n:   fs.Int("sample", 0, "after training, draw this many samples with the trained network (on its device)"),
		out: fs.String("samples-out", "", "where --sample writes the samples (.npy, N × n·d float32)"),
	}
}

func (f sampleFlags) check() error {
	if *f.n < 0 || (*f.n > 0) != (*f.out != "") {
		return fmt.Errorf("%w: --sample N and --samples-out FILE go together (N ≥ 1)", errUsage)
	}
	return nil
}

// run draws the samples, writes them and prints their table and effective sample size.
func (f sampleFlags) run(s *adjoint.Sampler) error {
	if *f.n == 0 {
		return nil
	}
	sm, err := s.Sample(*f.n)
	if err != nil {
		return fmt.Errorf("sample after training: %w", err)
	}
	if err := sm.SaveNPY(*f.out); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, sm.Table().String())
	fmt.Printf("ESS %.1f of %d (%.4f)\n", sm.ESS, sm.N, sm.ESS/float64(sm.N))
	fmt.Fprintf(os.Stderr, "samples: %s\n", *f.out)
	return nil
}

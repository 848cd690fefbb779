package main

import (
	"flag"
	"fmt"
	"os"

	"adjoint/lib/adjoint"
)

func init() {
	register("sample", "draw samples from a trained checkpoint into an .npy file (prints the ESS)", runSample)
}

func runSample(args []string) error {
	fs := newFlagSet("sample", "CHECKPOINT -n N -o SAMPLES.npy [--weights LOGW.npy]")
	n := fs.Int("n", 2000, "number of samples")
	out := fs.String("o", "", "samples file to write (.npy, N × n·d float32)")
	wout := fs.String("weights", "", "also write the log importance weights (.npy, N float64)")
	steps := fs.Int("steps", 0, "integration steps (default: the checkpoint's)")
	var integ adjoint.Integrator
	fs.TextVar(&integ, "integrator", adjoint.IntegratorEM, "SDE discretisation: em or kappa (default: the checkpoint's)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		fs.Usage()
		return fmt.Errorf("%w: need CHECKPOINT and -o SAMPLES.npy", errUsage)
	}
	if *n < 1 {
		return fmt.Errorf("%w: -n must be at least 1", errUsage)
	}
	if err := checkOutputs("samples file", *out, "weights file", *wout); err != nil {
		return err
	}
	s, err := loadSampler(pos[0])
	if err != nil {
		return err
	}
	if *steps != 0 {
		if err := s.SetSteps(*steps); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	if flagGiven(fs, "integrator") {
		if err := s.SetIntegrator(integ); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	_, restore := progressToStderr()
	defer restore()
	sm, err := s.Sample(*n)
	if err != nil {
		return err
	}
	if err := sm.SaveNPY(*out); err != nil {
		return err
	}
	if *wout != "" {
		if err := sm.SaveWeightsNPY(*wout); err != nil {
			return err
		}
	}
	fmt.Fprintln(os.Stderr, sm.Table().String())
	fmt.Printf("ESS %.1f of %d (%.4f)\n", sm.ESS, sm.N, sm.ESS/float64(sm.N))
	return nil
}

// flagGiven reports whether the flag name was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

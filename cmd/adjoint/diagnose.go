package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"adjoint/lib/adjoint"
	"adjoint/lib/refdata"
)

func init() {
	register("diagnose", "where a trained checkpoint's training goes wrong: loss by time, buffer age, gradient noise (JSON)", runDiagnose)
}

// diagnoseResult is what `adjoint diagnose` prints: the checkpoint, the reference and the
// diagnosis (adjoint.TrainingDiagnosis; docs/validation.md, "Diagnosing hot samples").
type diagnoseResult struct {
	Checkpoint string `json:"checkpoint"`
	Ref        string `json:"ref"` // "builtin:NAME", a file, or "none"
	Network    string `json:"network"`
	*adjoint.TrainingDiagnosis
	Seconds float64 `json:"seconds"`
}

// runDiagnose loads a checkpoint and prints, as one JSON object on stdout and as tables on
// stderr, the loss by time on fresh samples, the reference and the replay buffer, the buffer
// by age, and the gradient's signal and noise by time bin.
func runDiagnose(args []string) error {
	fs := newFlagSet("diagnose", "CHECKPOINT [--ref builtin|none|REF.npy] [--n 1000] [--bins 10] [--draws 1024] [--reps 16] [--batch B] [--groups 4] [--seed S]")
	ref := fs.String("ref", "", "reference samples: builtin (dw4: the exact samples; lj13: the test split), none, or an .npy file (default: builtin when the system has one, else none)")
	n := fs.Int("n", 1000, "fresh samples drawn from the model")
	bins := fs.Int("bins", 10, "equal time bins of [0, 1]")
	draws := fs.Int("draws", 1024, "bridge draws per time bin and set of terminal states, and per age group")
	reps := fs.Int("reps", 16, "independent minibatches of the gradient signal-to-noise ratio (at least 2)")
	batch := fs.Int("batch", 0, "rows of each of those minibatches (default: the checkpoint's train batch)")
	groups := fs.Int("groups", 4, "groups of the replay buffer by age (4: quartiles)")
	seed := fs.Uint64("seed", 0, "seed of the diagnosis's random stream")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return fmt.Errorf("%w: need one CHECKPOINT", errUsage)
	}
	if *n < 1 || *bins < 1 || *draws < 1 || *groups < 1 || *batch < 0 {
		return fmt.Errorf("%w: --n, --bins, --draws and --groups must be positive (and --batch not negative)", errUsage)
	}
	if *reps < 2 {
		return fmt.Errorf("%w: --reps must be at least 2 (a signal-to-noise ratio needs several minibatches)", errUsage)
	}
	s, err := loadSampler(pos[0])
	if err != nil {
		return err
	}
	sys := s.Config().System
	out := diagnoseResult{Checkpoint: pos[0], Ref: "none", Network: s.Network()}
	var refX []float64
	switch *ref {
	case "none":
	case "", "builtin":
		name, err := builtinReference(sys.Name)
		if err != nil {
			if *ref == "" {
				break
			}
			return fmt.Errorf("%w: --ref builtin: %v", errUsage, err)
		}
		if refX, err = builtinSamples(name, sys); err != nil {
			return err
		}
		out.Ref = "builtin:" + name
	default:
		if refX, err = loadSamples(*ref, sys, "reference"); err != nil {
			return err
		}
		out.Ref = *ref
	}
	ctx, restore := progressToStderr()
	defer restore()
	start := time.Now()
	opt := adjoint.TrainingDiagnosisOptions{Ref: refX, N: *n, Bins: *bins, Draws: *draws, Reps: *reps,
		Batch: *batch, AgeGroups: *groups, Seed: *seed}
	if out.TrainingDiagnosis, err = s.DiagnoseTraining(ctx, opt); err != nil {
		return err
	}
	out.Seconds = time.Since(start).Seconds()
	fmt.Fprintf(os.Stderr, "%s (%s), reference %s\n\n%s\n", pos[0], out.Network, out.Ref, out.TrainingDiagnosis.String())
	if err := emitJSON(out); err != nil {
		return fmt.Errorf("%w: a number is not finite (the network's output or the energies; the tables show where)", err)
	}
	return nil
}

// builtinReference names the built-in reference of a system: its exact samples when there are
// (dw4), else its test split (lj13).
func builtinReference(system string) (string, error) {
	if name, err := refdata.Exact(system); err == nil {
		return name, nil
	}
	name, err := refdata.Test(system)
	if err != nil {
		if errors.Is(err, refdata.ErrUnknown) {
			return "", fmt.Errorf("no built-in reference for %s (give --ref REF.npy or --ref none)", system)
		}
		return "", err
	}
	return name, nil
}

package main

import (
	"fmt"
	"os"
	"time"

	"adjoint/lib/adjoint"
	"adjoint/lib/display"
)

func init() {
	register("fit", "fit the controller to the targets of given samples (no sampling) and print the loss by time", runFit)
}

// fitResult is what `adjoint fit` prints: the regression loss by time after fitting.
type fitResult struct {
	System     string    `json:"system"`
	From       string    `json:"from"`
	Samples    int       `json:"samples"`
	Network    string    `json:"network"`
	FitSteps   int       `json:"fit_steps"`
	MeanLoss   float64   `json:"mean_loss"` // mean training loss of the last chunk of steps
	Bins       []float64 `json:"bin_edges"` // bins+1 edges in t
	LossByTime []float64 `json:"loss_by_time"`
	Seconds    float64   `json:"seconds"`
	Checkpoint string    `json:"checkpoint,omitempty"`
}

// runFit seeds the replay buffer with the configurations of a file (exact samples, say), takes
// gradient steps on it alone and prints the loss by time as JSON: what the network can fit
// when its targets are ideal, apart from the self-consistent training. With --lr-final (or a
// system whose defaults anneal, as dw4's do) the learning rate follows training's half cosine
// over the fit's steps.
func runFit(args []string) error {
	fs := newFlagSet("fit", "dw4|lj13|lj55|FILE.adj --from SAMPLES.npy [--fit-steps N] [--bins B] [--draws D] [network and training flags] [-o CHECKPOINT]")
	var tf trainFlags
	tf.register(fs)
	from := fs.String("from", "", "samples whose targets fill the replay buffer (.npy, N × dim or N × n × d; required)")
	fitSteps := fs.Int("fit-steps", 2000, "gradient steps")
	bins := fs.Int("bins", 10, "time bins of the loss report")
	draws := fs.Int("draws", 1024, "bridge draws per bin")
	out := fs.String("o", "", "write the fitted sampler as a checkpoint (then `adjoint sample` draws from it)")
	device := addDeviceFlag(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *from == "" {
		fs.Usage()
		return fmt.Errorf("%w: need a system and --from SAMPLES.npy", errUsage)
	}
	if *fitSteps < 1 || *bins < 1 || *draws < 1 {
		return fmt.Errorf("%w: --fit-steps, --bins and --draws must be positive", errUsage)
	}
	if err := checkOutputs("checkpoint", *out); err != nil {
		return err
	}
	cfg, err := configFor(pos[0])
	if err != nil {
		return err
	}
	tf.apply(fs, &cfg)
	x, err := loadSamples(*from, cfg.System, "samples")
	if err != nil {
		return err
	}
	n := len(x) / cfg.System.Dim()
	cfg.Buffer = max(cfg.Buffer, n)
	dev, err := openDevice(*device, os.Stderr)
	if err != nil {
		return err
	}
	s, err := adjoint.NewSampler(cfg)
	if err != nil {
		return err
	}
	if err := moveToDevice(s, dev, os.Stderr); err != nil {
		return err
	}
	if err := s.SeedBuffer(x); err != nil {
		return err
	}
	ctx, restore := progressToStderr()
	defer restore()
	fmt.Fprintln(os.Stderr, s.Table().String())
	rep := display.NewReporter("fit " + cfg.System.Name)
	start := time.Now()
	const chunk = 50
	var last float64
	for done := 0; done < *fitSteps; {
		k := min(chunk, *fitSteps-done)
		if err := s.SetLearningRate(s.LearningRateAt(float64(done) / float64(*fitSteps))); err != nil {
			return err
		}
		if last, err = s.Fit(ctx, k); err != nil {
			return err
		}
		done += k
		if done == *fitSteps {
			break
		}
		el := time.Since(start)
		rep.Report(display.Progress{Task: "fit " + cfg.System.Name, Step: done, Steps: *fitSteps, Loss: last,
			Elapsed: el, ETA: time.Duration(float64(el) / float64(done) * float64(*fitSteps-done))})
	}
	rep.Finish(display.Progress{Task: "fit " + cfg.System.Name, Step: *fitSteps, Steps: *fitSteps, Loss: last,
		Elapsed: time.Since(start), Done: true})
	loss, err := s.LossByTime(*bins, *draws)
	if err != nil {
		return err
	}
	res := fitResult{System: cfg.System.Name, From: *from, Samples: n, Network: s.Network(), FitSteps: *fitSteps,
		MeanLoss: last, LossByTime: loss, Seconds: time.Since(start).Seconds()}
	for b := 0; b <= *bins; b++ {
		res.Bins = append(res.Bins, float64(b)/float64(*bins))
	}
	if *out != "" {
		if err := s.Save(*out); err != nil {
			return err
		}
		res.Checkpoint = *out
	}
	return emitJSON(res)
}

package adjoint

import (
	"fmt"
	"time"

	"adjoint/lib/display"
)

// TrainReport summarises one training call.
type TrainReport struct {
	System       string
	StartEpoch   int       // epochs completed before the call
	Epochs       int       // epochs completed in the call
	TotalEpochs  int       // epochs completed in all
	Steps        int       // gradient steps taken in the call
	Losses       []float64 // mean loss of each epoch of the call
	EnergyEvals  int64     // energy evaluations made in the call
	EvalsPerStep float64   // energy evaluations per gradient step
	MeanEnergy   float64   // mean energy of the latest generated batch (of its finite energies)
	// NonFiniteEnergies counts the NaN or infinite energies among the samples the call evaluated.
	NonFiniteEnergies int64
	// Diagnostics are the importance-weight diagnostics of the diagnosed epochs' batches
	// (TrainOptions.DiagnoseEvery), each with the epoch's mean loss. A batch is drawn by the
	// network as it was when its epoch began.
	Diagnostics []EpochDiagnostics
	Wall        time.Duration // wall time of the call
	Device      string
	Stopped     string // why the call ended inside an epoch or early: error, cancellation, time limit ("" otherwise)
}

// EpochDiagnostics are the Diagnostics of the batch an epoch generated, with the epoch's mean
// loss.
type EpochDiagnostics struct {
	Epoch int     // 1-based, counting all calls
	Loss  float64 // mean loss of the epoch
	Diagnostics
}

// FinalLoss returns the mean loss of the last epoch (NaN-free 0 when no epoch ran).
func (r *TrainReport) FinalLoss() float64 {
	if len(r.Losses) == 0 {
		return 0
	}
	return r.Losses[len(r.Losses)-1]
}

// Table summarises the report.
func (r *TrainReport) Table() *display.Table {
	t := &display.Table{Caption: "training " + r.System, Header: []string{"quantity", "value"}}
	t.AddRow("epochs (this call / total)", fmt.Sprintf("%d / %d", r.Epochs, r.TotalEpochs))
	t.AddRow("gradient steps", r.Steps)
	if len(r.Losses) > 0 {
		t.AddRow("loss (first → last epoch)", fmt.Sprintf("%.4g → %.4g", r.Losses[0], r.FinalLoss()))
	}
	t.AddRow("energy evaluations", r.EnergyEvals)
	t.AddRow("evaluations / step", fmt.Sprintf("%.3g", r.EvalsPerStep))
	t.AddRow("mean energy of last batch", r.MeanEnergy)
	t.AddRow("non-finite energies", r.NonFiniteEnergies)
	if n := len(r.Diagnostics); n > 0 {
		d := r.Diagnostics[n-1]
		t.AddRow(fmt.Sprintf("batch ESS / N (epoch %d)", d.Epoch), fmt.Sprintf("%.1f / %d (%.4f)", d.ESS, d.N, d.ESSFraction))
	}
	t.AddRow("wall time", r.Wall.Round(time.Millisecond).String())
	t.AddRow("device", r.Device)
	if r.Stopped != "" {
		t.AddRow("stopped", r.Stopped)
	}
	return t
}

// MIMEBundle renders the summary table.
func (r *TrainReport) MIMEBundle() display.Bundle { return r.Table().MIMEBundle() }

// Table lists the sampler's configuration and state.
func (s *Sampler) Table() *display.Table {
	c := s.cfg
	t := &display.Table{Caption: "adjoint sampler " + c.System.Name, Header: []string{"setting", "value"}}
	sym := c.System.Symmetry
	t.AddRow("system", fmt.Sprintf("%s: %d particles × %d dims, τ = %g", c.System.Name, s.space.Particles, s.space.SpatialDim, c.System.Tau()))
	t.AddRow("symmetry", fmt.Sprintf("translation %v, rotation %v, permutation %v, periodic %v", sym.Translation, sym.Rotation, sym.Permutation, c.System.Periodic()))
	t.AddRow("schedule", fmt.Sprintf("%s, κ(1) = %.4g", c.Schedule.Name(), s.kappa1))
	if c.SampleSteps > 0 && c.SampleSteps != c.Steps {
		t.AddRow("integration steps", fmt.Sprintf("%d (training), %d (sampling)", c.Steps, c.SampleSteps))
	} else {
		t.AddRow("integration steps", c.Steps)
	}
	t.AddRow("network", fmt.Sprintf("%s, %d parameters", s.netNote, s.model.NumParams()))
	t.AddRow("batch / train batch / buffer", fmt.Sprintf("%d / %d / %d", c.Batch, c.TrainBatch, c.Buffer))
	t.AddRow("gradient steps per epoch", c.GradSteps)
	t.AddRow("learning rate", c.LR)
	t.AddRow("gradient clip (per particle)", c.ClipNorm)
	if c.Reweight > 0 {
		t.AddRow("buffer draws", fmt.Sprintf("by importance weight, tempered to ESS ≥ %g (β now %.3g)", c.Reweight, s.reweightBeta))
	}
	if c.Defensive > 0 {
		t.AddRow("defensive share of samples", fmt.Sprintf("%g from a Student-t (ν = %d), weighed against the mixture", c.Defensive, DefensiveNu))
	}
	if c.Langevin {
		a := "unmeasured"
		if s.langevinSet {
			a = fmt.Sprintf("%.4g", s.langevinA)
		}
		t.AddRow("control", "network + Langevin term c(t)·(−∇g(x)), c = 1/(1 + a·(κ(1) − κ(t))), a re-measured every epoch on the buffer, now "+a)
	}
	if c.MixTarget {
		a := "unmeasured"
		if s.buf.n > 0 {
			a = fmt.Sprintf("%.4g", s.bufferCurvature())
		}
		t.AddRow("regression target", "c(t)·(−∇g(X_1)) + (1 − c(t))·(X_1 − X_t)/(κ(1) − κ(t)), c = 1/(1 + a·(κ(1) − κ(t))), a measured on the buffer as it is, now "+a)
	}
	if c.RBCandidates > 0 {
		t.AddRow("target averaging", fmt.Sprintf("each row's target averaged with %d more buffered end states by the bridge's likelihood, fresh every %d rows (where more than %g of κ(1) remains)", c.RBCandidates, rbShare, rbMinRemaining))
	}
	if c.EMA > 0 {
		t.AddRow("parameter average", s.Averaging())
	}
	if c.RefineBuffer > 0 {
		m := c.RefineMethod
		if m == "" {
			m = "mala"
		}
		t.AddRow("buffer refinement", fmt.Sprintf("%d %s steps per new sample (acceptance %.3g)", c.RefineBuffer, m, s.refineAccept))
	}
	if c.LRFinal > 0 {
		t.AddRow("learning rate, final (cosine)", c.LRFinal)
	}
	if c.Integrator == IntegratorKappa {
		t.AddRow("integrator", "steps matched to κ increments")
	}
	if c.NetTime == NetTimeKappa {
		t.AddRow("network's time input", "½(t + κ(t)/κ(1))")
	}
	switch c.TimeSampling {
	case TimeKappa:
		t.AddRow("time sampling", "half uniform in t, half uniform in κ(t)/κ(1)")
	case TimeSigma2:
		t.AddRow("time sampling", "uniform in κ(t)/κ(1)")
	}
	t.AddRow("base-marginal correction", !c.NoBaseCorrection)
	if c.PrefillBase > 0 {
		t.AddRow("buffer prefill (base process)", c.PrefillBase)
	}
	t.AddRow("seed", c.Seed)
	t.AddRow("epochs done", fmt.Sprintf("%d of %d", s.epoch, c.Epochs))
	t.AddRow("buffer fill", s.buf.n)
	if len(s.losses) > 0 {
		t.AddRow("last epoch loss", s.losses[len(s.losses)-1])
	}
	return t
}

// MIMEBundle renders the configuration table.
func (s *Sampler) MIMEBundle() display.Bundle { return s.Table().MIMEBundle() }

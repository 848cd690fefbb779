package adjoint

import (
	"context"
	"fmt"
	"math"
	"sort"

	"adjoint/lib/display"
	"adjoint/lib/npy"
)

// Samples are terminal states of the learned SDE with their energies and log importance weights.
type Samples struct {
	X                        []float64 // N·Particles·SpatialDim, row-major
	N, Particles, SpatialDim int
	Energy                   []float64 // E(x) of each sample
	// LogW are the log importance weights toward exp(−E/τ):
	// Σ_k[−u_k·ξ_k sqrt(Δt) − ½‖u_k‖²Δt] − E/τ − log p_1^base(X_1), where p_1^base is the
	// terminal marginal of the discretised base chain (N(0, Σ_k σ(t_k)² Δt) for Euler–Maruyama),
	// so the weights are exact for the discretised process that drew the samples, with no
	// additive constant left out: their mean estimates Z = ∫ exp(−E/τ) over the system's space
	// (see Diagnostics for the precise convention, and Diagnostics() for the estimates).
	LogW []float64
	ESS  float64 // Kish effective sample size (Σw)²/Σw²
	// Coverage is the check for modes the samples miss (CheckCoverage), made by Sample for
	// systems it applies to; nil when it was not made.
	Coverage *Coverage
	// Defensive is the number of rows, the last ones, drawn from the defensive Student-t of
	// Sampler.SetDefensive rather than the model; every weight is then against the mixture.
	Defensive int
}

// Warnings returns the warnings of the samples: those of their importance weights
// (Diagnostics.Warnings), the coverage warnings (Coverage.Warnings) and the warning of RawCheck
// when the unweighted samples differ from their weighted distribution, if any.
func (sm *Samples) Warnings() []string {
	w := append(sm.Diagnostics().Warnings(), sm.Coverage.Warnings()...)
	if m := sm.RawWarning(); m != "" {
		w = append(w, m)
	}
	return w
}

// RawWarning returns RawCheck's warning for the most biased statistic, "" when the unweighted
// samples agree with their importance-weighted distribution within RawTV and the noise.
func (sm *Samples) RawWarning() string { return rawWarning(sm.RawCheck()) }

// Sample draws n samples from the learned SDE (in batches of Config.Batch), with energies,
// log importance weights and the effective sample size. It stops on the front end's cancellation.
func (s *Sampler) Sample(n int) (*Samples, error) {
	return s.SampleContext(display.Context(), n)
}

// SampleContext is Sample with an explicit context.
func (s *Sampler) SampleContext(ctx context.Context, n int) (*Samples, error) {
	if n < 1 {
		return nil, fmt.Errorf("adjoint: sample count %d", n)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	defer s.averaged()()
	defer s.onSamplingGrid()()
	nd := s.space.Dim()
	out := &Samples{N: n, Particles: s.space.Particles, SpatialDim: s.space.SpatialDim,
		X: make([]float64, 0, n*nd), Energy: make([]float64, n), LogW: make([]float64, n)}
	nQ, nG := n, 0
	var path []float64 // Girsanov sums of every row (SetDefensive)
	if a := s.cfg.Defensive; a > 0 {
		nG = min(max(int(math.Round(a*float64(n))), 1), n-1)
		nQ, path = n-nG, make([]float64, n)
	}
	for lo := 0; lo < nQ; lo += s.cfg.Batch {
		b := min(s.cfg.Batch, nQ-lo)
		logw := out.LogW[lo : lo+b]
		x, err := s.generate(ctx, b, logw)
		if err != nil {
			return nil, fmt.Errorf("adjoint: sampling: %w", err)
		}
		if path != nil {
			copy(path[lo:], logw)
		}
		e := out.Energy[lo : lo+b]
		s.counter.EnergyGrad(x, e, nil)
		s.weigh(x, e, logw)
		out.X = append(out.X, x...)
	}
	if nG > 0 {
		if err := s.sampleDefensive(ctx, out, path, nQ, nG); err != nil {
			return nil, fmt.Errorf("adjoint: defensive sampling: %w", err)
		}
	}
	out.ESS = ESS(out.LogW)
	// modes the samples miss: a probe's chains from broad starts (low dimensions only) and the
	// Gibbs check of each coordinate, on the model's own samples; a probe that cannot run leaves
	// the check out rather than failing the draw
	if cov, err := CheckCoverage(s.cfg.System, out.X[:nQ*nd], s.cfg.Seed); err == nil && cov.Skipped == "" {
		out.Coverage = cov
	}
	return out, nil
}

// ESS returns the Kish effective sample size (Σw)²/Σw² of log weights (NaN and +Inf log
// weights are left out, see Diagnostics; 0 when no weight is positive).
func ESS(logw []float64) float64 { return diagnose(logw, nil, false).ESS }

// Weights returns the self-normalised importance weights (summing to one; NaN and +Inf log
// weights get weight zero, and all are zero when no weight is positive).
func (sm *Samples) Weights() []float64 {
	w, _, _ := scaledWeights(sm.LogW)
	var s float64
	for _, v := range w {
		s += v
	}
	if s > 0 {
		for i := range w {
			w[i] /= s
		}
	}
	return w
}

// MeanEnergy returns the mean energy of the finite energies.
func (sm *Samples) MeanEnergy() float64 {
	var s float64
	var n int
	for _, e := range sm.Energy {
		if !math.IsNaN(e) && !math.IsInf(e, 0) {
			s += e
			n++
		}
	}
	return s / float64(n)
}

// SaveNPY writes the samples as an N × (Particles·SpatialDim) float32 .npy file.
func (sm *Samples) SaveNPY(path string) error {
	if err := npy.WriteFile(path, []int{sm.N, sm.Particles * sm.SpatialDim}, sm.X, "float32"); err != nil {
		return fmt.Errorf("adjoint: save samples: %w", err)
	}
	return nil
}

// SaveWeightsNPY writes the log importance weights as an N-vector float64 .npy file.
func (sm *Samples) SaveWeightsNPY(path string) error {
	if err := npy.WriteFile(path, []int{sm.N}, sm.LogW, "float64"); err != nil {
		return fmt.Errorf("adjoint: save weights: %w", err)
	}
	return nil
}

// Table summarises the samples: energies, and the weights' Diagnostics (ESS, log Z ± se, the
// largest weight's share, the tail shape, non-finite count), with their warnings as the caption.
func (sm *Samples) Table() *display.Table {
	t := &display.Table{Header: []string{"samples", "shape", "mean energy", "energy sd", "median energy", "ESS", "ESS / N",
		"log Z ± se", "max weight share", "Pareto k̂", "non-finite"}}
	var m, v float64
	fin := make([]float64, 0, len(sm.Energy))
	model := sm.Energy[:len(sm.Energy)-min(sm.Defensive, len(sm.Energy))] // the energy columns describe the model's rows
	for _, e := range model {
		if !math.IsNaN(e) && !math.IsInf(e, 0) {
			fin = append(fin, e)
			m += e
		}
	}
	med := math.NaN()
	if len(fin) > 0 {
		m /= float64(len(fin))
		for _, e := range fin {
			v += (e - m) * (e - m)
		}
		v /= float64(max(len(fin)-1, 1))
		sort.Float64s(fin)
		med = fin[len(fin)/2]
	}
	d := sm.Diagnostics()
	var count any = sm.N
	if sm.Defensive > 0 {
		count = fmt.Sprintf("%d (%d defensive)", sm.N, sm.Defensive)
	}
	t.AddRow(count, fmt.Sprintf("%d×%d", sm.Particles, sm.SpatialDim), fmt.Sprintf("%.4g", m),
		fmt.Sprintf("%.4g", math.Sqrt(v)), fmt.Sprintf("%.4g", med), fmt.Sprintf("%.1f", sm.ESS),
		fmt.Sprintf("%.4f", sm.ESS/float64(max(sm.N, 1))), fmt.Sprintf("%.4f ± %.4f", d.LogZ, d.LogZSE),
		fmt.Sprintf("%.4f", d.MaxShare), fmtK(d.ParetoK), d.NonFinite)
	for _, w := range sm.Warnings() {
		if t.Caption != "" {
			t.Caption += "\n"
		}
		t.Caption += "warning: " + w
	}
	return t
}

// MIMEBundle renders the summary table.
func (sm *Samples) MIMEBundle() display.Bundle { return sm.Table().MIMEBundle() }

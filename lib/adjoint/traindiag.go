package adjoint

import (
	"context"
	"fmt"
	"math"
	"strings"

	"adjoint/lib/display"
	"adjoint/lib/nn"
)

// The diagnosis of a trained controller whose raw samples are off while its importance weights
// are right: where in time the regression fails (loss by time on the model's own samples, on
// reference samples and on the replay buffer), whether the buffer is stale (loss and energy by
// the age of its samples), and whether late times get a learning signal through the noise of
// early ones (the parameter gradient of each time bin's share of the loss over independent
// minibatches). docs/validation.md ("Diagnosing hot samples") says how to read the numbers.

// TrainingDiagnosisOptions set Sampler.DiagnoseTraining.
type TrainingDiagnosisOptions struct {
	// Ref holds reference configurations (row-major, one configuration of the system per row),
	// e.g. exact samples; nil leaves the reference out.
	Ref       []float64
	N         int    // fresh samples drawn from the model (0: 1000)
	Bins      int    // equal time bins of [0, 1] (0: 10)
	Draws     int    // bridge draws per time bin and set of terminal states, and per age group (0: 1024)
	Reps      int    // independent minibatches of the gradient signal-to-noise ratio (0: 16)
	Batch     int    // rows of each of those minibatches (0: Config.TrainBatch)
	AgeGroups int    // groups of the replay buffer by age (0: 4, quartiles)
	Seed      uint64 // the sampler's random stream is reseeded with it before anything is drawn
}

// LossProfile is the regression loss ‖v_θ(X_t, t) + ∇g(X_1)‖² by time bin on one set of
// terminal states X_1, with their mean energy.
type LossProfile struct {
	Set        string    `json:"set"`     // "model" (fresh samples), "reference" or "buffer"
	Samples    int       `json:"samples"` // terminal states used
	Dropped    int       `json:"dropped"` // left out for a non-finite coordinate, energy or gradient
	MeanEnergy float64   `json:"mean_energy"`
	Loss       []float64 `json:"loss"`      // mean loss of the bridge draws in each bin
	Share      []float64 `json:"share"`     // Loss[b] / Σ Loss: the bin's part of the loss under uniform t
	MeanLoss   float64   `json:"mean_loss"` // mean of Loss: the loss under uniform t
}

// AgeGroup is one group of the replay buffer's samples by age (BufferStaleness), the age being
// the epochs trained since a sample was inserted.
type AgeGroup struct {
	Count      int     `json:"count"`
	MinAge     int     `json:"min_age"`
	MaxAge     int     `json:"max_age"`
	MeanEnergy float64 `json:"mean_energy"` // of the finite energies of the group's X_1
	NonFinite  int     `json:"non_finite"`  // energies that are NaN or infinite
	// Loss is the mean regression loss of bridge draws toward the group's X_1 by the current
	// network, times drawn as training draws them (Config.TimeSampling).
	Loss float64 `json:"loss"`
}

// BufferStaleness is the replay buffer grouped by age, youngest group first.
type BufferStaleness struct {
	Epoch int `json:"epoch"` // epochs completed: a sample inserted at epoch e has age Epoch − e
	// Inferred is set when the buffer came from a checkpoint that did not record insertion
	// epochs: they were inferred from the ring order, assuming Config.Batch samples an epoch.
	Inferred bool       `json:"inferred"`
	Groups   []AgeGroup `json:"groups"`
}

// GradientBin is the parameter gradient of one time bin's part of the loss,
// g_b = (1/B) Σ_{rows with t in the bin} ∇_θ‖v_θ(X_t, t) + ∇g(X_1)‖², over the minibatches of
// GradientSNR; the bins' g_b add up to the minibatch's gradient.
type GradientBin struct {
	T0   float64 `json:"t0"`
	T1   float64 `json:"t1"`
	Rows float64 `json:"rows"` // mean rows of a minibatch in the bin
	// MeanNorm is ‖ḡ_b‖, the norm of the mean over the minibatches.
	MeanNorm float64 `json:"mean_norm"`
	// MeanSqNorm is the mean of ‖g_b‖² over the minibatches: signal and noise together.
	MeanSqNorm float64 `json:"mean_sq_norm"`
	// Noise is the mean of ‖g_b − ḡ_b‖²: the trace of the minibatch gradient's covariance.
	Noise float64 `json:"noise"`
	// SNR is ‖ḡ_b‖² / MeanSqNorm, between 0 and 1: 1 when every minibatch points the same
	// way, about 1/Reps when the bin's gradient is noise alone.
	SNR float64 `json:"snr"`
	// Cosine is the cosine between ḡ_b and the mean full-batch gradient ḡ = Σ_b ḡ_b: how much
	// of the bin's signal the steps actually follow.
	Cosine float64 `json:"cosine"`
	// NoiseShare is Noise over the sum of the bins' Noise.
	NoiseShare float64 `json:"noise_share"`
}

// GradientSNR is the signal and noise of the training gradient by time bin.
type GradientSNR struct {
	Batch  int           `json:"batch"`
	Reps   int           `json:"reps"`
	Params int           `json:"params"`
	Bins   []GradientBin `json:"bins"`
	Full   GradientBin   `json:"full"` // the whole minibatch (t0 = 0, t1 = 1)
}

// TrainingDiagnosis is what DiagnoseTraining finds.
type TrainingDiagnosis struct {
	System   string    `json:"system"`
	Epoch    int       `json:"epoch"`
	Seed     uint64    `json:"seed"`
	BinEdges []float64 `json:"bin_edges"` // Bins+1 edges in t
	Draws    int       `json:"draws"`     // bridge draws per bin and set
	// Model is the loss by time on fresh samples of the model, Reference on the reference
	// (nil without one), Buffer on the replay buffer as it is.
	Model     *LossProfile `json:"model"`
	Reference *LossProfile `json:"reference,omitempty"`
	Buffer    *LossProfile `json:"buffer"`
	// RefExcess is Reference.Loss − Model.Loss by bin: where the network fits the reference's
	// targets worse than those of its own samples (nil without a reference).
	RefExcess []float64 `json:"ref_excess,omitempty"`
	// ModelWeightedEnergy is the mean energy of the fresh samples under their self-normalised
	// importance weights, and ModelESSFraction their Kish ESS / N: the weighted mean estimates
	// the target's mean energy even when the raw mean (Model.MeanEnergy) is off.
	ModelWeightedEnergy float64          `json:"model_weighted_energy"`
	ModelESSFraction    float64          `json:"model_ess_fraction"`
	Staleness           *BufferStaleness `json:"staleness"`
	Gradient            *GradientSNR     `json:"gradient"`
}

func (o TrainingDiagnosisOptions) withDefaults(s *Sampler) TrainingDiagnosisOptions {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.N, 1000)
	def(&o.Bins, 10)
	def(&o.Draws, 1024)
	def(&o.Reps, 16)
	def(&o.Batch, s.cfg.TrainBatch)
	def(&o.AgeGroups, 4)
	return o
}

// DiagnoseTraining reseeds the sampler's random stream with opt.Seed and measures, with the
// network as sampling uses it (its parameter average under Config.EMA): the loss by time on
// opt.N fresh samples of the model, on opt.Ref and on the replay buffer (LossByTimeOn,
// LossByTime); the replay buffer by age (BufferStaleness); and the gradient's signal and noise
// by time bin (GradientSNR). The network, the optimiser and the
// buffer are left unchanged; the random stream is not.
func (s *Sampler) DiagnoseTraining(ctx context.Context, opt TrainingDiagnosisOptions) (*TrainingDiagnosis, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	opt = opt.withDefaults(s)
	if opt.N < 1 || opt.Bins < 1 || opt.Draws < 1 || opt.Reps < 2 || opt.Batch < 1 || opt.AgeGroups < 1 {
		return nil, fmt.Errorf("adjoint: diagnose training: need positive samples, bins, draws, batch and age groups and at least 2 minibatches (have %d, %d, %d, %d, %d, %d)",
			opt.N, opt.Bins, opt.Draws, opt.Batch, opt.AgeGroups, opt.Reps)
	}
	if s.buf.n == 0 {
		return nil, fmt.Errorf("adjoint: diagnose training: the replay buffer is empty")
	}
	if _, err := differentiable(s.model); err != nil {
		return nil, fmt.Errorf("adjoint: diagnose training: %w", err)
	}
	defer s.averaged()()
	s.Reseed(opt.Seed)
	d := &TrainingDiagnosis{System: s.cfg.System.Name, Epoch: s.epoch, Seed: opt.Seed, Draws: opt.Draws}
	for b := 0; b <= opt.Bins; b++ {
		d.BinEdges = append(d.BinEdges, float64(b)/float64(opt.Bins))
	}
	fresh, logw, err := s.freshSamples(ctx, opt.N)
	if err != nil {
		return nil, fmt.Errorf("adjoint: diagnose training: %w", err)
	}
	if d.Model, err = s.profileOn("model", fresh, opt.Bins, opt.Draws); err != nil {
		return nil, fmt.Errorf("adjoint: diagnose training: model samples: %w", err)
	}
	d.ModelWeightedEnergy, d.ModelESSFraction = s.weightedEnergy(fresh, logw)
	if opt.Ref != nil {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if d.Reference, err = s.profileOn("reference", opt.Ref, opt.Bins, opt.Draws); err != nil {
			return nil, fmt.Errorf("adjoint: diagnose training: reference: %w", err)
		}
		for b := range d.Reference.Loss {
			d.RefExcess = append(d.RefExcess, d.Reference.Loss[b]-d.Model.Loss[b])
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	bl, err := s.LossByTime(opt.Bins, opt.Draws)
	if err != nil {
		return nil, fmt.Errorf("adjoint: diagnose training: %w", err)
	}
	be := s.bufferEnergies()
	d.Buffer = newProfile("buffer", s.buf.n, 0, be, bl)
	if d.Staleness, err = s.BufferStaleness(opt.AgeGroups, opt.Draws); err != nil {
		return nil, fmt.Errorf("adjoint: diagnose training: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if d.Gradient, err = s.GradientSNR(opt.Bins, opt.Batch, opt.Reps); err != nil {
		return nil, fmt.Errorf("adjoint: diagnose training: %w", err)
	}
	return d, nil
}

// freshSamples draws n terminal states from the model (in batches of Config.Batch) with the
// Girsanov path terms of their log weights.
func (s *Sampler) freshSamples(ctx context.Context, n int) (x, logw []float64, err error) {
	logw = make([]float64, n)
	for lo := 0; lo < n; lo += s.cfg.Batch {
		b := min(s.cfg.Batch, n-lo)
		xb, err := s.generate(ctx, b, logw[lo:lo+b])
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return nil, nil, cerr
			}
			return nil, nil, fmt.Errorf("sampling: %w", err)
		}
		x = append(x, xb...)
	}
	return x, logw, nil
}

// weightedEnergy returns the self-normalised importance-weighted mean energy of terminal
// states x with path terms logw, and their Kish ESS / N.
func (s *Sampler) weightedEnergy(x, logw []float64) (mean, essFrac float64) {
	n := len(logw)
	e := make([]float64, n)
	s.counter.EnergyGrad(x, e, nil)
	lw := append([]float64(nil), logw...)
	s.weigh(x, e, lw)
	d := Diagnose(lw, e)
	w, _, _ := scaledWeights(lw)
	var sw, se float64
	for i, wi := range w {
		if wi > 0 && !math.IsNaN(e[i]) && !math.IsInf(e[i], 0) {
			sw += wi
			se += wi * e[i]
		}
	}
	if sw == 0 {
		return math.NaN(), d.ESSFraction
	}
	return se / sw, d.ESSFraction
}

// terminalStates projects a copy of the configurations x onto the state space and returns those
// with finite coordinates, energy and energy gradient, with their regression targets (as
// training makes them) and energies, and how many were dropped.
func (s *Sampler) terminalStates(x []float64) (xs, y, e []float64, dropped int, err error) {
	nd := s.space.Dim()
	if len(x) == 0 || len(x)%nd != 0 {
		return nil, nil, nil, 0, fmt.Errorf("%d values are not whole configurations of %d", len(x), nd)
	}
	n := len(x) / nd
	xp := append([]float64(nil), x...)
	s.space.Project(xp)
	ea, ga := make([]float64, n), make([]float64, len(xp))
	s.counter.EnergyGrad(xp, ea, ga)
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	for k := range n {
		ok := finite(ea[k])
		for i := k * nd; ok && i < (k+1)*nd; i++ {
			ok = finite(xp[i]) && finite(ga[i])
		}
		if !ok {
			dropped++
			continue
		}
		xs = append(xs, xp[k*nd:(k+1)*nd]...)
		y = append(y, ga[k*nd:(k+1)*nd]...)
		e = append(e, ea[k])
	}
	if len(xs) == 0 {
		return nil, nil, nil, dropped, fmt.Errorf("none of the %d configurations is finite", n)
	}
	if err := s.terminalTargets(xs, y); err != nil {
		return nil, nil, nil, dropped, err
	}
	return xs, y, e, dropped, nil
}

// withBuffer runs f with a buffer holding exactly the terminal states xs and targets y in place
// of the replay buffer, which it then puts back.
func (s *Sampler) withBuffer(xs, y []float64, f func() error) error {
	n := len(xs) / s.space.Dim()
	saved, bufA, bufASet := s.buf, s.bufA, s.bufASet
	s.buf = buffer{cap: n, dim: s.space.Dim(), x: xs, y: y, ep: make([]int32, n), n: n}
	s.bufASet = false
	defer func() { s.buf, s.bufA, s.bufASet = saved, bufA, bufASet }()
	return f()
}

// LossByTimeOn is LossByTime with the terminal states x (row-major configurations, projected
// onto the state space first; those with a non-finite coordinate, energy or gradient are left
// out) in place of the replay buffer: the regression loss by time bin toward the targets
// −∇g(x) as training makes them. It changes neither the network nor the buffer, only the
// random stream; with the same stream it gives LossByTime's numbers for a buffer seeded with x
// (SeedBuffer).
func (s *Sampler) LossByTimeOn(x []float64, bins, draws int) ([]float64, error) {
	p, err := s.profileOn("", x, bins, draws)
	if err != nil {
		return nil, fmt.Errorf("adjoint: loss by time: %w", err)
	}
	return p.Loss, nil
}

// profileOn is the loss profile of the terminal states x.
func (s *Sampler) profileOn(set string, x []float64, bins, draws int) (*LossProfile, error) {
	if bins < 1 || draws < 1 {
		return nil, fmt.Errorf("%d bins × %d draws", bins, draws)
	}
	xs, y, e, dropped, err := s.terminalStates(x)
	if err != nil {
		return nil, err
	}
	var loss []float64
	err = s.withBuffer(xs, y, func() error {
		var err error
		loss, err = s.LossByTime(bins, draws)
		return err
	})
	if err != nil {
		return nil, err
	}
	return newProfile(set, len(e), dropped, e, loss), nil
}

// newProfile completes a loss profile from the energies of its terminal states and its loss by
// time.
func newProfile(set string, samples, dropped int, e, loss []float64) *LossProfile {
	p := &LossProfile{Set: set, Samples: samples, Dropped: dropped, Loss: loss}
	p.MeanEnergy, _ = finiteMean(e)
	var sum float64
	for _, l := range loss {
		sum += l
	}
	p.MeanLoss = sum / float64(len(loss))
	for _, l := range loss {
		p.Share = append(p.Share, l/sum)
	}
	return p
}

// finiteMean returns the mean of the finite values of v and how many were not finite.
func finiteMean(v []float64) (mean float64, nonFinite int) {
	var s float64
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			nonFinite++
			continue
		}
		s += x
	}
	if nonFinite == len(v) {
		return math.NaN(), nonFinite
	}
	return s / float64(len(v)-nonFinite), nonFinite
}

// bufferEnergies returns the energies of the replay buffer's terminal states, slot by slot.
func (s *Sampler) bufferEnergies() []float64 {
	e := make([]float64, s.buf.n)
	s.counter.EnergyGrad(s.buf.x[:s.buf.n*s.buf.dim], e, nil)
	return e
}

// BufferStaleness splits the replay buffer by insertion order into `groups` groups of nearly
// equal size (4: quartiles), youngest first, and gives for each its ages in epochs, the mean
// energy of its terminal states and the mean loss of `draws` bridge draws toward them by the
// current network (times as training draws them). Targets depend on X_1 alone, so old samples
// are stale only through the older network that drew them: a group that is hotter, or fitted
// worse, than the young ones is what they add to training. It changes neither the network nor
// the buffer, only the random stream.
func (s *Sampler) BufferStaleness(groups, draws int) (*BufferStaleness, error) {
	if groups < 1 || draws < 1 {
		return nil, fmt.Errorf("adjoint: buffer staleness: %d groups, %d draws", groups, draws)
	}
	b := &s.buf
	if b.n == 0 {
		return nil, fmt.Errorf("adjoint: buffer staleness: the replay buffer is empty")
	}
	groups = min(groups, b.n)
	// slots from the newest to the oldest
	order := make([]int, b.n)
	for j := range order {
		order[b.n-1-b.rank(j)] = j
	}
	e := s.bufferEnergies()
	out := &BufferStaleness{Epoch: s.epoch, Inferred: b.epochsInferred}
	tb := min(draws, max(s.cfg.TrainBatch, 1))
	mb := newMatchBatch(tb, b.dim)
	res := make([]float32, tb*b.dim)
	for g := range groups {
		idx := order[g*b.n/groups : (g+1)*b.n/groups]
		ag := AgeGroup{Count: len(idx), MinAge: math.MaxInt, MaxAge: math.MinInt}
		ge := make([]float64, len(idx))
		for k, j := range idx {
			age := s.epoch - int(b.ep[j])
			ag.MinAge, ag.MaxAge = min(ag.MinAge, age), max(ag.MaxAge, age)
			ge[k] = e[j]
		}
		ag.MeanEnergy, ag.NonFinite = finiteMean(ge)
		var sum float64
		for done := 0; done < draws; done += tb {
			rows := min(tb, draws-done)
			s.drawAmong(mb, rows, idx, s.times.at)
			if err := s.addLoss(mb, rows, res, &sum); err != nil {
				return nil, fmt.Errorf("adjoint: buffer staleness: %w", err)
			}
		}
		ag.Loss = sum / float64(draws)
		out.Groups = append(out.Groups, ag)
	}
	return out, nil
}

// differentiable returns the network as one whose loss gradient can be read.
func differentiable(m nn.Model) (nn.Differentiable, error) {
	if d, ok := m.(nn.Differentiable); ok {
		return d, nil
	}
	return nil, fmt.Errorf("the network (%T) does not give its parameter gradient (nn.Differentiable)", m)
}

// GradientSNR draws `reps` independent minibatches of `batch` bridge draws from the replay
// buffer as a training step draws them (Config.TimeSampling), splits each minibatch's loss by
// the time bin of its rows (bins equal slices of [0, 1]) and computes the parameter gradient
// of each bin's part (nn.Differentiable.LossGrad, no optimiser step): per bin the norm of the
// mean gradient, the mean squared norm, the noise, their ratio and the cosine with the mean
// full-minibatch gradient (GradientBin). The parameters, the optimiser state and the buffer are
// left unchanged; the random stream advances.
func (s *Sampler) GradientSNR(bins, batch, reps int) (*GradientSNR, error) {
	g, _, err := s.gradientSNR(bins, batch, reps)
	if err != nil {
		return nil, fmt.Errorf("adjoint: gradient snr: %w", err)
	}
	return g, nil
}

// gradientSNR is GradientSNR; it also returns the mean gradient of each bin and, last, the sum
// of the bins' mean gradients (the mean full-minibatch gradient).
func (s *Sampler) gradientSNR(bins, batch, reps int) (*GradientSNR, [][]float64, error) {
	if bins < 1 || batch < 1 || reps < 2 {
		return nil, nil, fmt.Errorf("%d bins, minibatches of %d, %d minibatches (need at least 2)", bins, batch, reps)
	}
	if s.buf.n == 0 {
		return nil, nil, fmt.Errorf("the replay buffer is empty")
	}
	model, err := differentiable(s.model)
	if err != nil {
		return nil, nil, err
	}
	np, nd := model.NumParams(), s.space.Dim()
	mb := newMatchBatch(batch, nd)
	sx, st, sy := make([]float32, batch*nd), make([]float32, batch), make([]float32, batch*nd)
	grad := make([]float64, np)
	// per bin (and, last, the full minibatch): the sum over minibatches of g, of g·g and of rows
	sum := make([][]float64, bins+1)
	for b := range sum {
		sum[b] = make([]float64, np)
	}
	sumSq, rows := make([]float64, bins+1), make([]float64, bins+1)
	full := make([]float64, np)
	for range reps {
		s.draw(mb, batch, s.times.at)
		clear(full)
		for b := range bins {
			k := 0
			for r := range batch {
				if timeBin(float64(mb.t[r]), bins) != b {
					continue
				}
				copy(sx[k*nd:(k+1)*nd], mb.x[r*nd:(r+1)*nd])
				copy(sy[k*nd:(k+1)*nd], mb.y[r*nd:(r+1)*nd])
				st[k] = mb.t[r]
				k++
			}
			rows[b] += float64(k)
			if k == 0 {
				continue
			}
			loss, err := model.LossGrad(sx[:k*nd], s.netTimes(&mb.tn, st[:k]), sy[:k*nd], grad)
			if err != nil {
				return nil, nil, err
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return nil, nil, fmt.Errorf("loss is %g", loss)
			}
			w := float64(k) / float64(batch) // the bin's part of the minibatch loss
			var sq float64
			for i, v := range grad {
				v *= w
				sum[b][i] += v
				full[i] += v
				sq += v * v
			}
			sumSq[b] += sq
		}
		var sq float64
		for i, v := range full {
			sum[bins][i] += v
			sq += v * v
		}
		sumSq[bins] += sq
		rows[bins] += float64(batch)
	}
	R := float64(reps)
	means := make([][]float64, bins+1)
	for b := range means {
		means[b] = make([]float64, np)
		for i, v := range sum[b] {
			means[b][i] = v / R
		}
	}
	fullNorm := norm(means[bins])
	stat := func(b int, t0, t1 float64) GradientBin {
		m := norm(means[b])
		gb := GradientBin{T0: t0, T1: t1, Rows: rows[b] / R, MeanNorm: m, MeanSqNorm: sumSq[b] / R}
		gb.Noise = max(gb.MeanSqNorm-m*m, 0)
		if gb.MeanSqNorm > 0 {
			gb.SNR = m * m / gb.MeanSqNorm
		}
		if m > 0 && fullNorm > 0 {
			var dot float64
			for i, v := range means[b] {
				dot += v * means[bins][i]
			}
			gb.Cosine = dot / (m * fullNorm)
		}
		return gb
	}
	out := &GradientSNR{Batch: batch, Reps: reps, Params: np}
	var noise float64
	for b := range bins {
		gb := stat(b, float64(b)/float64(bins), float64(b+1)/float64(bins))
		noise += gb.Noise
		out.Bins = append(out.Bins, gb)
	}
	for b := range out.Bins {
		if noise > 0 {
			out.Bins[b].NoiseShare = out.Bins[b].Noise / noise
		}
	}
	out.Full = stat(bins, 0, 1)
	out.Full.NoiseShare = 1
	return out, means, nil
}

// timeBin is the bin of t among `bins` equal slices of [0, 1].
func timeBin(t float64, bins int) int { return min(max(int(t*float64(bins)), 0), bins-1) }

func norm(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}

// Tables lays the diagnosis out as tables: the loss by time, the buffer by age and the
// gradient by time bin.
func (d *TrainingDiagnosis) Tables() []*display.Table {
	sets := []*LossProfile{d.Model, d.Reference, d.Buffer}
	lt := &display.Table{Caption: fmt.Sprintf("loss by time (%s, epoch %d, %d draws a bin; share of each set's loss in brackets)", d.System, d.Epoch, d.Draws),
		Header: []string{"t"}}
	for _, p := range sets {
		if p != nil {
			lt.Header = append(lt.Header, p.Set)
		}
	}
	if d.RefExcess != nil {
		lt.Header = append(lt.Header, "reference − model")
	}
	for b := 0; b+1 < len(d.BinEdges); b++ {
		row := []any{fmt.Sprintf("%.2f–%.2f", d.BinEdges[b], d.BinEdges[b+1])}
		for _, p := range sets {
			if p != nil {
				row = append(row, fmt.Sprintf("%.4g (%.0f%%)", p.Loss[b], 100*p.Share[b]))
			}
		}
		if d.RefExcess != nil {
			row = append(row, d.RefExcess[b])
		}
		lt.AddRow(row...)
	}
	mean := []any{"mean (uniform t)"}
	energy := []any{"mean energy"}
	count := []any{"samples (dropped)"}
	for _, p := range sets {
		if p != nil {
			mean = append(mean, p.MeanLoss)
			energy = append(energy, p.MeanEnergy)
			count = append(count, fmt.Sprintf("%d (%d)", p.Samples, p.Dropped))
		}
	}
	lt.AddRow(mean...)
	lt.AddRow(energy...)
	lt.AddRow(count...)
	lt.AddRow("model: weighted mean energy, ESS/N", fmt.Sprintf("%.4g, %.4f", d.ModelWeightedEnergy, d.ModelESSFraction))
	tabs := []*display.Table{lt}
	if st := d.Staleness; st != nil {
		caption := fmt.Sprintf("replay buffer by age in epochs, youngest first (epoch %d)", st.Epoch)
		if st.Inferred {
			caption += "; ages inferred from the ring order (the checkpoint did not record them)"
		}
		at := &display.Table{Caption: caption, Header: []string{"group", "samples", "age", "mean energy", "loss"}}
		for g, a := range st.Groups {
			at.AddRow(g+1, a.Count, fmt.Sprintf("%d–%d", a.MinAge, a.MaxAge), a.MeanEnergy, a.Loss)
		}
		tabs = append(tabs, at)
	}
	if gs := d.Gradient; gs != nil {
		gt := &display.Table{Caption: fmt.Sprintf("gradient by time bin (%d minibatches of %d, %d parameters; SNR of noise alone ≈ %.2g)", gs.Reps, gs.Batch, gs.Params, 1/float64(gs.Reps)),
			Header: []string{"t", "rows", "‖mean g‖", "mean ‖g‖²", "noise", "SNR", "cos(g, full)", "noise share"}}
		for k, b := range append(append([]GradientBin(nil), gs.Bins...), gs.Full) {
			t := fmt.Sprintf("%.2f–%.2f", b.T0, b.T1)
			if k == len(gs.Bins) {
				t = "all"
			}
			gt.AddRow(t, fmt.Sprintf("%.1f", b.Rows), b.MeanNorm, b.MeanSqNorm, b.Noise, b.SNR, b.Cosine, fmt.Sprintf("%.0f%%", 100*b.NoiseShare))
		}
		tabs = append(tabs, gt)
	}
	return tabs
}

// String renders the tables as plain text.
func (d *TrainingDiagnosis) String() string {
	var parts []string
	for _, t := range d.Tables() {
		parts = append(parts, t.String())
	}
	return strings.Join(parts, "\n\n")
}

// MIMEBundle renders the tables.
func (d *TrainingDiagnosis) MIMEBundle() display.Bundle {
	var h []string
	for _, t := range d.Tables() {
		h = append(h, t.HTML())
	}
	return display.HTMLBundle(strings.Join(h, "\n"), d.String())
}

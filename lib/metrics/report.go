package metrics

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"adjoint/lib/display"
	"adjoint/lib/energy"
	"adjoint/lib/sde"
)

// Report is the evaluation of generated samples against reference samples. Its JSON form is the
// line that `adjoint eval` prints.
type Report struct {
	System        string  `json:"system,omitempty"`
	EnergyW2      float64 `json:"energy_w2"`
	GeometricW2   float64 `json:"geometric_w2"`
	DistanceW2    float64 `json:"distance_w2,omitempty"` // 0 (left out) for one-particle systems
	MeanEnergyGen float64 `json:"mean_energy"`
	MeanEnergyRef float64 `json:"ref_mean_energy"`
	SDEnergyGen   float64 `json:"sd_energy"`
	SDEnergyRef   float64 `json:"ref_sd_energy"`
	// ShortPairs and RefShortPairs are the fractions of configurations with k pairs closer
	// than EvalOptions.PairCutoff (index k; see ShortPairFractions), when a cutoff is given.
	ShortPairs    []float64 `json:"short_pairs,omitempty"`
	RefShortPairs []float64 `json:"ref_short_pairs,omitempty"`
	// EnergyGapShares and EnergyGapWithin split the gap in mean energy (generated minus
	// reference) by the same classes, when a cutoff is given (see EnergyGapByClass): the part
	// from the classes' shares and the part from the energies within them. They add up to
	// the gap exactly.
	EnergyGapShares *float64 `json:"energy_gap_shares,omitempty"`
	EnergyGapWithin *float64 `json:"energy_gap_within,omitempty"`
	N               int      `json:"n"`
	Dropped         int      `json:"dropped"`
	DroppedRef      int      `json:"ref_dropped"`
	Seconds         float64  `json:"seconds"`
}

// Table returns the report as a display table.
func (r *Report) Table() *display.Table {
	t := &display.Table{Caption: "evaluation " + r.System, Header: []string{"metric", "generated", "reference"}}
	t.AddRow("energy W2", r.EnergyW2, "")
	t.AddRow("geometric W2", r.GeometricW2, "")
	if r.DistanceW2 > 0 {
		t.AddRow("interatomic-distance W2", r.DistanceW2, "")
	}
	t.AddRow("mean energy", r.MeanEnergyGen, r.MeanEnergyRef)
	t.AddRow("sd energy", r.SDEnergyGen, r.SDEnergyRef)
	if len(r.ShortPairs) > 0 {
		t.AddRow("configurations by short pairs", fractions(r.ShortPairs), fractions(r.RefShortPairs))
		if r.EnergyGapShares != nil && r.EnergyGapWithin != nil {
			t.AddRow("energy gap from class shares / within classes", fmt.Sprintf("%.4g / %.4g", *r.EnergyGapShares, *r.EnergyGapWithin), "")
		}
	}
	t.AddRow("samples used", r.N, r.N)
	t.AddRow("dropped (non-finite)", r.Dropped, r.DroppedRef)
	return t
}

// MIMEBundle renders the report as a table.
func (r *Report) MIMEBundle() display.Bundle { return r.Table().MIMEBundle() }

// String renders the report as plain text.
func (r *Report) String() string { return r.Table().String() }

// EvalOptions tunes Evaluate.
type EvalOptions struct {
	N    int    // samples drawn at random from each set; 0 means 2000 (or all, when fewer)
	Seed uint64 // seed of the subsampling
	// PairCutoff, when positive, adds the fractions of configurations by number of pairs
	// closer than it (ShortPairFractions) for both sets; 4 separates DW-4's arrangements.
	PairCutoff float64
}

// fractions formats class fractions as "k:f" for the classes that occur.
func fractions(f []float64) string {
	var b strings.Builder
	for k, v := range f {
		if v == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d:%.3f", k, v)
	}
	return b.String()
}

// Evaluate is EvaluateContext under the front end's cancellation (display.Context).
func Evaluate(sys *energy.System, gen, ref []float64, opt EvalOptions) (*Report, error) {
	return EvaluateContext(display.Context(), sys, gen, ref, opt)
}

// EvaluateContext compares generated configurations gen with reference configurations ref
// (both row-major, sys.Dim() numbers each): configurations with non-finite coordinates or
// energies are dropped and counted, N of each are drawn at random without replacement (the
// same N for both; fewer when a set is smaller), the CoM is removed when the system has
// translation symmetry, and the energy W2, geometric W2 (particle matching when the system
// declares permutation symmetry, Kabsch alignment when it declares rotations), interatomic-
// distance W2 and mean energies are computed.
func EvaluateContext(ctx context.Context, sys *energy.System, gen, ref []float64, opt EvalOptions) (*Report, error) {
	start := time.Now()
	if sys == nil {
		return nil, fmt.Errorf("metrics: evaluate: no system")
	}
	if err := sys.Validate(); err != nil {
		return nil, fmt.Errorf("metrics: evaluate: %w", err)
	}
	n, d := sys.Energy.Particles(), sys.Energy.SpatialDim()
	dim := n * d
	if len(gen)%dim != 0 {
		return nil, fmt.Errorf("metrics: evaluate: generated samples have %d numbers, not a multiple of %s's dimension %d", len(gen), sys.Name, dim)
	}
	if len(ref)%dim != 0 {
		return nil, fmt.Errorf("metrics: evaluate: reference samples have %d numbers, not a multiple of %s's dimension %d", len(ref), sys.Name, dim)
	}
	r := &Report{System: sys.Name}
	var eg, er []float64
	gen, eg, r.Dropped = cleanSamples(sys, gen, dim)
	ref, er, r.DroppedRef = cleanSamples(sys, ref, dim)
	m := opt.N
	if m <= 0 {
		m = 2000
	}
	m = min(m, len(gen)/dim, len(ref)/dim)
	if m < 1 {
		return nil, fmt.Errorf("metrics: evaluate: no usable samples (%d generated dropped, %d reference dropped)", r.Dropped, r.DroppedRef)
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x6576616c))
	gen, eg = subsample(rng, gen, eg, dim, m)
	ref, er = subsample(rng, ref, er, dim, m)
	if sys.Symmetry.Translation {
		sde.RemoveCoM(gen, n, d)
		sde.RemoveCoM(ref, n, d)
	}
	r.N = m
	var err error
	if r.EnergyW2, err = EnergyW2(eg, er); err != nil {
		return nil, err
	}
	r.MeanEnergyGen, r.SDEnergyGen = Mean(eg)
	r.MeanEnergyRef, r.SDEnergyRef = Mean(er)
	if n >= 2 { // one particle has no interatomic distances
		if r.DistanceW2, err = DistanceW2(gen, ref, n, d); err != nil {
			return nil, err
		}
	}
	if opt.PairCutoff > 0 && n >= 2 {
		cg, err := shortPairClasses(gen, n, d, opt.PairCutoff)
		if err != nil {
			return nil, err
		}
		cr, err := shortPairClasses(ref, n, d, opt.PairCutoff)
		if err != nil {
			return nil, err
		}
		r.ShortPairs, r.RefShortPairs = classFractions(cg, n*(n-1)/2+1), classFractions(cr, n*(n-1)/2+1)
		shares, within := EnergyGapByClass(eg, er, cg, cr)
		r.EnergyGapShares, r.EnergyGapWithin = &shares, &within
	}
	switch {
	case sys.Symmetry.Permutation || sys.Symmetry.Rotation:
		// Matching and alignment as in the paper (the aligned distance compares centred shapes).
		r.GeometricW2, err = GeometricW2Context(ctx, gen, ref, n, d)
	default:
		r.GeometricW2, err = W2(gen, ref, dim)
	}
	if err != nil {
		return nil, err
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

// cleanSamples drops configurations with non-finite coordinates or energies and returns the
// kept ones with their energies.
func cleanSamples(sys *energy.System, x []float64, dim int) ([]float64, []float64, int) {
	kept, dropped := DropNonFinite(x, dim)
	b := len(kept) / dim
	e := make([]float64, b)
	if b > 0 {
		sys.Energy.EnergyGrad(kept, e, nil)
	}
	out := kept[:0]
	eo := e[:0]
	for i := range b {
		if math.IsNaN(e[i]) || math.IsInf(e[i], 0) {
			dropped++
			continue
		}
		out = append(out, kept[i*dim:(i+1)*dim]...)
		eo = append(eo, e[i])
	}
	return out, eo, dropped
}

// subsample draws m configurations without replacement (all, shuffled, when m equals the count).
func subsample(rng *rand.Rand, x, e []float64, dim, m int) ([]float64, []float64) {
	b := len(x) / dim
	idx := rng.Perm(b)[:m]
	xs := make([]float64, 0, m*dim)
	es := make([]float64, 0, m)
	for _, i := range idx {
		xs = append(xs, x[i*dim:(i+1)*dim]...)
		es = append(es, e[i])
	}
	return xs, es
}

package adjoint

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// DiagnosticsCost is what the training diagnostics add to a diagnosed epoch, measured by
// MeasureDiagnosticsCost: the median wall time of generating one batch with the network as it
// is, without and with the importance-weight terms (the Girsanov sums along the path, the base
// density of the end points and Diagnose; the energies, which training evaluates anyway, are
// left out of both).
type DiagnosticsCost struct {
	Plain, Weighed time.Duration
	Reps           int
}

// Extra is the median extra time one diagnosed epoch takes (never negative).
func (d DiagnosticsCost) Extra() time.Duration { return max(d.Weighed-d.Plain, 0) }

// Share is the fraction of training time the diagnostics take when every `every`-th epoch of
// mean duration epoch is diagnosed.
func (d DiagnosticsCost) Share(every int, epoch time.Duration) float64 {
	if every < 1 || epoch <= 0 {
		return 0
	}
	return d.Extra().Seconds() / float64(every) / epoch.Seconds()
}

// MeasureDiagnosticsCost times reps alternating batches of Config.Batch samples, plain and
// weighed (see DiagnosticsCost). It draws from the sampler's random stream, so call it after
// training or on a copy whose stream does not matter.
func (s *Sampler) MeasureDiagnosticsCost(ctx context.Context, reps int) (DiagnosticsCost, error) {
	if reps < 1 {
		return DiagnosticsCost{}, fmt.Errorf("adjoint: diagnostics cost: %d repetitions", reps)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	b := s.cfg.Batch
	e := make([]float64, b)
	var plain, weighed []time.Duration
	for range reps {
		t0 := time.Now()
		if _, err := s.generate(ctx, b, nil); err != nil {
			return DiagnosticsCost{}, fmt.Errorf("adjoint: diagnostics cost: %w", err)
		}
		plain = append(plain, time.Since(t0))

		logw := make([]float64, b)
		t0 = time.Now()
		x, err := s.generate(ctx, b, logw)
		if err != nil {
			return DiagnosticsCost{}, fmt.Errorf("adjoint: diagnostics cost: %w", err)
		}
		gen := time.Since(t0)
		s.cfg.System.Energy.EnergyGrad(x, e, nil) // not timed: training evaluates it anyway
		t0 = time.Now()
		s.weigh(x, e, logw)
		_ = Diagnose(logw, e)
		weighed = append(weighed, gen+time.Since(t0))
	}
	return DiagnosticsCost{Plain: median(plain), Weighed: median(weighed), Reps: reps}, nil
}

func median(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

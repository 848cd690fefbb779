package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"adjoint/internal/outpath"
	"adjoint/lib/adjoint"
	"adjoint/lib/mcmc"
	"adjoint/lib/npy"
	"adjoint/lib/zoo"
)

// `adjoint bench zoo` trains each zoo target with its defaults for a fixed time, samples it,
// scores the samples against the exact answers, runs plain MCMC with as many energy
// evaluations, and prints one JSON line per run and a table of the targets (docs/validation.md,
// "Zoo benchmark").

func init() {
	registerBench("zoo", "train each zoo target with its defaults for --minutes, score against the exact answers, beside MALA of equal energy evaluations", benchZoo)
}

// zooRow is one line of the zoo benchmark: one target sampled by one method.
type zooRow struct {
	Target string `json:"target"`
	Method string `json:"method"` // "adjoint" or "mala"
	Rule   string `json:"rule,omitempty"`
	Seed   uint64 `json:"seed"`
	Epochs int    `json:"epochs,omitempty"`
	Evals  int64  `json:"energy_evals"`
	// ProbeEvals are the evaluations of the probe that sized MALA's starts (in Evals).
	ProbeEvals int64   `json:"probe_evals,omitempty"`
	Seconds    float64 `json:"seconds"`
	N          int     `json:"n"`
	// Defensive is the number of the N samples drawn from the defensive Student-t
	// (Config.Defensive); the unweighted columns (min mass, coverage, TV, W2, P(x>0)
	// unweighted) describe the other N − Defensive, the model's own.
	Defensive int `json:"defensive,omitempty"`

	ESSFraction *float64 `json:"ess_fraction,omitempty"`
	MaxShare    *float64 `json:"max_share,omitempty"`
	ParetoK     *float64 `json:"pareto_k,omitempty"` // the weights' tail shape (adjoint.ParetoK)
	LogZError   *float64 `json:"log_z_error,omitempty"`
	LogZSE      *float64 `json:"log_z_se,omitempty"`
	NonFinite   int      `json:"non_finite"`

	// MinMassRatio is the smallest unweighted mass of a region (of exact mass ≥
	// zoo.CoverableMass) as a share of its exact mass.
	MinMassRatio float64  `json:"min_mass_ratio"`
	Coverage     int      `json:"coverage"`
	CoverageOf   int      `json:"coverage_of"`
	TV           float64  `json:"tv"`
	TVWeighted   *float64 `json:"weighted_tv,omitempty"`
	// TVNoise is the TV an exact sample of the weights' effective size (of N for unweighted
	// samples) would show on average: ½ Σ_c sqrt(2 p_c (1 − p_c) / (π n)), the normal
	// approximation of the multinomial.
	TVNoise    *float64 `json:"tv_noise,omitempty"`
	PPositive  *float64 `json:"p_positive,omitempty"` // manywell32: mean over copies
	PPositiveW *float64 `json:"weighted_p_positive,omitempty"`
	W2         *float64 `json:"w2,omitempty"`
	W2Floor    *float64 `json:"w2_floor,omitempty"`

	// DiagShare is the share of training time the diagnostics took (every 10th epoch), from
	// the median times of a plain and a weighed batch (DiagPlainMS, DiagWeighedMS).
	DiagShare     *float64 `json:"diagnostics_share,omitempty"`
	DiagPlainMS   float64  `json:"diagnostics_plain_ms,omitempty"`
	DiagWeighedMS float64  `json:"diagnostics_weighed_ms,omitempty"`
	// Pass says which targets of the benchmark the run met (adjoint runs only).
	Pass map[string]bool `json:"pass,omitempty"`
	// Error says why the run failed (a diverged network, say); the other targets still run.
	Error    string   `json:"error,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// zooLogZTolerance is the |log Z error| the benchmark aims at for each target.
func zooLogZTolerance(target string) float64 {
	switch target {
	case "funnel10":
		return 0.1
	case "manywell32":
		return 0.5
	}
	return 0.05
}

func benchZoo(args []string) error {
	fs := newFlagSet("bench zoo", "[--minutes M | --epochs E] [--targets a,b] [-n N] [--seed S] [--rule tuned|probe] [--chains C] [--no-mcmc] [-o DIR [--rescore ROWS.jsonl]] [--table FILE]")
	minutes := fs.Float64("minutes", 10, "training time per target")
	epochs := fs.Int("epochs", 0, "train each target this many epochs instead of --minutes (a budget that does not depend on the machine's load)")
	targets := fs.String("targets", strings.Join(zoo.Names(), ","), "comma-separated zoo targets")
	n := fs.Int("n", 20000, "samples drawn from each trained sampler and scored")
	seed := fs.Uint64("seed", 1, "seed of training, sampling and MCMC")
	rule := fs.String("rule", "tuned", "defaults: tuned (each target's own configuration, what adjoint train NAME uses) or probe (the rule a new system gets, adjoint.DefaultsFor)")
	noMCMC := fs.Bool("no-mcmc", false, "skip the MALA runs")
	rescore := fs.String("rescore", "", "train nothing: sample the checkpoints an earlier run wrote to -o DIR again and score them, with the adjoint rows of its output (JSON lines) for the training's figures")
	chains := fs.Int("chains", 4000, "MALA chains (one sample each)")
	dir := fs.String("o", "", "folder for each run's checkpoint, samples and log weights (none when empty)")
	tableOut := fs.String("table", "", "also write the markdown table to this file")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		fs.Usage()
		return fmt.Errorf("%w: unexpected argument %q", errUsage, pos[0])
	}
	if !(*minutes > 0) || *epochs < 0 || *n < 2 || *chains < 2 {
		return fmt.Errorf("%w: --minutes must be positive, --epochs not negative, -n and --chains at least 2", errUsage)
	}
	budget := adjoint.TrainOptions{Duration: time.Duration(*minutes * float64(time.Minute))}
	budgetText := fmt.Sprintf("%g min of training per target", *minutes)
	if *epochs > 0 {
		budget = adjoint.TrainOptions{Epochs: *epochs}
		budgetText = fmt.Sprintf("%d epochs of training per target", *epochs)
	}
	if *rule != "tuned" && *rule != "probe" {
		return fmt.Errorf("%w: --rule must be tuned or probe, got %q", errUsage, *rule)
	}
	names := strings.Split(*targets, ",")
	for _, name := range names {
		if !zoo.Known(name) {
			return fmt.Errorf("%w: unknown zoo target %q (known: %s)", errUsage, name, strings.Join(zoo.Names(), ", "))
		}
	}
	if *dir != "" {
		if err := os.MkdirAll(*dir, 0o755); err != nil {
			return fmt.Errorf("output folder: %w", err)
		}
		if err := outpath.Check(filepath.Join(*dir, "probe.ckpt"), "output folder"); err != nil {
			return err
		}
	}
	if *tableOut != "" {
		if err := checkOutputs("table", *tableOut); err != nil {
			return err
		}
	}
	ctx, done := progressToStderr()
	defer done()
	var rows []zooRow
	if *rescore != "" {
		if *dir == "" {
			return fmt.Errorf("%w: --rescore needs -o DIR, the folder of the run's checkpoints", errUsage)
		}
		return benchZooRescore(ctx, *rescore, *n, *chains, *seed, *dir, *tableOut, *noMCMC)
	}
	for _, name := range names {
		t, _ := zoo.Lookup(name)
		row, evals, err := benchZooAdjoint(ctx, t, *rule, budget, *n, *seed, *dir)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			// a failed target is a result: record it and go on with the others
			row = zooRow{Target: name, Method: "adjoint", Rule: *rule, Seed: *seed, Error: err.Error()}
			rows = append(rows, row)
			if err := emitJSON(row); err != nil {
				return err
			}
			continue
		}
		rows = append(rows, row)
		if err := emitJSON(row); err != nil {
			return err
		}
		if *noMCMC {
			continue
		}
		mrow, err := benchZooMALA(ctx, t, evals, *chains, *seed, *dir)
		if err != nil {
			return fmt.Errorf("%s: mcmc: %w", name, err)
		}
		rows = append(rows, mrow)
		if err := emitJSON(mrow); err != nil {
			return err
		}
	}
	return writeZooTable(rows, budgetText, *tableOut)
}

func writeZooTable(rows []zooRow, note, path string) error {
	table := zooTable(rows, note)
	fmt.Fprint(os.Stderr, table)
	if path != "" {
		if err := os.WriteFile(path, []byte(table), 0o644); err != nil {
			return fmt.Errorf("table: %w", err)
		}
	}
	return nil
}

// benchZooRescore reads the adjoint rows of an earlier run whose checkpoints are in dir, draws
// n samples from each checkpoint and scores them again (keeping the training's epochs, time,
// evaluations and diagnostics cost), then runs the MALA rows of the same evaluations.
func benchZooRescore(ctx context.Context, path string, n, chains int, seed uint64, dir, tableOut string, noMCMC bool) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--rescore: %w", err)
	}
	var rows []zooRow
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r zooRow
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return fmt.Errorf("--rescore %s line %d: %w", path, i+1, err)
		}
		if r.Method != "adjoint" || r.Error != "" {
			continue
		}
		t, err := zoo.Lookup(r.Target)
		if err != nil {
			return fmt.Errorf("--rescore %s line %d: %w", path, i+1, err)
		}
		s, err := loadSampler(filepath.Join(dir, r.Target+".ckpt"))
		if err != nil {
			return fmt.Errorf("--rescore: %w", err)
		}
		a := zooRow{Target: r.Target, Method: r.Method, Rule: r.Rule, Seed: seed, Epochs: r.Epochs, Seconds: r.Seconds,
			Evals: r.Evals - int64(r.N), DiagShare: r.DiagShare, DiagPlainMS: r.DiagPlainMS, DiagWeighedMS: r.DiagWeighedMS}
		if err := sampleZoo(ctx, &a, s, t, n, seed, dir); err != nil {
			return fmt.Errorf("%s: %w", r.Target, err)
		}
		if err := emitJSON(a); err != nil {
			return err
		}
		rows = append(rows, a)
		if noMCMC {
			continue
		}
		m, err := benchZooMALA(ctx, t, a.Evals, chains, seed, dir)
		if err != nil {
			return fmt.Errorf("%s: mcmc: %w", r.Target, err)
		}
		if err := emitJSON(m); err != nil {
			return err
		}
		rows = append(rows, m)
	}
	if len(rows) == 0 {
		return fmt.Errorf("--rescore %s: no adjoint rows", path)
	}
	return writeZooTable(rows, "checkpoints of "+path+" sampled again", tableOut)
}

// benchZooAdjoint trains target t within the budget (its Duration or Epochs), draws n samples and
// scores them; it returns the row and the energy evaluations spent (training and sampling).
func benchZooAdjoint(ctx context.Context, t *zoo.Target, rule string, budget adjoint.TrainOptions, n int, seed uint64, dir string) (zooRow, int64, error) {
	sys, err := t.System()
	if err != nil {
		return zooRow{}, 0, err
	}
	var cfg adjoint.Config
	if rule == "probe" {
		// the rule a new system gets: the same energy under a name without a tuned configuration
		probe := *sys
		probe.Name = sys.Name + "-as-new"
		if cfg, _, err = adjoint.DefaultsFor(&probe, int64(seed)); err != nil {
			return zooRow{}, 0, err
		}
		cfg.System = sys
	} else {
		cfg = adjoint.DefaultConfig(sys)
	}
	cfg.Seed = int64(seed)
	s, err := adjoint.NewSampler(cfg)
	if err != nil {
		return zooRow{}, 0, err
	}
	opt := budget
	if dir != "" {
		opt.Checkpoint = filepath.Join(dir, t.Name+".ckpt")
	}
	rep, err := s.Train(ctx, opt)
	if err != nil {
		return zooRow{}, 0, err
	}
	cost, err := s.MeasureDiagnosticsCost(ctx, 15)
	if err != nil {
		return zooRow{}, 0, err
	}
	row := zooRow{Target: t.Name, Method: "adjoint", Rule: rule, Seed: seed, Epochs: rep.TotalEpochs,
		Evals: rep.EnergyEvals, Seconds: rep.Wall.Seconds()}
	row.DiagPlainMS, row.DiagWeighedMS = cost.Plain.Seconds()*1e3, cost.Weighed.Seconds()*1e3
	if rep.Epochs > 0 {
		row.DiagShare = finite(cost.Share(10, rep.Wall/time.Duration(rep.Epochs)))
	}
	if err := sampleZoo(ctx, &row, s, t, n, seed, dir); err != nil {
		return zooRow{}, 0, err
	}
	return row, row.Evals, nil
}

// sampleZoo draws n samples from s, scores them into row (whose Evals hold the training's
// evaluations; the draws are added) and sets its pass flags.
func sampleZoo(ctx context.Context, row *zooRow, s *adjoint.Sampler, t *zoo.Target, n int, seed uint64, dir string) error {
	sm, err := s.SampleContext(ctx, n)
	if err != nil {
		return err
	}
	row.N, row.Evals = n, row.Evals+int64(n)
	d := sm.Diagnostics()
	row.ESSFraction, row.MaxShare, row.NonFinite = finite(d.ESSFraction), finite(d.MaxShare), d.NonFinite
	row.ParetoK = finite(d.ParetoK)
	row.LogZError, row.LogZSE = finite(d.LogZ-mustExact(t).LogZ), finite(d.LogZSE)
	row.Warnings = sm.Warnings()
	if dir != "" {
		if err := writeZooSamples(dir, t.Name, sm.X, sm.LogW, s.Config().System.Dim()); err != nil {
			return err
		}
	}
	// with defensive rows, the unweighted columns describe the model's own rows, not the
	// Student-t's
	if err := scoreZoo(row, t, sm.X, sm.LogW, sm.Defensive, seed); err != nil {
		return err
	}
	row.Defensive = sm.Defensive
	tol := zooLogZTolerance(t.Name)
	row.Pass = map[string]bool{
		"no_collapse":     row.MinMassRatio >= zoo.CoverageFraction,
		"weighted_tv":     row.TVWeighted != nil && *row.TVWeighted <= 0.05,
		"log_z":           row.LogZError != nil && math.Abs(*row.LogZError) <= tol,
		"diagnostics_5pc": row.DiagShare != nil && *row.DiagShare <= 0.05,
	}
	if row.PPositiveW != nil {
		row.Pass["p_positive"] = math.Abs(*row.PPositiveW-mustExact(t).PPositive) <= 0.02
	}
	return nil
}

// benchZooMALA runs plain MALA on target t with about evals energy evaluations: n chains
// started from N(0, s² I) with s the spread Probe measures (uniform on a periodic box; the
// probe's evaluations count), annealed from 3τ over the first half of the warm-up, each kept
// after its last step.
func benchZooMALA(ctx context.Context, t *zoo.Target, evals int64, n int, seed uint64, dir string) (zooRow, error) {
	sys, err := t.System()
	if err != nil {
		return zooRow{}, err
	}
	// broad starts: N(0, spread² I) with the probe's spread (uniform on a periodic box), so
	// that the chains can reach every mode; the probe's evaluations count
	pr, err := adjoint.Probe(sys, int64(seed))
	if err != nil {
		return zooRow{}, err
	}
	dim := sys.Dim()
	init := make([]float64, n*dim)
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	for i := range init {
		if len(sys.Box) > 0 {
			init[i] = (rng.Float64() - 0.5) * sys.Box[i%len(sys.Box)]
		} else {
			init[i] = pr.Spread * rng.NormFloat64()
		}
	}
	// each chain evaluates its start, then one energy per step: burn steps and the kept one
	burn := int(max((evals-pr.Evals)/int64(n)-2, 1))
	res, err := mcmc.SampleContext(ctx, sys, mcmc.Options{Method: mcmc.MALA, Samples: n, Chains: n, Burn: burn, Thin: 1,
		AnnealFrom: 3, Seed: seed, Init: init, ProgressTitle: "mala " + t.Name})
	if err != nil {
		return zooRow{}, err
	}
	row := zooRow{Target: t.Name, Method: "mala", Seed: seed, Evals: res.Evals + pr.Evals, ProbeEvals: pr.Evals, Seconds: res.Seconds, N: res.N}
	if dir != "" {
		if err := writeZooSamples(dir, t.Name+"-mala", res.Samples, nil, sys.Dim()); err != nil {
			return zooRow{}, err
		}
	}
	return row, scoreZoo(&row, t, res.Samples, nil, 0, seed)
}

// scoreZoo fills the row's scores from the zoo's evaluation of samples x (weights logw or nil;
// the last defensive rows enter the weighted columns only).
func scoreZoo(row *zooRow, t *zoo.Target, x, logw []float64, defensive int, seed uint64) error {
	r, err := t.Evaluate(x, logw, zoo.EvalOptions{Seed: seed, Floor: true, Defensive: defensive})
	if err != nil {
		return err
	}
	row.MinMassRatio = math.Inf(1)
	for _, g := range r.Regions {
		if g.Exact >= zoo.CoverableMass {
			row.MinMassRatio = math.Min(row.MinMassRatio, g.Unweighted/g.Exact)
		}
	}
	row.Coverage, row.CoverageOf, row.TV, row.TVWeighted = r.Coverage, r.CoverageOf, r.TV, r.TVWeighted
	row.W2, row.W2Floor = r.W2, r.W2Floor
	eff := float64(r.N)
	if logw != nil && row.ESSFraction != nil {
		eff = *row.ESSFraction * float64(row.N)
	}
	if eff > 0 {
		var noise float64
		for _, g := range r.Regions {
			noise += 0.5 * math.Sqrt(2*g.Exact*(1-g.Exact)/(math.Pi*eff))
		}
		row.TVNoise = &noise
	}
	if len(r.PPositive) > 0 {
		row.PPositive = finite(meanFloat(r.PPositive))
	}
	if len(r.PPositiveW) > 0 {
		row.PPositiveW = finite(meanFloat(r.PPositiveW))
	}
	return nil
}

func writeZooSamples(dir, name string, x, logw []float64, dim int) error {
	rows := len(x) / dim
	if err := npy.WriteFile(filepath.Join(dir, name+".npy"), []int{rows, dim}, x, npy.Float32); err != nil {
		return err
	}
	if logw == nil {
		return nil
	}
	return npy.WriteFile(filepath.Join(dir, name+"-logw.npy"), []int{rows}, logw, npy.Float64)
}

func mustExact(t *zoo.Target) *zoo.Exact {
	ex, err := t.Exact()
	if err != nil {
		return &zoo.Exact{LogZ: math.NaN(), PPositive: math.NaN()}
	}
	return ex
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func meanFloat(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// zooTable renders the rows as the markdown table of docs/validation.md.
func zooTable(rows []zooRow, note string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n| target | method | evals | time | ESS / N | log Z error ± se | min mass / exact | covered | TV | weighted TV (noise) | P(x>0) (weighted) | W2 (floor) | diag. share |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	f := func(p *float64, format string) string {
		if p == nil {
			return "–"
		}
		return fmt.Sprintf(format, *p)
	}
	for _, r := range rows {
		if r.Error != "" {
			fmt.Fprintf(&b, "| %s | %s | failed: %s |||||||||||\n", r.Target, r.Method, r.Error)
			continue
		}
		method := r.Method
		if r.Method == "adjoint" {
			method = fmt.Sprintf("adjoint (%s, %d epochs)", r.Rule, r.Epochs)
			if r.Defensive > 0 {
				method = fmt.Sprintf("adjoint (%s, %d epochs; %d of %d samples defensive, unweighted columns without them)", r.Rule, r.Epochs, r.Defensive, r.N)
			}
		}
		lz := "–"
		if r.LogZError != nil {
			lz = fmt.Sprintf("%+.3f ± %s", *r.LogZError, f(r.LogZSE, "%.3f"))
		}
		pp := "–"
		if r.PPositive != nil {
			pp = fmt.Sprintf("%.3f (%s)", *r.PPositive, f(r.PPositiveW, "%.3f"))
		}
		tvw := "–"
		if r.TVWeighted != nil {
			tvw = fmt.Sprintf("%.3f (%s)", *r.TVWeighted, f(r.TVNoise, "%.3f"))
		}
		w2 := "–"
		if r.W2 != nil {
			w2 = fmt.Sprintf("%.3g (%s)", *r.W2, f(r.W2Floor, "%.3g"))
		}
		fmt.Fprintf(&b, "| %s | %s | %.3g | %.3g s | %s | %s | %.2f | %d/%d | %.3f | %s | %s | %s | %s |\n",
			r.Target, method, float64(r.Evals), r.Seconds, f(r.ESSFraction, "%.3f"), lz, r.MinMassRatio,
			r.Coverage, r.CoverageOf, r.TV, tvw, pp, w2, f(r.DiagShare, "%.3f"))
	}
	fmt.Fprintf(&b, "\n%s; MALA runs with the adjoint run's energy evaluations.\n", note)
	return b.String()
}

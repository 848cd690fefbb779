package adjoint

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// DefensiveNu is the degrees of freedom of the defensive component's Student-t (SetDefensive):
// tails heavy enough to reach a target's tails that the learned SDE cuts off, with all the
// coordinates' scales drawn together (a funnel's mouth is wide in every x at once).
const DefensiveNu = 3

// SetDefensive makes Sample draw a share alpha ∈ [0, 1) of its samples from a broad
// multivariate Student-t (DefensiveNu degrees of freedom) instead of the learned SDE, and
// weigh every sample against the mixture of the two (defensive importance sampling): where
// the SDE puts almost no mass but the target has some (a funnel's tails), the t's draws carry
// it with bounded weights, and log Z and weighted estimates take it in instead of missing it
// without a sign. The t is centred at the SDE samples' weighted mean, with scale the sum of
// their weighted and unweighted covariances. The weights of the mixture are
//
//	w = exp(−E/τ) / [(1 − α) q(x) + α g(x)],
//
// with q(x)/p_1^base(x) read from a path of the controlled chain (the SDE's own path for its
// draws; a bridge of the base chain, sde.Space.BridgeLogRatio, for the t's draws), so it is
// unbiased like the SDE's own weights and no weight exceeds 1/(1 − α) times what the SDE alone
// would give it. The t's draws are the last rows of the Samples (Samples.Defensive); they are
// not samples of the model, so use the weights or resample. 0 (the default) draws from the SDE
// alone. Systems with translation symmetry or a periodic box are refused.
func (s *Sampler) SetDefensive(alpha float64) error {
	if err := s.cfg.checkDefensive(alpha); err != nil {
		return err
	}
	s.cfg.Defensive = alpha
	return nil
}

// studentT is a multivariate Student-t: location mu, scale S = L·Lᵀ, nu degrees of freedom.
type studentT struct {
	d       int
	nu      float64
	mu      []float64
	chol    mat.Cholesky
	lower   *mat.TriDense
	logNorm float64       // log Γ((ν+d)/2) − log Γ(ν/2) − (d/2)·log(νπ) − ½·log det S
	r, y    *mat.VecDense // logPDF's scratch: x − μ and L⁻¹(x − μ)
}

// fitDefensive fits the defensive Student-t to n rows x (dimension d) with log weights logw.
func fitDefensive(x, logw []float64, d int) (*studentT, error) {
	n := len(x) / d
	w, _, used := scaledWeights(logw)
	muW, muU := make([]float64, d), make([]float64, d)
	var ws float64
	rows := 0
	for i := range n {
		r := x[i*d : (i+1)*d]
		if !finiteRow(r) {
			continue
		}
		rows++
		for j, v := range r {
			muU[j] += v
			muW[j] += w[i] * v
		}
		ws += w[i]
	}
	if rows < 2 {
		return nil, fmt.Errorf("defensive component: %d finite samples to fit it to", rows)
	}
	weighted := used > 0 && ws > 0
	for j := range d {
		muU[j] /= float64(rows)
		if weighted {
			muW[j] /= ws
		} else {
			muW[j] = muU[j]
		}
	}
	S := mat.NewSymDense(d, nil)
	for i := range n {
		r := x[i*d : (i+1)*d]
		if !finiteRow(r) {
			continue
		}
		for a := range d {
			for b := a; b < d; b++ {
				v := (r[a] - muU[a]) * (r[b] - muU[b]) / float64(rows)
				if weighted {
					v += w[i] / ws * (r[a] - muW[a]) * (r[b] - muW[b])
				}
				S.SetSym(a, b, S.At(a, b)+v)
			}
		}
	}
	var tr float64
	for a := range d {
		tr += S.At(a, a)
	}
	ridge := 1e-9*tr/float64(d) + 1e-12
	for a := range d {
		S.SetSym(a, a, S.At(a, a)+ridge)
	}
	g := &studentT{d: d, nu: DefensiveNu, mu: muW}
	if !g.chol.Factorize(S) {
		return nil, fmt.Errorf("defensive component: the samples' covariance is not positive definite")
	}
	g.lower = mat.NewTriDense(d, mat.Lower, nil)
	g.chol.LTo(g.lower)
	lgA, _ := math.Lgamma((g.nu + float64(d)) / 2)
	lgB, _ := math.Lgamma(g.nu / 2)
	g.logNorm = lgA - lgB - float64(d)/2*math.Log(g.nu*math.Pi) - 0.5*g.chol.LogDet()
	return g, nil
}

func finiteRow(r []float64) bool {
	for _, v := range r {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// sample fills out (rows of d) with draws: μ + L·z / sqrt(χ²_ν/ν).
func (g *studentT) sample(rng *rand.Rand, out []float64) {
	z := make([]float64, g.d)
	for i := 0; i+g.d <= len(out); i += g.d {
		for j := range z {
			z[j] = rng.NormFloat64()
		}
		var chi float64
		for range int(g.nu) {
			v := rng.NormFloat64()
			chi += v * v
		}
		f := 1 / math.Sqrt(chi/g.nu)
		for a := range g.d {
			var v float64
			for b := 0; b <= a; b++ {
				v += g.lower.At(a, b) * z[b]
			}
			out[i+a] = g.mu[a] + f*v
		}
	}
}

// logPDF is the log density at the row x (not safe for concurrent use: it reuses scratch).
func (g *studentT) logPDF(x []float64) float64 {
	if g.r == nil {
		g.r, g.y = mat.NewVecDense(g.d, nil), mat.NewVecDense(g.d, nil)
	}
	for j := range g.d {
		g.r.SetVec(j, x[j]-g.mu[j])
	}
	if err := g.y.SolveVec(g.lower, g.r); err != nil {
		return math.Inf(-1)
	}
	d2 := mat.Dot(g.y, g.y)
	return g.logNorm - (g.nu+float64(g.d))/2*math.Log1p(d2/g.nu)
}

// sampleDefensive completes a draw under SetDefensive: out holds nQ rows of the SDE with their
// Girsanov sums in path (log dP_base/dQ along each path) and energies; it appends the t's nG
// rows and sets every log weight against the mixture.
func (s *Sampler) sampleDefensive(ctx context.Context, out *Samples, path []float64, nQ, nG int) error {
	nd := s.space.Dim()
	g, err := fitDefensive(out.X[:nQ*nd], out.LogW[:nQ], nd)
	if err != nil {
		return err
	}
	xg := make([]float64, nG*nd)
	g.sample(s.rng, xg)
	ctl := s.control(ctx)
	for lo := 0; lo < nG; lo += s.cfg.Batch {
		hi := min(lo+s.cfg.Batch, nG)
		if err := s.space.BridgeLogRatio(s.rng, s.cfg.Schedule, s.cfg.Steps, s.cfg.Integrator == IntegratorKappa,
			xg[lo*nd:hi*nd], ctl, path[nQ+lo:nQ+hi]); err != nil {
			return err
		}
	}
	s.counter.EnergyGrad(xg, out.Energy[nQ:], nil)
	out.X = append(out.X, xg...)
	n := nQ + nG
	lp := make([]float64, n)
	s.space.BaseLogDensity(out.X, s.baseKappa(), lp)
	tau := s.cfg.System.Tau()
	la, lb := math.Log(float64(nQ)/float64(n)), math.Log(float64(nG)/float64(n))
	for i := range n {
		// log[(1−α) q/p + α g/p], q/p = exp(−path): the mixture's density over the base's
		mix := logAddExp(la-path[i], lb+g.logPDF(out.X[i*nd:(i+1)*nd])-lp[i])
		out.LogW[i] = -out.Energy[i]/tau - lp[i] - mix
	}
	out.Defensive = nG
	return nil
}

// logAddExp is log(e^a + e^b).
func logAddExp(a, b float64) float64 {
	if math.IsInf(a, -1) {
		return b
	}
	if math.IsInf(b, -1) {
		return a
	}
	if a < b {
		a, b = b, a
	}
	return a + math.Log1p(math.Exp(b-a))
}

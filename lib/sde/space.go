package sde

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// WrapImages is the number of images on each side summed in the wrapped-normal density and
// offered to the bridge's image selection (k = −6..6).
const WrapImages = 6

// Space is the state space of a system: n particles in d dimensions, optionally restricted to
// the zero centre-of-mass subspace (Translation) or wrapped on a periodic box (Box, one length
// per coordinate, coordinates kept in (−L/2, L/2]).
type Space struct {
	Particles, SpatialDim int
	Translation           bool
	Box                   []float64
}

// Validate checks the space.
func (sp Space) Validate() error {
	if sp.Particles < 1 || sp.SpatialDim < 1 {
		return fmt.Errorf("sde: space of %d particles in %d dimensions", sp.Particles, sp.SpatialDim)
	}
	if len(sp.Box) > 0 {
		if len(sp.Box) != sp.SpatialDim {
			return fmt.Errorf("sde: periodic box has %d lengths for %d dimensions", len(sp.Box), sp.SpatialDim)
		}
		if sp.Translation {
			return fmt.Errorf("sde: a periodic box with centre-of-mass removal is not supported")
		}
		for i, l := range sp.Box {
			if !(l > 0) || math.IsInf(l, 0) {
				return fmt.Errorf("sde: box length %d is %g", i, l)
			}
		}
	}
	if sp.Translation && sp.Particles < 2 {
		return fmt.Errorf("sde: centre-of-mass removal needs at least 2 particles")
	}
	return nil
}

// Dim returns n·d.
func (sp Space) Dim() int { return sp.Particles * sp.SpatialDim }

// EffectiveDim is the dimension of the space: (n−1)·d with translation symmetry, n·d otherwise.
func (sp Space) EffectiveDim() int {
	if sp.Translation {
		return (sp.Particles - 1) * sp.SpatialDim
	}
	return sp.Dim()
}

// Periodic reports whether the space is a torus.
func (sp Space) Periodic() bool { return len(sp.Box) > 0 }

// Project applies the linear projection of the space to a batch of vectors (states, noise,
// gradients, controls): it removes the per-state mean over particles when Translation is set.
// It does not wrap (see Wrap).
func (sp Space) Project(x []float64) {
	if sp.Translation {
		RemoveCoM(x, sp.Particles, sp.SpatialDim)
	}
}

// Wrap maps a batch of states into the box, each coordinate into (−L/2, L/2]; no-op when the
// space is not periodic.
func (sp Space) Wrap(x []float64) {
	if len(sp.Box) > 0 {
		Wrap(x, sp.Box)
	}
}

// RemoveCoM subtracts from each of the len(x)/(n·d) configurations its mean over particles.
func RemoveCoM(x []float64, n, d int) {
	nd := n * d
	var buf [8]float64
	mean := buf[:0]
	if d <= len(buf) {
		mean = buf[:d]
	} else {
		mean = make([]float64, d)
	}
	for k := 0; k+nd <= len(x); k += nd {
		xs := x[k : k+nd]
		clear(mean)
		for i := range n {
			for c := range d {
				mean[c] += xs[i*d+c]
			}
		}
		for c := range d {
			mean[c] /= float64(n)
		}
		for i := range n {
			for c := range d {
				xs[i*d+c] -= mean[c]
			}
		}
	}
}

// Wrap maps every coordinate x[j] (coordinate c = j mod len(box)) into (−L/2, L/2], L = box[c].
func Wrap(x []float64, box []float64) {
	d := len(box)
	for j, v := range x {
		x[j] = WrapValue(v, box[j%d])
	}
}

// WrapValue maps v into (−l/2, l/2] by adding a multiple of l: the periodic wrap of one
// coordinate (Wrap applies it to configurations).
func WrapValue(v, l float64) float64 {
	if v > -l/2 && v <= l/2 {
		return v
	}
	v -= l * math.Floor(v/l+0.5)
	if v <= -l/2 {
		v += l
	}
	return v
}

// ClipPerParticle scales each particle's d-vector in g down to norm ≤ maxNorm (no-op when
// maxNorm ≤ 0); infinite components keep their direction. NaN stays NaN. It returns the number
// of vectors clipped.
func ClipPerParticle(g []float64, d int, maxNorm float64) int {
	if !(maxNorm > 0) {
		return 0
	}
	clipped := 0
	for i := 0; i+d <= len(g); i += d {
		var s, mx float64
		for _, v := range g[i : i+d] {
			s += v * v
			mx = math.Max(mx, math.Abs(v))
		}
		if s > maxNorm*maxNorm {
			if math.IsInf(mx, 1) {
				// infinite components: keep their direction
				for c := i; c < i+d; c++ {
					switch {
					case math.IsInf(g[c], 0):
						g[c] = math.Copysign(1, g[c])
					default:
						g[c] = 0
					}
				}
				mx = 1
			}
			// rescale first so that the norm does not overflow
			var s2 float64
			for c := i; c < i+d; c++ {
				s2 += (g[c] / mx) * (g[c] / mx)
			}
			f := maxNorm / (mx * math.Sqrt(s2))
			for c := i; c < i+d; c++ {
				g[c] *= f
			}
			clipped++
		}
	}
	return clipped
}

// Normal fills x with independent standard normal draws, projected onto the space (the noise
// of the base process).
func (sp Space) Normal(rng *rand.Rand, x []float64) {
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	sp.Project(x)
}

// SampleBase draws a batch of base-process states X_t ~ N(0, κ I) (projected; wrapped on a
// torus, giving the wrapped normal).
func (sp Space) SampleBase(rng *rand.Rand, kappa float64, x []float64) {
	sp.Normal(rng, x)
	s := math.Sqrt(math.Max(kappa, 0))
	for i := range x {
		x[i] *= s
	}
	sp.Wrap(x)
}

// BaseLogDensity writes into out (one per state) the log density of the base marginal
// N(0, κ I) on the space: on the zero-CoM subspace of dimension (n−1)·d with translation
// symmetry, the wrapped normal (images k = −6..6) per coordinate on a torus.
func (sp Space) BaseLogDensity(x []float64, kappa float64, out []float64) {
	nd := sp.Dim()
	deff := float64(sp.EffectiveDim())
	for k := range out {
		xs := x[k*nd : (k+1)*nd]
		if sp.Periodic() {
			var s float64
			for j, v := range xs {
				s += logWrappedNormal(v, kappa, sp.Box[j%sp.SpatialDim])
			}
			out[k] = s
			continue
		}
		var r2 float64
		for _, v := range xs {
			r2 += v * v
		}
		out[k] = -0.5*r2/kappa - 0.5*deff*math.Log(2*math.Pi*kappa)
	}
}

// BaseScore writes ∇ log p_t^base(x) for a batch into g: −x/κ, or the wrapped-normal score on a
// torus.
func (sp Space) BaseScore(x []float64, kappa float64, g []float64) {
	if !sp.Periodic() {
		for i, v := range x {
			g[i] = -v / kappa
		}
		return
	}
	d := sp.SpatialDim
	for i, v := range x {
		l := sp.Box[i%d]
		// score = Σ_k w_k · (−(v + kL)/κ) with w_k ∝ N(v + kL; 0, κ)
		var mx = math.Inf(-1)
		for k := -WrapImages; k <= WrapImages; k++ {
			y := v + float64(k)*l
			mx = math.Max(mx, -0.5*y*y/kappa)
		}
		var z, s float64
		for k := -WrapImages; k <= WrapImages; k++ {
			y := v + float64(k)*l
			w := math.Exp(-0.5*y*y/kappa - mx)
			z += w
			s += w * (-y / kappa)
		}
		g[i] = s / z
	}
}

func logWrappedNormal(v, kappa, l float64) float64 {
	mx := math.Inf(-1)
	for k := -WrapImages; k <= WrapImages; k++ {
		y := v + float64(k)*l
		mx = math.Max(mx, -0.5*y*y/kappa)
	}
	var z float64
	for k := -WrapImages; k <= WrapImages; k++ {
		y := v + float64(k)*l
		z += math.Exp(-0.5*y*y/kappa - mx)
	}
	return mx + math.Log(z) - 0.5*math.Log(2*math.Pi*kappa)
}

// BridgeMoments returns, for the base process pinned at X_0 = 0 and X_1 = x1, the coefficient γ
// and the variance v of X_t = γ x1 + sqrt(v) ε: γ = κ(t)/κ(1), v = κ(1) γ (1 − γ) (clamped at 0).
func BridgeMoments(s Schedule, t float64) (gamma, variance float64) {
	k1 := s.Kappa(1)
	gamma = math.Min(math.Max(s.Kappa(t)/k1, 0), 1)
	variance = math.Max(k1*gamma*(1-gamma), 0)
	return gamma, variance
}

// Bridge draws X_t of the base bridge from 0 (at time 0) to x1 (at time 1) for one state (n·d
// numbers) into out, with projected noise. On a torus it first picks, per coordinate, the image
// x1 + kL with probability ∝ N(x1 + kL; 0, κ(1)), draws the Euclidean bridge to that image, and
// wraps the result.
func (sp Space) Bridge(rng *rand.Rand, s Schedule, t float64, x1, out []float64) {
	gamma, v := BridgeMoments(s, t)
	sd := math.Sqrt(v)
	sp.Normal(rng, out)
	if !sp.Periodic() {
		for i, x := range x1 {
			out[i] = gamma*x + sd*out[i]
		}
		return
	}
	k1 := s.Kappa(1)
	d := sp.SpatialDim
	var w [2*WrapImages + 1]float64
	for i, x := range x1 {
		l := sp.Box[i%d]
		mx := math.Inf(-1)
		for k := -WrapImages; k <= WrapImages; k++ {
			y := x + float64(k)*l
			w[k+WrapImages] = -0.5 * y * y / k1
			mx = math.Max(mx, w[k+WrapImages])
		}
		var z float64
		for j := range w {
			w[j] = math.Exp(w[j] - mx)
			z += w[j]
		}
		u := rng.Float64() * z
		pick := len(w) - 1
		for j := range w {
			u -= w[j]
			if u < 0 {
				pick = j
				break
			}
		}
		y := x + float64(pick-WrapImages)*l
		out[i] = WrapValue(gamma*y+sd*out[i], l)
	}
}

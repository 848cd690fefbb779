package sde

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Control writes the control u(x, t) of a batch of states x into u (same length); the drift of
// the SDE is σ(t)·u.
type Control func(x []float64, t float64, u []float64) error

// Integrate runs Euler–Maruyama with a uniform grid of steps steps over [0, 1] on the batch x
// (in place; usually zeros, the Dirac start):
//
//	X_{k+1} = Π[X_k + σ(t_k) u(X_k, t_k) Δt + σ(t_k) sqrt(Δt) ξ_k]
//
// where Π projects (centre of mass) and wraps (torus), and u is projected too. control nil is
// the base process. When logw (one per state) is not nil, the Girsanov path terms
// Σ_k [−u_k·ξ_k sqrt(Δt) − ½‖u_k‖² Δt] are added to it, with ξ_k the projected noise drawn.
// The noise is drawn from rng in a fixed order, so a seed fixes the result.
func (sp Space) Integrate(rng *rand.Rand, s Schedule, steps int, x []float64, control Control, logw []float64) error {
	nd := sp.Dim()
	if steps < 1 {
		return fmt.Errorf("sde: %d integration steps", steps)
	}
	if nd == 0 || len(x)%nd != 0 {
		return fmt.Errorf("sde: batch of %d numbers is not a multiple of the state size %d", len(x), nd)
	}
	b := len(x) / nd
	if logw != nil && len(logw) != b {
		return fmt.Errorf("sde: %d log weights for %d states", len(logw), b)
	}
	sp.Project(x)
	sp.Wrap(x)
	dt := 1 / float64(steps)
	sq := math.Sqrt(dt)
	xi := make([]float64, len(x))
	var u []float64
	if control != nil {
		u = make([]float64, len(x))
	}
	for k := range steps {
		t := float64(k) * dt
		sig := s.Sigma(t)
		sp.Normal(rng, xi)
		if control != nil {
			if err := control(x, t, u); err != nil {
				return fmt.Errorf("sde: control at t = %g: %w", t, err)
			}
			sp.Project(u)
			if logw != nil {
				for j := range b {
					var dot, uu float64
					for i := j * nd; i < (j+1)*nd; i++ {
						dot += u[i] * xi[i]
						uu += u[i] * u[i]
					}
					logw[j] += -dot*sq - 0.5*uu*dt
				}
			}
			for i := range x {
				x[i] += sig * (u[i]*dt + sq*xi[i])
			}
		} else {
			for i := range x {
				x[i] += sig * sq * xi[i]
			}
		}
		sp.Project(x)
		sp.Wrap(x)
	}
	return nil
}

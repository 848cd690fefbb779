package mcmc

import (
	"fmt"
	"math"

	"adjoint/lib/display"
	"adjoint/lib/energy"
	"adjoint/lib/sde"
)

// Identities are the integration-by-parts checks of a Boltzmann density p ∝ exp(−E/τ) on a
// space of dimension d_eff ((n−1)·d for translation-invariant particle systems):
// E[x·∇E] = τ·d_eff and E[‖∇E‖²] = τ·E[ΔE]. Exact samples satisfy both up to sampling error.
// For translation-symmetric systems the energy itself must be translation invariant (as DW-4
// and LJ-n are): the full-space Laplacian then equals the one on the zero-CoM space. On a
// periodic box only the second identity holds (the torus has no boundary, but x is not a
// function on it): the virial is not computed there.
type Identities struct {
	System     string  `json:"system"`
	N          int     `json:"n"`
	DEff       int     `json:"d_eff"`
	Tau        float64 `json:"tau"`
	Periodic   bool    `json:"periodic,omitempty"` // a torus: no virial identity
	Virial     float64 `json:"virial"`             // mean of x·∇E / τ (expect DEff; 0 on a torus)
	VirialSE   float64 `json:"virial_se"`          // its standard error (independent samples assumed)
	GradSq     float64 `json:"grad_sq"`            // mean of ‖∇E‖²
	Laplacian  float64 `json:"laplacian"`          // mean of ΔE (central differences of the gradient)
	Ratio      float64 `json:"ratio"`              // GradSq / (τ·Laplacian) (expect 1)
	RatioSE    float64 `json:"ratio_se"`
	MeanEnergy float64 `json:"mean_energy"`
	SDEnergy   float64 `json:"sd_energy"`
	Dropped    int     `json:"dropped"`
	StepFD     float64 `json:"fd_step"`
}

// Table shows the checks.
func (id *Identities) Table() *display.Table {
	t := &display.Table{Caption: "Boltzmann identities, " + id.System, Header: []string{"identity", "measured", "± se", "expected"}}
	if id.Periodic {
		t.AddRow("E[x·∇E]/τ", "n/a on a torus", "", "")
	} else {
		t.AddRow("E[x·∇E]/τ", id.Virial, id.VirialSE, id.DEff)
	}
	t.AddRow("E[‖∇E‖²] / (τ E[ΔE])", id.Ratio, id.RatioSE, 1.0)
	t.AddRow("mean energy (sd)", id.MeanEnergy, id.SDEnergy, "")
	t.AddRow("samples", id.N, "", "")
	return t
}

// MIMEBundle renders the table.
func (id *Identities) MIMEBundle() display.Bundle { return id.Table().MIMEBundle() }

// CheckIdentities evaluates the identities on samples x (row-major, sys.Dim() numbers each).
// Configurations with non-finite coordinates or energies are dropped and counted. The
// Laplacian costs 2·dim gradient evaluations per sample; maxN > 0 uses only the first maxN
// samples for it (and for everything else, so that all numbers refer to the same samples).
func CheckIdentities(sys *energy.System, x []float64, maxN int) (*Identities, error) {
	if sys == nil || sys.Validate() != nil {
		return nil, fmt.Errorf("mcmc: identities: invalid system")
	}
	n, d := sys.Energy.Particles(), sys.Energy.SpatialDim()
	dim := n * d
	if len(x)%dim != 0 || len(x) == 0 {
		return nil, fmt.Errorf("mcmc: identities: %d numbers are not whole configurations of dimension %d", len(x), dim)
	}
	b := len(x) / dim
	if maxN > 0 {
		b = min(b, maxN)
	}
	tau := sys.Tau()
	id := &Identities{System: sys.Name, Tau: tau, DEff: dim, StepFD: 1e-4, Periodic: sys.Periodic()}
	proj := sys.Symmetry.Translation && n > 1
	if proj {
		id.DEff = (n - 1) * d
	}
	proj = proj && !id.Periodic // on a torus the samples stay as they are
	// Clean copy, projected to zero CoM.
	xs := make([]float64, 0, b*dim)
	for c := range b {
		cfg := x[c*dim : (c+1)*dim]
		ok := true
		for _, v := range cfg {
			if !finite(v) {
				ok = false
				break
			}
		}
		if !ok {
			id.Dropped++
			continue
		}
		xs = append(xs, cfg...)
	}
	b = len(xs) / dim
	if proj {
		for c := range b {
			sde.RemoveCoM(xs[c*dim:(c+1)*dim], n, d)
		}
	}
	e := make([]float64, b)
	g := make([]float64, b*dim)
	sys.Energy.EnergyGrad(xs, e, g)
	lap := make([]float64, b)
	xp := append([]float64(nil), xs...)
	ep := make([]float64, b)
	gp := make([]float64, b*dim)
	gm := make([]float64, b*dim)
	h := id.StepFD
	for k := range dim {
		for c := range b {
			xp[c*dim+k] = xs[c*dim+k] + h
		}
		sys.Energy.EnergyGrad(xp, ep, gp)
		for c := range b {
			xp[c*dim+k] = xs[c*dim+k] - h
		}
		sys.Energy.EnergyGrad(xp, ep, gm)
		for c := range b {
			xp[c*dim+k] = xs[c*dim+k]
			lap[c] += (gp[c*dim+k] - gm[c*dim+k]) / (2 * h)
		}
	}
	var vir, gs, la []float64
	var es []float64
	for c := range b {
		if !finite(e[c]) || !finite(lap[c]) {
			id.Dropped++
			continue
		}
		v, s := 0.0, 0.0
		for i := range dim {
			gi := g[c*dim+i]
			v += xs[c*dim+i] * gi
			s += gi * gi
		}
		vir = append(vir, v/tau)
		gs = append(gs, s)
		la = append(la, lap[c])
		es = append(es, e[c])
	}
	id.N = len(vir)
	if id.N < 2 {
		return nil, fmt.Errorf("mcmc: identities: fewer than 2 usable samples")
	}
	var sdv float64
	if !id.Periodic {
		id.Virial, sdv = meanSD(vir)
		id.VirialSE = sdv / math.Sqrt(float64(id.N))
	}
	id.GradSq, _ = meanSD(gs)
	id.Laplacian, _ = meanSD(la)
	id.Ratio = id.GradSq / (tau * id.Laplacian)
	// Delta method: var of (a − R·τ·b) / (τ·mean b).
	resid := make([]float64, id.N)
	for i := range resid {
		resid[i] = (gs[i] - id.Ratio*tau*la[i]) / (tau * id.Laplacian)
	}
	_, sdr := meanSD(resid)
	id.RatioSE = sdr / math.Sqrt(float64(id.N))
	id.MeanEnergy, id.SDEnergy = meanSD(es)
	return id, nil
}

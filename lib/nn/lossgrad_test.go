package nn

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"adjoint/lib/tensor"
)

// flatParams returns the parameters of b in LossGrad's order (float64 networks).
func flatParams(b *base) []float64 {
	var out []float64
	for _, p := range b.params {
		out = append(out, p.F64()...)
	}
	return out
}

// setFlat writes v into the parameters of a float64 network in LossGrad's order.
func setFlat(b *base, v []float64) {
	off := 0
	for _, p := range b.params {
		off += copy(p.F64(), v[off:])
	}
}

// TestLossGradFiniteDifference: the gradient LossGrad writes is the derivative of the loss it
// returns along a random direction of all parameters (float64 networks, central differences).
func TestLossGradFiniteDifference(t *testing.T) {
	mlp, err := newMLP(MLPConfig{Dim: 4, Hidden: []int{6, 5}, Seed: 2}, tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		b    *base
	}{{"mlp", &mlp.base}, {"egnn", &smallEGNN(t, 2, 2, true).base}} {
		rng := rand.New(rand.NewPCG(7, 8))
		B := 5
		x, tt, y := to32(randVec(rng, B*tc.b.dim, 1)), to32([]float64{0.1, 0.3, 0.5, 0.7, 0.9}), to32(randVec(rng, B*tc.b.dim, 1))
		grad := make([]float64, tc.b.NumParams())
		if _, err := tc.b.LossGrad(x, tt, y, grad); err != nil {
			t.Fatal(err)
		}
		theta := flatParams(tc.b)
		dir := randVec(rng, len(theta), 1)
		var want float64
		for i := range dir {
			want += dir[i] * grad[i]
		}
		const h = 1e-6
		lossAt := func(s float64) float64 {
			v := make([]float64, len(theta))
			for i := range v {
				v[i] = theta[i] + s*dir[i]
			}
			setFlat(tc.b, v)
			l, err := tc.b.LossGrad(x, tt, y, make([]float64, len(theta)))
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		fd := (lossAt(h) - lossAt(-h)) / (2 * h)
		setFlat(tc.b, theta)
		if math.Abs(fd-want) > 1e-5*math.Max(1, math.Abs(want)) {
			t.Errorf("%s: directional derivative %.10g, finite difference %.10g", tc.name, want, fd)
		}
	}
}

// TestLossGradNoStep: LossGrad leaves a float32 network (parameters, Adam state, step count)
// as it was, and the gradients of two halves of a batch, weighted by their rows, add up to the
// gradient of the whole batch.
func TestLossGradNoStep(t *testing.T) {
	m, err := NewEGNN(EGNNConfig{Particles: 3, SpatialDim: 2, Layers: 2, Hidden: 8, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	B, dim := 6, m.Dim()
	x, y := to32(randVec(rng, B*dim, 1)), to32(randVec(rng, B*dim, 1))
	tt := to32([]float64{0.05, 0.2, 0.4, 0.6, 0.8, 0.99})
	if _, err := m.TrainStep(x, tt, y); err != nil { // non-zero Adam state
		t.Fatal(err)
	}
	var before bytes.Buffer
	if err := m.Save(&before); err != nil {
		t.Fatal(err)
	}
	n := m.NumParams()
	full, a, b := make([]float64, n), make([]float64, n), make([]float64, n)
	lf, err := m.LossGrad(x, tt, y, full)
	if err != nil {
		t.Fatal(err)
	}
	k := 2 // rows [0, k) and [k, B)
	la, err := m.LossGrad(x[:k*dim], tt[:k], y[:k*dim], a)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := m.LossGrad(x[k*dim:], tt[k:], y[k*dim:], b)
	if err != nil {
		t.Fatal(err)
	}
	wa, wb := float64(k)/float64(B), float64(B-k)/float64(B)
	if d := math.Abs(wa*la + wb*lb - lf); d > 1e-5*lf {
		t.Errorf("losses: halves give %g, whole batch %g", wa*la+wb*lb, lf)
	}
	var nrm, diff float64
	for i := range full {
		s := wa*a[i] + wb*b[i]
		nrm += full[i] * full[i]
		diff += (s - full[i]) * (s - full[i])
	}
	if !(nrm > 0) || math.Sqrt(diff) > 1e-4*math.Sqrt(nrm) {
		t.Errorf("gradients: |whole| = %g, |halves − whole| = %g", math.Sqrt(nrm), math.Sqrt(diff))
	}
	var after bytes.Buffer
	if err := m.Save(&after); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before.Bytes(), after.Bytes()) {
		t.Error("LossGrad changed the network or its optimiser state")
	}
	for _, bad := range []struct {
		name     string
		x, tt, y []float32
		grad     []float64
	}{
		{"short grad", x, tt, y, make([]float64, n-1)},
		{"short target", x, tt, y[:dim], full},
		{"empty batch", nil, nil, nil, full},
	} {
		if _, err := m.LossGrad(bad.x, bad.tt, bad.y, bad.grad); err == nil {
			t.Errorf("%s: no error", bad.name)
		}
	}
}

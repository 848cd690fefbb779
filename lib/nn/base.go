package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"adjoint/lib/tensor"
)

// Adam defaults (PyTorch's).
const (
	DefaultLR    = 1e-4
	adamBeta1    = 0.9
	adamBeta2    = 0.999
	adamEps      = 1e-8
	fileDTypeF32 = "float32"
)

// grapher records a network on a tape: x [B, Dim] and t [B, 1] are constant inputs of the
// tape's element type; the result has B·Dim elements.
type grapher interface {
	build(tp *tensor.Tape, x, t *tensor.Tensor) *tensor.Tensor
}

// base holds what every network shares: parameters, Adam state and the tapes.
type base struct {
	dim    int
	dtype  tensor.DType
	names  []string
	params []*tensor.Tensor
	m, v   [][]float64
	step   int64
	lr     float64
	g      grapher
	train  *tensor.Tape
	infer  *tensor.Tape
	lossT  []float64
	avg    *average // exponential moving average of params, nil when none (average.go)
}

func newBase(dim int, dtype tensor.DType, lr float64) base {
	if lr <= 0 {
		lr = DefaultLR
	}
	return base{dim: dim, dtype: dtype, lr: lr, train: tensor.NewTape(dtype), infer: tensor.NewTape(dtype)}
}

// addParam creates a parameter of the given shape, filled by init.
func (b *base) addParam(name string, init func(i int) float64, shape ...int) *tensor.Tensor {
	t, err := tensor.Zeros(b.dtype, shape...)
	if err != nil {
		panic(fmt.Sprintf("nn: parameter %s: %v", name, err)) // shapes come from validated configs
	}
	for i := 0; i < t.Len(); i++ {
		t.Set(i, init(i))
	}
	t.SetRequiresGrad(true)
	b.names = append(b.names, name)
	b.params = append(b.params, t)
	b.m = append(b.m, make([]float64, t.Len()))
	b.v = append(b.v, make([]float64, t.Len()))
	return t
}

// uniform is PyTorch's default Linear initialisation U(−1/√fan_in, 1/√fan_in).
func uniform(rng *rand.Rand, fanIn int) func(int) float64 {
	a := 1 / math.Sqrt(float64(fanIn))
	return func(int) float64 { return a * (2*rng.Float64() - 1) }
}

// xavier is xavier_uniform with the given gain: U(−a, a), a = gain·√(6/(fan_in+fan_out)).
func xavier(rng *rand.Rand, fanIn, fanOut int, gain float64) func(int) float64 {
	a := gain * math.Sqrt(6/float64(fanIn+fanOut))
	return func(int) float64 { return a * (2*rng.Float64() - 1) }
}

// Dim is the state dimension the model takes and returns.
func (b *base) Dim() int { return b.dim }

// NumParams is the number of trainable scalars.
func (b *base) NumParams() int {
	n := 0
	for _, p := range b.params {
		n += p.Len()
	}
	return n
}

// SetLearningRate changes Adam's learning rate.
func (b *base) SetLearningRate(lr float64) { b.lr = lr }

// LearningRate is Adam's learning rate.
func (b *base) LearningRate() float64 { return b.lr }

// Steps is the number of optimiser steps taken.
func (b *base) Steps() int64 { return b.step }

func (b *base) batch(x, t []float32) (int, error) {
	B := len(t)
	if B == 0 {
		return 0, errors.New("nn: empty batch")
	}
	if len(x) != B*b.dim {
		return 0, fmt.Errorf("nn: x has %d values, want %d (batch %d × dim %d)", len(x), B*b.dim, B, b.dim)
	}
	return B, nil
}

// inputs fills the constant inputs on tp.
func (b *base) inputs(tp *tensor.Tape, x, t []float32, B int) (*tensor.Tensor, *tensor.Tensor) {
	X := tp.Input(B, b.dim)
	T := tp.Input(B, 1)
	_ = X.SetF32(x)
	_ = T.SetF32(t)
	return X, T
}

// Forward evaluates the network into out without recording gradients.
func (b *base) Forward(x, t, out []float32) error {
	B, err := b.batch(x, t)
	if err != nil {
		return fmt.Errorf("forward: %w", err)
	}
	if len(out) != B*b.dim {
		return fmt.Errorf("forward: out has %d slots, want %d", len(out), B*b.dim)
	}
	tp := b.infer
	tp.Reset()
	X, T := b.inputs(tp, x, t, B)
	for _, p := range b.params {
		p.SetRequiresGrad(false)
	}
	y := b.g.build(tp, X, T)
	for _, p := range b.params {
		p.SetRequiresGrad(true)
	}
	if err := tp.Err(); err != nil {
		return fmt.Errorf("forward: %w", err)
	}
	return y.CopyToF32(out)
}

// TrainStep takes one Adam step on (1/B) Σ_b ‖v_θ(x_b, t_b) − target_b‖² and returns the loss
// before the step.
func (b *base) TrainStep(x, t, target []float32) (float64, error) {
	loss, err := b.batchLossGrad(x, t, target)
	if err != nil {
		return 0, fmt.Errorf("train step: %w", err)
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, fmt.Errorf("train step: loss is %g; parameters left unchanged", loss)
	}
	b.adam()
	return loss, nil
}

// batchLossGrad checks a batch, evaluates the regression loss on the training tape and
// back-propagates it into the parameters' gradients (TrainStep and LossGrad).
func (b *base) batchLossGrad(x, t, target []float32) (float64, error) {
	B, err := b.batch(x, t)
	if err != nil {
		return 0, err
	}
	if len(target) != B*b.dim {
		return 0, fmt.Errorf("target has %d values, want %d", len(target), B*b.dim)
	}
	tp := b.train
	tp.Reset()
	X, T := b.inputs(tp, x, t, B)
	Y := tp.Input(B, b.dim)
	_ = Y.SetF32(target)
	return b.lossGrad(tp, X, T, Y)
}

// LossGrad evaluates the regression loss (1/B) Σ_b ‖v_θ(x_b, t_b) − target_b‖² as TrainStep
// does and writes its gradient with respect to the parameters into grad (NumParams() values,
// the parameters in the order Save writes them, each row-major). It takes no optimiser step:
// the parameters and the optimiser state are left as they are.
func (b *base) LossGrad(x, t, target []float32, grad []float64) (float64, error) {
	if n := b.NumParams(); len(grad) != n {
		return 0, fmt.Errorf("loss gradient: grad has %d slots, want %d", len(grad), n)
	}
	loss, err := b.batchLossGrad(x, t, target)
	if err != nil {
		return 0, fmt.Errorf("loss gradient: %w", err)
	}
	off := 0
	for _, p := range b.params {
		if g := p.Grad32(); g != nil {
			for i, v := range g {
				grad[off+i] = float64(v)
			}
		} else {
			copy(grad[off:off+p.Len()], p.Grad64())
		}
		off += p.Len()
	}
	return loss, nil
}

// lossGrad records the loss on tp and fills the parameter gradients.
func (b *base) lossGrad(tp *tensor.Tape, X, T, Y *tensor.Tensor) (float64, error) {
	out := b.g.build(tp, X, T)
	loss := tp.MSE(out, Y)
	if err := tp.Err(); err != nil {
		return 0, err
	}
	for _, p := range b.params {
		p.ZeroGrad()
	}
	if err := tp.Backward(loss); err != nil {
		return 0, err
	}
	return loss.At(0), nil
}

// adam applies one Adam step with the current gradients.
func (b *base) adam() {
	b.step++
	c1 := 1 - math.Pow(adamBeta1, float64(b.step))
	c2 := 1 - math.Pow(adamBeta2, float64(b.step))
	lr := b.lr / c1
	sc2 := 1 / math.Sqrt(c2)
	for k, p := range b.params {
		m, v := b.m[k], b.v[k]
		if g := p.Grad32(); g != nil {
			d := p.F32()
			for i, gi := range g {
				gf := float64(gi)
				m[i] = adamBeta1*m[i] + (1-adamBeta1)*gf
				v[i] = adamBeta2*v[i] + (1-adamBeta2)*gf*gf
				d[i] -= float32(lr * m[i] / (math.Sqrt(v[i])*sc2 + adamEps))
			}
			continue
		}
		g, d := p.Grad64(), p.F64()
		for i, gf := range g {
			m[i] = adamBeta1*m[i] + (1-adamBeta1)*gf
			v[i] = adamBeta2*v[i] + (1-adamBeta2)*gf*gf
			d[i] -= lr * m[i] / (math.Sqrt(v[i])*sc2 + adamEps)
		}
	}
	b.updateAverage()
}

package cuda

import (
	"errors"
	"fmt"
	"math"
)

// Adam's constants, PyTorch's defaults (as lib/nn uses them).
const (
	AdamBeta1 = 0.9
	AdamBeta2 = 0.999
	AdamEps   = 1e-8
)

// EGNNConfig is the architecture of a device-resident EGNN (lib/nn's EGNNConfig with the
// defaults filled in).
type EGNNConfig struct {
	Particles  int     // n ≥ 2
	SpatialDim int     // d ≥ 1
	Layers     int     // message-passing layers ≥ 1
	Hidden     int     // width H ≥ 1 of node and edge features
	Attention  bool    // gate messages with sigmoid(Lin(m))
	TanhRange  float64 // each layer's coordinate step is tanh(·)·TanhRange/Layers
	LR         float64 // Adam's learning rate (> 0)
}

// layerOffsets are the offsets of one layer's parameters in the flat parameter buffer (−1 for
// the attention parameters without attention).
type layerOffsets struct {
	wa, wb, wr, we, b1, w2, b2, wg, bg, wc1, bc1, wc2, wn1, bn1, wn2, bn2 int
}

// EGNN is lib/nn's E(n)-equivariant controller network (ALGORITHM.md §9) resident on a
// Device: parameters, gradients, Adam's moments and every activation stay in device memory;
// a call copies only the inputs in and the output out. Forward and TrainStep compute what
// lib/nn's EGNN computes (float32), with matrix products in cuBLAS (the two node-level halves of
// the first edge layer as one strided-batched product) and the embedded kernels for the rest.
//
// The parameters are one flat buffer, in lib/nn's order (ParamSizes), each starting on a
// 256-byte boundary; Adam updates the whole buffer in one launch. An EGNN is not safe for
// concurrent use; Close returns its memory to the device's pool.
type EGNN struct {
	dev    *Device
	cfg    EGNNConfig
	sizes  []int
	offs   []int
	total  int
	p, g   *Buffer
	m, v   *Buffer
	embW   int
	embB   int
	layers []layerOffsets
	step   int64
	lr     float64
	// avg is the exponential moving average of p (nil: none kept), updated after each Adam step
	// with decay min(avgDecay, (1 + n)/(10 + n)) at the n-th update, as lib/nn's average;
	// swapped says p and avg have exchanged places (SwapAverage).
	avg      *Buffer
	avgDecay float64
	avgN     int64
	swapped  bool
	arena    *Buffer
	hostOut  []float32
	closed   bool
}

// align64 rounds n up to a multiple of 64 floats (256 bytes).
func align64(n int) int { return (n + 63) &^ 63 }

// view is the n floats of b from element off (offsets here are computed, never out of range).
func view(b *Buffer, off, n int) *Buffer {
	return &Buffer{ptr: b.ptr + 4*uint64(off), n: n, dev: b.dev}
}

func (c *EGNNConfig) check() error {
	switch {
	case c.Particles < 2:
		return fmt.Errorf("cuda: EGNN needs at least 2 particles, have %d", c.Particles)
	case c.SpatialDim < 1:
		return fmt.Errorf("cuda: EGNN spatial dimension %d < 1", c.SpatialDim)
	case c.Layers < 1 || c.Hidden < 1:
		return fmt.Errorf("cuda: EGNN layers %d and hidden %d must be positive", c.Layers, c.Hidden)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("cuda: EGNN learning rate %g must be positive", c.LR)
	case math.IsNaN(c.TanhRange) || math.IsInf(c.TanhRange, 0):
		return fmt.Errorf("cuda: EGNN tanh range %g", c.TanhRange)
	}
	return nil
}

// EGNNParamSizes lists the number of floats of each parameter in lib/nn's order: the embedding
// weight [1, H] and bias [H], then per layer edge1.weight_i [H, H], edge1.weight_j [H, H],
// edge1.weight_radial [H], edge1.weight_attr [H], edge1.bias [H], edge2.weight [H, H],
// edge2.bias [H], with attention att.weight [H] and att.bias [1], coord1.weight [H, H],
// coord1.bias [H], coord2.weight [H], node1.weight [2H, H], node1.bias [H], node2.weight [H, H],
// node2.bias [H]. Matrices are row-major [in, out].
func EGNNParamSizes(cfg EGNNConfig) []int {
	H := cfg.Hidden
	s := []int{H, H}
	for range cfg.Layers {
		s = append(s, H*H, H*H, H, H, H, H*H, H)
		if cfg.Attention {
			s = append(s, H, 1)
		}
		s = append(s, H*H, H, H, 2*H*H, H, H*H, H)
	}
	return s
}

// NewEGNN copies the parameters (in EGNNParamSizes order) to dev and returns the network with
// zero Adam moments at step 0.
func NewEGNN(dev *Device, cfg EGNNConfig, params [][]float32) (*EGNN, error) {
	if dev == nil {
		return nil, errors.New("cuda: EGNN on a nil device")
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if err := firstErr(dev.KernelsErr(), dev.BLASErr()); err != nil {
		return nil, fmt.Errorf("cuda: EGNN on %s: %w", dev, err)
	}
	m := &EGNN{dev: dev, cfg: cfg, sizes: EGNNParamSizes(cfg), lr: cfg.LR}
	if len(params) != len(m.sizes) {
		return nil, fmt.Errorf("cuda: EGNN: %d parameter arrays, want %d", len(params), len(m.sizes))
	}
	for i, s := range m.sizes {
		if len(params[i]) != s {
			return nil, fmt.Errorf("cuda: EGNN: parameter %d has %d values, want %d", i, len(params[i]), s)
		}
		m.offs = append(m.offs, m.total)
		m.total += align64(s)
	}
	k := 0
	next := func() int { k++; return m.offs[k-1] }
	m.embW, m.embB = next(), next()
	for range cfg.Layers {
		var L layerOffsets
		L.wa, L.wb, L.wr, L.we, L.b1, L.w2, L.b2 = next(), next(), next(), next(), next(), next(), next()
		L.wg, L.bg = -1, -1
		if cfg.Attention {
			L.wg, L.bg = next(), next()
		}
		L.wc1, L.bc1, L.wc2, L.wn1, L.bn1, L.wn2, L.bn2 = next(), next(), next(), next(), next(), next(), next()
		m.layers = append(m.layers, L)
	}
	err := dev.Do(func() error {
		var err error
		for _, b := range []**Buffer{&m.p, &m.g, &m.m, &m.v} {
			if *b, err = dev.Zeros(m.total); err != nil {
				return err
			}
		}
		return m.upload(m.p, params)
	})
	if err != nil {
		_ = m.Close()
		return nil, fmt.Errorf("cuda: EGNN: %w", err)
	}
	return m, nil
}

// upload copies per-parameter host arrays into the flat buffer b.
func (m *EGNN) upload(b *Buffer, vals [][]float32) error {
	if len(vals) != len(m.sizes) {
		return fmt.Errorf("cuda: EGNN: %d arrays, want %d", len(vals), len(m.sizes))
	}
	flat := make([]float32, m.total)
	for i, s := range m.sizes {
		if len(vals[i]) != s {
			return fmt.Errorf("cuda: EGNN: array %d has %d values, want %d", i, len(vals[i]), s)
		}
		copy(flat[m.offs[i]:], vals[i])
	}
	return m.dev.CopyHtoD(b, flat)
}

// download copies the flat buffer b into per-parameter host arrays.
func (m *EGNN) download(b *Buffer) ([][]float32, error) {
	flat, err := m.dev.Download(b)
	if err != nil {
		return nil, err
	}
	out := make([][]float32, len(m.sizes))
	for i, s := range m.sizes {
		out[i] = append([]float32(nil), flat[m.offs[i]:m.offs[i]+s]...)
	}
	return out, nil
}

func (m *EGNN) usable() error {
	if m == nil || m.closed {
		return errors.New("cuda: EGNN closed")
	}
	return nil
}

// Config is the architecture and current learning rate.
func (m *EGNN) Config() EGNNConfig {
	c := m.cfg
	c.LR = m.lr
	return c
}

// Device is the device the network lives on.
func (m *EGNN) Device() *Device { return m.dev }

// Dim is the state dimension n·d.
func (m *EGNN) Dim() int { return m.cfg.Particles * m.cfg.SpatialDim }

// NumParams is the number of trainable scalars.
func (m *EGNN) NumParams() int {
	n := 0
	for _, s := range m.sizes {
		n += s
	}
	return n
}

// SetLearningRate changes Adam's learning rate.
func (m *EGNN) SetLearningRate(lr float64) { m.lr = lr }

// LearningRate is Adam's learning rate.
func (m *EGNN) LearningRate() float64 { return m.lr }

// Steps is the number of Adam steps taken.
func (m *EGNN) Steps() int64 { return m.step }

// Params copies the parameters in use to the host, in EGNNParamSizes order (the average while
// it stands in for them, SwapAverage).
func (m *EGNN) Params() ([][]float32, error) {
	if err := m.usable(); err != nil {
		return nil, err
	}
	return m.download(m.p)
}

// SetParams replaces the parameters (EGNNParamSizes order).
func (m *EGNN) SetParams(params [][]float32) error {
	if err := m.usable(); err != nil {
		return err
	}
	return m.upload(m.p, params)
}

// AdamState copies Adam's first and second moments to the host and returns them with the step
// count.
func (m *EGNN) AdamState() (m1, m2 [][]float32, step int64, err error) {
	if err = m.usable(); err != nil {
		return nil, nil, 0, err
	}
	if m1, err = m.download(m.m); err != nil {
		return nil, nil, 0, err
	}
	if m2, err = m.download(m.v); err != nil {
		return nil, nil, 0, err
	}
	return m1, m2, m.step, nil
}

// SetAdamState replaces Adam's moments (EGNNParamSizes order) and step count, e.g. from a
// checkpoint.
func (m *EGNN) SetAdamState(m1, m2 [][]float32, step int64) error {
	if err := m.usable(); err != nil {
		return err
	}
	if step < 0 {
		return fmt.Errorf("cuda: EGNN: step %d < 0", step)
	}
	if err := m.upload(m.m, m1); err != nil {
		return err
	}
	if err := m.upload(m.v, m2); err != nil {
		return err
	}
	m.step = step
	return nil
}

// Close returns the network's device memory to the pool; the network is unusable afterwards.
func (m *EGNN) Close() error {
	if m == nil || m.closed {
		return nil
	}
	m.closed = true
	var errs []error
	for _, b := range []*Buffer{m.p, m.g, m.m, m.v, m.avg, m.arena} {
		if b != nil {
			errs = append(errs, m.dev.Free(b))
		}
	}
	m.p, m.g, m.m, m.v, m.avg, m.arena = nil, nil, nil, nil, nil, nil
	return errors.Join(errs...)
}

func (m *EGNN) batch(x, t []float32, out int) (int, error) {
	B := len(t)
	if B == 0 {
		return 0, errors.New("empty batch")
	}
	if len(x) != B*m.Dim() {
		return 0, fmt.Errorf("x has %d values, want %d (batch %d × dim %d)", len(x), B*m.Dim(), B, m.Dim())
	}
	if out != B*m.Dim() {
		return 0, fmt.Errorf("output has %d slots, want %d", out, B*m.Dim())
	}
	return B, nil
}

// Forward evaluates the network on a batch (x: B states of n·d, t: B times) into out.
func (m *EGNN) Forward(x, t, out []float32) error {
	if err := m.usable(); err != nil {
		return fmt.Errorf("forward: %w", err)
	}
	B, err := m.batch(x, t, len(out))
	if err != nil {
		return fmt.Errorf("forward: %w", err)
	}
	err = m.dev.Do(func() error {
		f, err := m.frame(B, false)
		if err != nil {
			return err
		}
		if err := m.forward(f, x, t); err != nil {
			return err
		}
		return m.dev.CopyDtoH(out, f.out)
	})
	if err != nil {
		return fmt.Errorf("forward on %s: %w", m.dev, err)
	}
	return nil
}

// TrainStep takes one Adam step on (1/B) Σ_b ‖v_θ(x_b, t_b) − target_b‖² and returns the loss
// before the step (summed in float64 on the host, as lib/nn does). A non-finite loss leaves the
// parameters unchanged and is an error.
func (m *EGNN) TrainStep(x, t, target []float32) (float64, error) {
	if err := m.usable(); err != nil {
		return 0, fmt.Errorf("train step: %w", err)
	}
	B, err := m.batch(x, t, len(target))
	if err != nil {
		return 0, fmt.Errorf("train step: %w", err)
	}
	var loss float64
	err = m.dev.Do(func() error {
		f, err := m.frame(B, true)
		if err != nil {
			return err
		}
		if err := m.forward(f, x, t); err != nil {
			return err
		}
		if err := m.dev.CopyHtoD(f.target, target); err != nil {
			return err
		}
		if err := m.backward(f); err != nil {
			return err
		}
		if cap(m.hostOut) < len(target) {
			m.hostOut = make([]float32, len(target))
		}
		o := m.hostOut[:len(target)]
		if err := m.dev.CopyDtoH(o, f.out); err != nil {
			return err
		}
		var s float64
		for i, v := range o {
			d := float64(v - target[i])
			s += d * d
		}
		loss = s / float64(B)
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return fmt.Errorf("loss is %g; parameters left unchanged", loss)
		}
		if err := m.adam(); err != nil {
			return err
		}
		return m.average()
	})
	if err != nil {
		return loss, fmt.Errorf("train step on %s: %w", m.dev, err)
	}
	return loss, nil
}

// adam applies one Adam step with the gradients in m.g, with lib/nn's bias corrections.
func (m *EGNN) adam() error {
	m.step++
	c1 := 1 - math.Pow(AdamBeta1, float64(m.step))
	c2 := 1 - math.Pow(AdamBeta2, float64(m.step))
	return m.dev.Adam(m.p, m.g, m.m, m.v, float32(m.lr/c1), AdamBeta1, AdamBeta2, AdamEps, float32(1/math.Sqrt(c2)))
}

// average folds the parameters into their average after an Adam step (none kept, or the
// average standing in for the parameters: nothing to do).
func (m *EGNN) average() error {
	if m.avg == nil || m.swapped {
		return nil
	}
	m.avgN++
	d := math.Min(m.avgDecay, float64(1+m.avgN)/float64(10+m.avgN))
	return m.dev.EMA(m.avg, m.p, float32(d))
}

// SetAverage starts keeping an exponential moving average of the parameters with a decay in
// (0, 1), updated after every TrainStep with decay min(decay, (1 + n)/(10 + n)) at the n-th
// update (lib/nn's rule): from the current parameters when vals is nil, else from vals
// (EGNNParamSizes order) as an average of n updates, e.g. a checkpoint's. Decay 0 drops the
// average. The parameters must be in place (not swapped).
func (m *EGNN) SetAverage(decay float64, vals [][]float32, n int64) error {
	if err := m.usable(); err != nil {
		return err
	}
	if !(decay >= 0 && decay < 1) || n < 0 {
		return fmt.Errorf("cuda: EGNN: average decay %g must be in [0, 1) and its updates %d ≥ 0", decay, n)
	}
	if m.swapped {
		return errors.New("cuda: EGNN: SetAverage while the average stands in for the parameters")
	}
	if decay == 0 {
		var err error
		if m.avg != nil {
			err = m.dev.Free(m.avg)
		}
		m.avg, m.avgDecay, m.avgN = nil, 0, 0
		return err
	}
	if m.avg == nil {
		a, err := m.dev.Zeros(m.total)
		if err != nil {
			return fmt.Errorf("cuda: EGNN: average: %w", err)
		}
		m.avg = a
	}
	var err error
	if vals == nil {
		n = 0
		err = m.dev.CopyDtoD(m.avg, m.p, m.total)
	} else {
		err = m.upload(m.avg, vals)
	}
	if err != nil {
		_ = m.dev.Free(m.avg)
		m.avg, m.avgDecay, m.avgN = nil, 0, 0
		return fmt.Errorf("cuda: EGNN: average: %w", err)
	}
	m.avgDecay, m.avgN = decay, n
	return nil
}

// Average copies the parameter average to the host (EGNNParamSizes order) with its decay and
// number of updates; decay 0 and nil values when none is kept. While swapped it still returns
// the average (which then sits where the parameters were).
func (m *EGNN) Average() (vals [][]float32, decay float64, n int64, err error) {
	if err = m.usable(); err != nil {
		return nil, 0, 0, err
	}
	if m.avg == nil {
		return nil, 0, 0, nil
	}
	src := m.avg
	if m.swapped {
		src = m.p
	}
	if vals, err = m.download(src); err != nil {
		return nil, 0, 0, err
	}
	return vals, m.avgDecay, m.avgN, nil
}

// SwapAverage exchanges the parameters and their average (two pointers: no copy), so that
// Forward computes with the average; calling it again restores both. It reports false, and
// changes nothing, when no average is kept. While swapped, TrainStep leaves the average alone.
func (m *EGNN) SwapAverage() bool {
	if m.usable() != nil || m.avg == nil {
		return false
	}
	m.p, m.avg = m.avg, m.p
	m.swapped = !m.swapped
	return true
}

// AverageDecay is the decay of the parameter average, 0 when none is kept (no copy).
func (m *EGNN) AverageDecay() float64 { return m.avgDecay }

// Swapped reports whether the average stands in for the parameters.
func (m *EGNN) Swapped() bool { return m.swapped }

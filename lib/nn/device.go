package nn

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"adjoint/lib/tensor"
	"adjoint/lib/tensor/cuda"
)

// DeviceEGNN is an EGNN trained on a GPU: parameters, Adam's moments and activations live in
// device memory (cuda.EGNN) and each call copies only its inputs in and its output out. It
// implements Model with the same numbers as the CPU EGNN (float32; Adam's moments are kept in
// float32 on the device) and saves in the same versioned format, so a checkpoint written on a
// GPU loads on the CPU with Load. Like every model here it is not safe for concurrent use.
type DeviceEGNN struct {
	host *EGNN // architecture, names and shapes; receives the device state on Save and ToHost
	net  *cuda.EGNN
}

var (
	_ Differentiable = (*DeviceEGNN)(nil)
	_ Averaged       = (*DeviceEGNN)(nil)
)

// NewEGNNOn builds an EGNN as NewEGNN does (same initialisation for the same seed) and moves it
// to dev.
func NewEGNNOn(cfg EGNNConfig, dev *cuda.Device) (*DeviceEGNN, error) {
	m, err := NewEGNN(cfg)
	if err != nil {
		return nil, err
	}
	return ToDevice(m, dev)
}

// ToDevice copies a float32 EGNN (parameters, Adam's moments and step, learning rate, and the
// parameter average when one is kept) to dev.
// m itself is not changed and stays usable on the CPU.
func ToDevice(m *EGNN, dev *cuda.Device) (*DeviceEGNN, error) {
	if m == nil || dev == nil {
		return nil, errors.New("nn: ToDevice needs a network and a device")
	}
	if m.dtype != tensor.Float32 {
		return nil, fmt.Errorf("nn: ToDevice: only float32 networks run on a GPU")
	}
	host, err := copyEGNN(m.Save)
	if err != nil {
		return nil, fmt.Errorf("nn: ToDevice: %w", err)
	}
	cfg := host.Config()
	dcfg := cuda.EGNNConfig{
		Particles: cfg.Particles, SpatialDim: cfg.SpatialDim, Layers: cfg.Layers, Hidden: cfg.Hidden,
		Attention: *cfg.Attention, TanhRange: cfg.TanhRange, LR: host.lr,
	}
	params := make([][]float32, len(host.params))
	m1 := make([][]float32, len(host.params))
	m2 := make([][]float32, len(host.params))
	for i, p := range host.params {
		params[i] = p.F32()
		m1[i], m2[i] = toF32(host.m[i]), toF32(host.v[i])
	}
	net, err := cuda.NewEGNN(dev, dcfg, params)
	if err != nil {
		return nil, fmt.Errorf("nn: ToDevice: %w", err)
	}
	if err := net.SetAdamState(m1, m2, host.step); err != nil {
		_ = net.Close()
		return nil, fmt.Errorf("nn: ToDevice: %w", err)
	}
	if a := host.avg; a != nil {
		vals := make([][]float32, len(a.vals))
		for i, v := range a.vals {
			vals[i] = toF32(v)
		}
		if err := net.SetAverage(a.decay, vals, a.n); err != nil {
			_ = net.Close()
			return nil, fmt.Errorf("nn: ToDevice: %w", err)
		}
	}
	return &DeviceEGNN{host: host, net: net}, nil
}

func toF64(s []float32) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}

func toF32(s []float64) []float32 {
	out := make([]float32, len(s))
	for i, v := range s {
		out[i] = float32(v)
	}
	return out
}

// Dim is the state dimension n·d.
func (m *DeviceEGNN) Dim() int { return m.host.Dim() }

// Forward evaluates the network on the GPU into out (length B·Dim()).
func (m *DeviceEGNN) Forward(x, t, out []float32) error {
	if err := m.net.Forward(x, t, out); err != nil {
		return fmt.Errorf("nn: %w", err)
	}
	return nil
}

// TrainStep takes one Adam step on the GPU on (1/B) Σ_b ‖v_θ(x_b, t_b) − target_b‖² and
// returns the loss before the step.
func (m *DeviceEGNN) TrainStep(x, t, target []float32) (float64, error) {
	loss, err := m.net.TrainStep(x, t, target)
	if err != nil {
		return loss, fmt.Errorf("nn: %w", err)
	}
	return loss, nil
}

// LossGrad evaluates TrainStep's loss and writes its parameter gradient into grad (NumParams()
// values) without a step. It is computed on the CPU, by the host copy of the network brought
// up to the device's state: a diagnostic, not a training path.
func (m *DeviceEGNN) LossGrad(x, t, target []float32, grad []float64) (float64, error) {
	if err := m.sync(); err != nil {
		return 0, fmt.Errorf("nn: loss gradient: %w", err)
	}
	return m.host.LossGrad(x, t, target, grad)
}

// SetLearningRate changes Adam's learning rate.
func (m *DeviceEGNN) SetLearningRate(lr float64) { m.net.SetLearningRate(lr) }

// LearningRate is Adam's learning rate.
func (m *DeviceEGNN) LearningRate() float64 { return m.net.LearningRate() }

// Steps is the number of optimiser steps taken.
func (m *DeviceEGNN) Steps() int64 { return m.net.Steps() }

// NumParams is the number of trainable scalars.
func (m *DeviceEGNN) NumParams() int { return m.host.NumParams() }

// Config is the configuration the network was built with (current learning rate).
func (m *DeviceEGNN) Config() EGNNConfig {
	c := m.host.Config()
	c.LR = m.net.LearningRate()
	return c
}

// Device names the GPU the network trains on, e.g. "cuda: NVIDIA H100 80GB HBM3 (sm_90)".
func (m *DeviceEGNN) Device() string { return m.net.Device().String() }

// Describe names the network for reports, e.g. "egnn 5×128 on cuda: NVIDIA H200 (sm_90)" (the
// tanh range is named when it is not the default 15).
func (m *DeviceEGNN) Describe() string {
	c := m.host.Config()
	name := fmt.Sprintf("egnn %d×%d", c.Layers, c.Hidden)
	if c.TanhRange != 15 {
		name += fmt.Sprintf(", tanh range %g", c.TanhRange)
	}
	return name + " on " + m.Device()
}

// sync copies the device state (parameters, moments, step, learning rate) into m.host, with
// the parameters in their place even while the average stands in for them.
func (m *DeviceEGNN) sync() error {
	if m.net.Swapped() {
		m.net.SwapAverage()
		defer m.net.SwapAverage()
	}
	params, err := m.net.Params()
	if err != nil {
		return err
	}
	m1, m2, step, err := m.net.AdamState()
	if err != nil {
		return err
	}
	for i, p := range m.host.params {
		copy(p.F32(), params[i])
		for k := range m.host.m[i] {
			m.host.m[i][k], m.host.v[i][k] = float64(m1[i][k]), float64(m2[i][k])
		}
	}
	m.host.step, m.host.lr = step, m.net.LearningRate()
	return nil
}

// SetAverage starts, keeps or stops the parameter average on the device (Averaged): a network
// that already averages with the same decay keeps its average.
func (m *DeviceEGNN) SetAverage(decay float64) error {
	if err := checkDecay(decay); err != nil {
		return err
	}
	if decay != 0 && m.net.AverageDecay() == decay {
		return nil
	}
	if err := m.net.SetAverage(decay, nil, 0); err != nil {
		return fmt.Errorf("nn: %w", err)
	}
	return nil
}

// AverageDecay is the decay of the parameter average, 0 when none is kept.
func (m *DeviceEGNN) AverageDecay() float64 { return m.net.AverageDecay() }

// SwapAverage exchanges the parameters and their average on the device (Averaged).
func (m *DeviceEGNN) SwapAverage() bool { return m.net.SwapAverage() }

// syncAverage copies the device's parameter average, or its absence, into m.host (for Save).
func (m *DeviceEGNN) syncAverage() error {
	avg, decay, n, err := m.net.Average()
	if err != nil {
		return err
	}
	m.host.avg = nil
	if decay > 0 {
		a := &average{decay: decay, n: n}
		for _, v := range avg {
			a.vals = append(a.vals, toF64(v))
		}
		m.host.avg = a
	}
	return nil
}

// Save writes the network in the CPU EGNN's versioned format (kind "egnn"): Load returns an
// *EGNN with these parameters, moments, step and parameter average.
func (m *DeviceEGNN) Save(w io.Writer) error {
	if err := m.sync(); err != nil {
		return fmt.Errorf("save egnn: %w", err)
	}
	if err := m.syncAverage(); err != nil {
		return fmt.Errorf("save egnn: %w", err)
	}
	return m.host.Save(w)
}

// ToHost returns a CPU copy of the network in its current state.
func (m *DeviceEGNN) ToHost() (*EGNN, error) {
	h, err := copyEGNN(m.Save)
	if err != nil {
		return nil, fmt.Errorf("nn: ToHost: %w", err)
	}
	return h, nil
}

// copyEGNN returns a CPU EGNN read back from what save writes (a network in the versioned
// format: architecture, parameters, Adam state).
func copyEGNN(save func(io.Writer) error) (*EGNN, error) {
	var buf bytes.Buffer
	if err := save(&buf); err != nil {
		return nil, err
	}
	loaded, err := Load(&buf)
	if err != nil {
		return nil, err
	}
	h, ok := loaded.(*EGNN)
	if !ok {
		return nil, fmt.Errorf("reloaded %T, want *EGNN", loaded)
	}
	return h, nil
}

// Close releases the network's device memory; it is unusable afterwards.
func (m *DeviceEGNN) Close() error { return m.net.Close() }

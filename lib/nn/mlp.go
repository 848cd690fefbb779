package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"adjoint/lib/tensor"
)

// MLPConfig describes a fully connected controller network.
type MLPConfig struct {
	// Dim is the state dimension n·d (input and output size).
	Dim int
	// Hidden lists the hidden layer widths (default 128, 128, 128).
	Hidden []int
	// Activation is "silu" (default), "tanh" or "relu".
	Activation string
	// Seed seeds the initialisation.
	Seed int64
	// LR is Adam's learning rate (default 1e-4).
	LR float64
}

// mlpTimeFreqs is the number of sin/cos pairs of the time features: the network sees
// [x, t, sin(2πkt), cos(2πkt) for k = 1..mlpTimeFreqs].
const mlpTimeFreqs = 2

// MLP is a fully connected network v_θ(x, t) with t and Fourier features of t appended to the
// input, trained with Adam. It implements Model; it is not safe for concurrent use.
type MLP struct {
	base
	cfg    MLPConfig
	act    tensor.Act
	ws, bs []*tensor.Tensor
}

var _ Differentiable = (*MLP)(nil)

// NewMLP builds a float32 MLP with PyTorch's default initialisation.
func NewMLP(cfg MLPConfig) (*MLP, error) { return newMLP(cfg, tensor.Float32) }

func (c *MLPConfig) normalise() error {
	if c.Dim < 1 {
		return fmt.Errorf("nn: MLP dim %d < 1", c.Dim)
	}
	if c.Hidden == nil {
		c.Hidden = []int{128, 128, 128}
	}
	for _, h := range c.Hidden {
		if h < 1 {
			return fmt.Errorf("nn: MLP hidden width %d < 1", h)
		}
	}
	if c.Activation == "" {
		c.Activation = "silu"
	}
	if c.LR <= 0 {
		c.LR = DefaultLR
	}
	return nil
}

func newMLP(cfg MLPConfig, dtype tensor.DType) (*MLP, error) {
	cfg.Hidden = append([]int(nil), cfg.Hidden...)
	if len(cfg.Hidden) == 0 {
		cfg.Hidden = nil
	}
	if err := cfg.normalise(); err != nil {
		return nil, err
	}
	act, err := tensor.ParseAct(cfg.Activation)
	if err != nil || act == tensor.ActNone || act == tensor.ActSigmoid {
		return nil, fmt.Errorf("nn: MLP activation %q: want silu, tanh or relu", cfg.Activation)
	}
	m := &MLP{base: newBase(cfg.Dim, dtype, cfg.LR), cfg: cfg, act: act}
	m.g = m
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6d6c70))
	in := cfg.Dim + 1 + 2*mlpTimeFreqs
	widths := append(append([]int{}, cfg.Hidden...), cfg.Dim)
	for l, out := range widths {
		m.ws = append(m.ws, m.addParam(fmt.Sprintf("layer%d.weight", l), uniform(rng, in), in, out))
		m.bs = append(m.bs, m.addParam(fmt.Sprintf("layer%d.bias", l), uniform(rng, in), out))
		in = out
	}
	return m, nil
}

// Config is the configuration the network was built with (defaults filled in).
func (m *MLP) Config() MLPConfig {
	c := m.cfg
	c.Hidden = append([]int(nil), c.Hidden...)
	c.LR = m.lr
	return c
}

func (m *MLP) build(tp *tensor.Tape, x, t *tensor.Tensor) *tensor.Tensor {
	B, D := x.Dim(0), m.dim
	F := D + 1 + 2*mlpTimeFreqs
	in := tp.Input(B, F)
	for b := 0; b < B; b++ {
		row := b * F
		for i := 0; i < D; i++ {
			in.Set(row+i, x.At(b*D+i))
		}
		tv := t.At(b)
		in.Set(row+D, tv)
		for k := 1; k <= mlpTimeFreqs; k++ {
			s, c := math.Sincos(2 * math.Pi * float64(k) * tv)
			in.Set(row+D+2*k-1, s)
			in.Set(row+D+2*k, c)
		}
	}
	h := in
	last := len(m.ws) - 1
	for l := range m.ws {
		act := m.act
		if l == last {
			act = tensor.ActNone
		}
		h = tp.Linear(h, m.ws[l], m.bs[l], act)
	}
	return h
}

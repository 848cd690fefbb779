package nn

import (
	"fmt"
	"io"
	"math/rand/v2"

	"adjoint/lib/tensor"
)

// EGNNConfig describes the E(n)-equivariant controller network of the synthetic benchmarks.
// Zero fields take the defaults.
type EGNNConfig struct {
	// Particles is the number of particles n (≥ 2).
	Particles int
	// SpatialDim is the dimension d of each particle's position.
	SpatialDim int
	// Layers is the number of message-passing layers (default 5).
	Layers int
	// Hidden is the width of the node and edge features (default 128).
	Hidden int
	// Attention gates messages with sigmoid(Lin(m)) (nil means the default, true; see Bool).
	Attention *bool
	// TanhRange is the total coordinate range: each layer's coordinate step is
	// tanh(·)·TanhRange/Layers (default 15).
	TanhRange float64
	// LastGain is the xavier-uniform gain of the last coordinate layer (default 1e-3).
	LastGain float64
	// Seed seeds the initialisation.
	Seed int64
	// LR is Adam's learning rate (default 1e-4).
	LR float64
}

// Bool returns a pointer to v, for optional fields such as EGNNConfig.Attention.
func Bool(v bool) *bool { return &v }

func (c *EGNNConfig) normalise() error {
	if c.Particles < 2 {
		return fmt.Errorf("nn: EGNN needs at least 2 particles, have %d", c.Particles)
	}
	if c.SpatialDim < 1 {
		return fmt.Errorf("nn: EGNN spatial dimension %d < 1", c.SpatialDim)
	}
	if c.Layers == 0 {
		c.Layers = 5
	}
	if c.Hidden == 0 {
		c.Hidden = 128
	}
	if c.Layers < 1 || c.Hidden < 1 {
		return fmt.Errorf("nn: EGNN layers %d and hidden %d must be positive", c.Layers, c.Hidden)
	}
	if c.Attention == nil {
		c.Attention = Bool(true)
	} else {
		c.Attention = Bool(*c.Attention)
	}
	if c.TanhRange == 0 {
		c.TanhRange = 15
	}
	if c.LastGain == 0 {
		c.LastGain = 1e-3
	}
	if c.LR <= 0 {
		c.LR = DefaultLR
	}
	return nil
}

type egnnLayer struct {
	wa, wb, b1, wr, we *tensor.Tensor // first edge layer, split at node level
	w2, b2             *tensor.Tensor // second edge layer
	wg, bg             *tensor.Tensor // attention gate
	wc1, bc1, wc2      *tensor.Tensor // coordinate head (wc2 without bias)
	wn1, bn1, wn2, bn2 *tensor.Tensor // node update
}

// EGNN is the E(n)-equivariant controller v_θ(x, t) on a fully connected particle graph.
// Node features start as h_i = Linear(1→H)(t); the static edge attribute a_ij is the squared
// distance at the input positions. Each layer, with r_ij = ‖x_i − x_j‖²:
//
//	m_ij = SiLU(Lin(SiLU(Lin([h_i, h_j, r_ij, a_ij]))))   (first Lin split at node level)
//	m_ij = m_ij · sigmoid(Lin(m_ij))                       (attention, optional)
//	x_i += Σ_j (x_i − x_j)/(sqrt(r_ij + 1e-8) + 1) · tanh(Lin(SiLU(Lin(m_ij)))) · TanhRange/Layers
//	h_i += Lin(SiLU(Lin([h_i, Σ_j m_ij])))
//
// The output is x_final − x with the centre of mass removed (the last layer's node update does
// not reach it and is skipped). It implements Model; like every model here it is not safe for
// concurrent use.
type EGNN struct {
	base
	cfg        EGNNConfig
	embW, embB *tensor.Tensor
	layers     []egnnLayer
}

var _ Differentiable = (*EGNN)(nil)

// NewEGNN builds a float32 EGNN with PyTorch's default Linear initialisation and a
// xavier-uniform last coordinate layer with gain LastGain.
func NewEGNN(cfg EGNNConfig) (*EGNN, error) { return newEGNN(cfg, tensor.Float32) }

func newEGNN(cfg EGNNConfig, dtype tensor.DType) (*EGNN, error) {
	if err := cfg.normalise(); err != nil {
		return nil, err
	}
	n, d, H := cfg.Particles, cfg.SpatialDim, cfg.Hidden
	m := &EGNN{base: newBase(n*d, dtype, cfg.LR), cfg: cfg}
	m.g = m
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x65676e6e))
	m.embW = m.addParam("embedding.weight", uniform(rng, 1), 1, H)
	m.embB = m.addParam("embedding.bias", uniform(rng, 1), H)
	for l := 0; l < cfg.Layers; l++ {
		p := func(s string) string { return fmt.Sprintf("layer%d.%s", l, s) }
		var L egnnLayer
		fe := 2*H + 2
		L.wa = m.addParam(p("edge1.weight_i"), uniform(rng, fe), H, H)
		L.wb = m.addParam(p("edge1.weight_j"), uniform(rng, fe), H, H)
		L.wr = m.addParam(p("edge1.weight_radial"), uniform(rng, fe), H)
		L.we = m.addParam(p("edge1.weight_attr"), uniform(rng, fe), H)
		L.b1 = m.addParam(p("edge1.bias"), uniform(rng, fe), H)
		L.w2 = m.addParam(p("edge2.weight"), uniform(rng, H), H, H)
		L.b2 = m.addParam(p("edge2.bias"), uniform(rng, H), H)
		if *cfg.Attention {
			L.wg = m.addParam(p("att.weight"), uniform(rng, H), H)
			L.bg = m.addParam(p("att.bias"), uniform(rng, H), 1)
		}
		L.wc1 = m.addParam(p("coord1.weight"), uniform(rng, H), H, H)
		L.bc1 = m.addParam(p("coord1.bias"), uniform(rng, H), H)
		L.wc2 = m.addParam(p("coord2.weight"), xavier(rng, H, 1, cfg.LastGain), H)
		L.wn1 = m.addParam(p("node1.weight"), uniform(rng, 2*H), 2*H, H)
		L.bn1 = m.addParam(p("node1.bias"), uniform(rng, 2*H), H)
		L.wn2 = m.addParam(p("node2.weight"), uniform(rng, H), H, H)
		L.bn2 = m.addParam(p("node2.bias"), uniform(rng, H), H)
		m.layers = append(m.layers, L)
	}
	return m, nil
}

// Config is the configuration the network was built with (defaults filled in).
func (m *EGNN) Config() EGNNConfig {
	c := m.cfg
	c.Attention = Bool(*c.Attention)
	c.LR = m.lr
	return c
}

// Save writes the EGNN (architecture, parameters, Adam state) in the versioned format.
func (m *EGNN) Save(w io.Writer) error { return m.save(w, "egnn", m.Config()) }

func (m *EGNN) build(tp *tensor.Tape, x, t *tensor.Tensor) *tensor.Tensor {
	B, n, d := x.Dim(0), m.cfg.Particles, m.cfg.SpatialDim
	X := tp.Input(B, n, d)
	T := tp.Input(B, n, 1)
	for i := 0; i < B*n*d; i++ {
		X.Set(i, x.At(i))
	}
	for b := 0; b < B; b++ {
		tv := t.At(b)
		for i := 0; i < n; i++ {
			T.Set(b*n+i, tv)
		}
	}
	h := tp.Linear(T, m.embW, m.embB, tensor.ActNone)
	attr := tp.SqNorm(tp.PairDiff(X))
	pos := X
	step := m.cfg.TanhRange / float64(m.cfg.Layers)
	for l, L := range m.layers {
		D := tp.PairDiff(pos)
		r := tp.SqNorm(D)
		Dn := tp.NormDiff(D, r)
		a := tp.Linear(h, L.wa, nil, tensor.ActNone)
		bm := tp.Linear(h, L.wb, L.b1, tensor.ActNone)
		e1 := tp.EdgeCombine(a, bm, r, attr, L.wr, L.we, tensor.ActSiLU)
		msg := tp.Linear(e1, L.w2, L.b2, tensor.ActSiLU)
		if L.wg != nil {
			msg = tp.Gate(msg, L.wg, L.bg)
		}
		c1 := tp.Linear(msg, L.wc1, L.bc1, tensor.ActSiLU)
		c := tp.DotTanh(c1, L.wc2, step)
		pos = tp.CoordUpdate(pos, Dn, c)
		if l == len(m.layers)-1 {
			// The last node update does not reach the output.
			break
		}
		agg := tp.SumPairs(msg)
		u := tp.Linear(tp.Concat(h, agg), L.wn1, L.bn1, tensor.ActSiLU)
		h = tp.Add(h, tp.Linear(u, L.wn2, L.bn2, tensor.ActNone))
	}
	return tp.RemoveMean(tp.Sub(pos, X))
}

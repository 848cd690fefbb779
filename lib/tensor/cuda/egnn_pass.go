package cuda

import "fmt"

// The forward and backward passes of EGNN. Every intermediate lives in one device arena that
// grows to the largest batch seen; a frame is the set of views of it for one batch size. With
// B states, N = B·n nodes and P = B·n·(n−1) ordered pairs, the pair tensors [P, H] dominate:
// training keeps six (seven with attention) per layer plus three of scratch; inference reuses
// one layer's set.

// egnnLayerFrame holds one layer's activations.
type egnnLayerFrame struct {
	D, r, Dn, c, u, gate *Buffer // pair geometry [P, d], [P], [P, d]; coordinate head [P]; gate [P]
	pos                  *Buffer // positions after the layer [B, n, d]
	h                    *Buffer // node features entering the layer [N, H]
	cat, nu, sigNu       *Buffer // node update: [h | agg] [N, 2H], SiLU output and sigmoid [N, H]
	e1, sigE1, m0, sigM  *Buffer // edge layers [P, H]
	mg, c1, sigC1        *Buffer // gated message, coordinate hidden layer and sigmoid [P, H]
	msg                  *Buffer // the message the layer passes on (mg or m0)
	hasNodeUpdate        bool
}

// egnnFrame holds the views of one call.
type egnnFrame struct {
	B, N, P                      int
	x, tb, tn, target, out, tmp  *Buffer
	ab, agg, htmp                *Buffer // [a | bm] (two [N, H] blocks abStride apart), Σ_j m_ij, node2 output
	abStride                     int
	layers                       []egnnLayerFrame
	bufA, bufB, scratch          *Buffer // [P, H] gradient buffers
	dD, dDn, dr, dc, dz          *Buffer
	dpos                         [2]*Buffer
	dout, dh, dab, dcat, du, dag *Buffer
}

// carver hands out consecutive 256-byte-aligned views of an arena (only sizes when base is nil).
type carver struct {
	base *Buffer
	off  int
}

func (c *carver) take(n int) *Buffer {
	var b *Buffer
	if c.base != nil {
		b = view(c.base, c.off, n)
	}
	c.off += align64(n)
	return b
}

// layout carves the frame of a batch of B; train adds the saved activations of every layer and
// the gradient buffers.
func (m *EGNN) layout(c *carver, B int, train bool) *egnnFrame {
	n, d, H, L := m.cfg.Particles, m.cfg.SpatialDim, m.cfg.Hidden, m.cfg.Layers
	N, P := B*n, B*n*(n-1)
	f := &egnnFrame{B: B, N: N, P: P}
	f.x, f.tb, f.tn, f.out, f.tmp = c.take(B*n*d), c.take(B), c.take(N), c.take(B*n*d), c.take(B*n*d)
	f.abStride = align64(N * H)
	f.ab = c.take(2 * f.abStride)
	f.agg, f.htmp = c.take(N*H), c.take(N*H)
	f.layers = make([]egnnLayerFrame, L)
	for l := range f.layers {
		lf := &f.layers[l]
		lf.hasNodeUpdate = l < L-1
		lf.D, lf.r, lf.Dn, lf.c, lf.u = c.take(P*d), c.take(P), c.take(P*d), c.take(P), c.take(P)
		if m.cfg.Attention {
			lf.gate = c.take(P)
		}
		lf.pos, lf.h = c.take(B*n*d), c.take(N*H)
		if lf.hasNodeUpdate {
			lf.cat, lf.nu = c.take(2*N*H), c.take(N*H)
			if train {
				lf.sigNu = c.take(N * H)
			}
		}
		if !train && l > 0 {
			// Inference reuses layer 0's pair tensors.
			l0 := &f.layers[0]
			lf.e1, lf.m0, lf.mg, lf.c1 = l0.e1, l0.m0, l0.mg, l0.c1
		} else {
			lf.e1, lf.m0, lf.c1 = c.take(P*H), c.take(P*H), c.take(P*H)
			if m.cfg.Attention {
				lf.mg = c.take(P * H)
			}
			if train {
				lf.sigE1, lf.sigM, lf.sigC1 = c.take(P*H), c.take(P*H), c.take(P*H)
			}
		}
		lf.msg = lf.m0
		if m.cfg.Attention {
			lf.msg = lf.mg
		}
	}
	if !train {
		return f
	}
	f.target = c.take(B * n * d)
	f.bufA, f.bufB, f.scratch = c.take(P*H), c.take(P*H), c.take(P*H)
	f.dD, f.dDn, f.dr, f.dc, f.dz = c.take(P*d), c.take(P*d), c.take(P), c.take(P), c.take(P)
	f.dpos = [2]*Buffer{c.take(B * n * d), c.take(B * n * d)}
	f.dout, f.dh, f.dab = c.take(B*n*d), c.take(N*H), c.take(2*f.abStride)
	f.dcat, f.du, f.dag = c.take(2*N*H), c.take(N*H), c.take(N*H)
	return f
}

// frame returns the views for a batch of B, growing the arena when it is too small.
func (m *EGNN) frame(B int, train bool) (*egnnFrame, error) {
	if err := checkPairs("egnn", B, m.cfg.Particles, max(m.cfg.Hidden, m.cfg.SpatialDim)); err != nil {
		return nil, err
	}
	size := &carver{}
	m.layout(size, B, train)
	if m.arena == nil || m.arena.Len() < size.off {
		if m.arena != nil {
			if err := m.dev.Free(m.arena); err != nil {
				return nil, err
			}
			m.arena = nil
			if m.dev.emu == nil {
				// The old arena's block would stay cached in the pool: give it back.
				if err := m.dev.TrimPool(); err != nil {
					return nil, err
				}
			}
		}
		a, err := m.dev.Alloc(size.off)
		if err != nil {
			return nil, fmt.Errorf("EGNN workspace of %d MiB for batch %d: %w", size.off>>18, B, err)
		}
		m.arena = a
	}
	return m.layout(&carver{base: m.arena}, B, train), nil
}

// par is a view of parameter (or gradient, with g) at offset off.
func (m *EGNN) par(off, n int) *Buffer  { return view(m.p, off, n) }
func (m *EGNN) grad(off, n int) *Buffer { return view(m.g, off, n) }

// forward uploads x and t and computes every layer into f; f.out receives the output.
func (m *EGNN) forward(f *egnnFrame, x, t []float32) error {
	dev := m.dev
	n, d, H := m.cfg.Particles, m.cfg.SpatialDim, m.cfg.Hidden
	B, N, P := f.B, f.N, f.P
	step := float32(m.cfg.TanhRange / float64(m.cfg.Layers))
	if err := firstErr(dev.CopyHtoD(f.x, x), dev.CopyHtoD(f.tb, t)); err != nil {
		return err
	}
	if err := dev.Repeat(f.tn, f.tb, B, n, 1); err != nil {
		return err
	}
	if err := dev.Linear(f.layers[0].h, nil, f.tn, m.par(m.embW, H), m.par(m.embB, H), ActNone, N, 1, H); err != nil {
		return err
	}
	attr := f.layers[0].r // the squared distances at the input positions
	pos := f.x
	for l := range f.layers {
		L, lf := m.layers[l], &f.layers[l]
		ops := []func() error{
			func() error { return dev.PairDiff(lf.D, pos, B, n, d) },
			func() error { return dev.SqNorm(lf.r, lf.D, P, d) },
			func() error { return dev.NormDiff(lf.Dn, lf.D, lf.r, P, d) },
			// a = h·W_a, bm = h·W_b in one strided-batched product, then bm += b1.
			func() error {
				return dev.SgemmStridedBatched(false, false, N, H, H, 1, lf.h, H, 0, m.par(L.wa, L.wb-L.wa+H*H), H, L.wb-L.wa,
					0, f.ab, H, f.abStride, 2)
			},
			func() error { return dev.BiasAct(view(f.ab, f.abStride, N*H), m.par(L.b1, H), nil, ActNone, N, H) },
			func() error {
				return dev.EdgeCombine(lf.e1, lf.sigE1, view(f.ab, 0, N*H), view(f.ab, f.abStride, N*H), lf.r, attr,
					m.par(L.wr, H), m.par(L.we, H), ActSiLU, B, n, H)
			},
			func() error {
				return dev.Linear(lf.m0, lf.sigM, lf.e1, m.par(L.w2, H*H), m.par(L.b2, H), ActSiLU, P, H, H)
			},
			func() error {
				if !m.cfg.Attention {
					return nil
				}
				return dev.Gate(lf.mg, lf.gate, lf.m0, m.par(L.wg, H), m.par(L.bg, 1), P, H)
			},
			func() error {
				return dev.Linear(lf.c1, lf.sigC1, lf.msg, m.par(L.wc1, H*H), m.par(L.bc1, H), ActSiLU, P, H, H)
			},
			func() error { return dev.DotTanh(lf.c, lf.u, lf.c1, m.par(L.wc2, H), step, P, H) },
			func() error { return dev.CoordUpdate(lf.pos, pos, lf.Dn, lf.c, B, n, d) },
		}
		if lf.hasNodeUpdate {
			next := f.layers[l+1].h
			ops = append(ops,
				func() error { return dev.SumPairs(f.agg, lf.msg, N, n-1, H, false) },
				func() error { return dev.Concat(lf.cat, lf.h, f.agg, N, H, H) },
				func() error {
					return dev.Linear(lf.nu, lf.sigNu, lf.cat, m.par(L.wn1, 2*H*H), m.par(L.bn1, H), ActSiLU, N, 2*H, H)
				},
				func() error {
					return dev.Linear(f.htmp, nil, lf.nu, m.par(L.wn2, H*H), m.par(L.bn2, H), ActNone, N, H, H)
				},
				func() error { return dev.Add(next, lf.h, f.htmp) },
			)
		}
		for i, op := range ops {
			if err := op(); err != nil {
				return fmt.Errorf("EGNN layer %d forward op %d: %w", l, i, err)
			}
		}
		pos = lf.pos
	}
	if err := dev.Sub(f.tmp, pos, f.x); err != nil {
		return err
	}
	return dev.RemoveMean(f.out, f.tmp, B, n, d, false)
}

// backward fills m.g with the gradient of (1/B) Σ ‖out − target‖² from the activations of a
// training forward pass and f.target.
func (m *EGNN) backward(f *egnnFrame) error {
	dev := m.dev
	n, d, H := m.cfg.Particles, m.cfg.SpatialDim, m.cfg.Hidden
	B, N, P := f.B, f.N, f.P
	step := float32(m.cfg.TanhRange / float64(m.cfg.Layers))
	attr := f.layers[0].r
	da, dbm := view(f.dab, 0, N*H), view(f.dab, f.abStride, N*H)
	cur := 0
	pre := []func() error{
		func() error { return dev.Zero(m.g) },
		func() error { return dev.Zero(f.dout) },
		func() error { return dev.SqDiffBackward(f.dout, f.out, f.target, 2/float32(B)) },
		// out = RemoveMean(pos − x): the projection is symmetric.
		func() error { return dev.RemoveMean(f.dpos[cur], f.dout, B, n, d, false) },
		func() error { return dev.Zero(f.dh) },
	}
	for i, op := range pre {
		if err := op(); err != nil {
			return fmt.Errorf("EGNN loss backward op %d: %w", i, err)
		}
	}
	for l := len(f.layers) - 1; l >= 0; l-- {
		L, lf := m.layers[l], &f.layers[l]
		dmsg := f.bufA
		next, prev := f.dpos[cur], f.dpos[1-cur]
		first := l == 0 // the input positions need no gradient
		dc1 := f.bufB
		ops := []func() error{
			// Coordinate path: x_{l+1} = x_l + Σ_j Dn_ij·c_ij, c = step·tanh(SiLU(msg·W_c1 + b_c1)·w_c2).
			func() error { return dev.Zero(f.dc) },
			func() error {
				if first {
					return dev.CoordUpdateBackward(nil, nil, f.dc, lf.Dn, lf.c, next, B, n, d)
				}
				if err := dev.Zero(f.dDn); err != nil {
					return err
				}
				if err := dev.Zero(prev); err != nil {
					return err
				}
				return dev.CoordUpdateBackward(prev, f.dDn, f.dc, lf.Dn, lf.c, next, B, n, d)
			},
			func() error {
				return dev.DotTanhBackward(nil, m.grad(L.wc2, H), f.dz, lf.c1, m.par(L.wc2, H), lf.u, f.dc, step, P, H)
			},
			// dc1 = dz ⊗ w_c2, a rank-one product that overwrites dc1.
			func() error { return dev.Sgemm(false, false, P, H, 1, 1, f.dz, 1, m.par(L.wc2, H), H, 0, dc1, H) },
			func() error {
				return m.linearBackward(dmsg, 0, m.grad(L.wc1, H*H), m.grad(L.bc1, H), f.scratch, lf.msg, m.par(L.wc1, H*H),
					lf.c1, lf.sigC1, dc1, ActSiLU, P, H, H)
			},
		}
		if lf.hasNodeUpdate {
			// h_{l+1} = h_l + Lin(SiLU(Lin([h_l, Σ_j m_ij]))); f.dh holds dL/dh_{l+1}.
			ops = append(ops,
				func() error {
					return m.linearBackward(f.du, 0, m.grad(L.wn2, H*H), m.grad(L.bn2, H), nil, lf.nu, m.par(L.wn2, H*H), nil, nil,
						f.dh, ActNone, N, H, H)
				},
				func() error {
					return m.linearBackward(f.dcat, 0, m.grad(L.wn1, 2*H*H), m.grad(L.bn1, H), f.scratch, lf.cat, m.par(L.wn1, 2*H*H),
						lf.nu, lf.sigNu, f.du, ActSiLU, N, 2*H, H)
				},
				func() error { return dev.Zero(f.dag) },
				func() error { return dev.ConcatBackward(f.dh, f.dag, f.dcat, N, H, H) },
				func() error { return dev.SumPairsBackward(dmsg, f.dag, N, n-1, H) },
			)
		}
		dm, de1 := dmsg, f.bufB
		if m.cfg.Attention {
			dm, de1 = f.bufB, f.bufA
			ops = append(ops,
				func() error { return dev.Zero(dm) },
				func() error {
					return dev.GateBackward(dm, m.grad(L.wg, H), m.grad(L.bg, 1), f.dz, lf.m0, m.par(L.wg, H), lf.gate, dmsg, P, H)
				},
			)
		}
		ops = append(ops,
			func() error {
				return m.linearBackward(de1, 0, m.grad(L.w2, H*H), m.grad(L.b2, H), f.scratch, lf.e1, m.par(L.w2, H*H), lf.m0,
					lf.sigM, dm, ActSiLU, P, H, H)
			},
			func() error { return dev.Zero(f.dab) },
			func() error {
				gr := EdgeGrads{A: da, BM: dbm, WR: m.grad(L.wr, H), WE: m.grad(L.we, H)}
				if !first {
					if err := dev.Zero(f.dr); err != nil {
						return err
					}
					gr.R = f.dr
				}
				return dev.EdgeCombineBackward(gr, f.scratch, lf.sigE1, lf.e1, de1, lf.r, attr, m.par(L.wr, H), m.par(L.we, H),
					ActSiLU, B, n, H)
			},
			func() error { return dev.ColSum(m.grad(L.b1, H), dbm, nil, N, H) },
			// dh_l += da·W_aᵀ + dbm·W_bᵀ; dW_a, dW_b += h_lᵀ·[da, dbm] (one strided-batched product).
			func() error { return dev.Sgemm(false, true, N, H, H, 1, da, H, m.par(L.wa, H*H), H, 1, f.dh, H) },
			func() error { return dev.Sgemm(false, true, N, H, H, 1, dbm, H, m.par(L.wb, H*H), H, 1, f.dh, H) },
			func() error {
				return dev.SgemmStridedBatched(true, false, H, H, N, 1, lf.h, H, 0, f.dab, H, f.abStride, 1,
					m.grad(L.wa, L.wb-L.wa+H*H), H, L.wb-L.wa, 2)
			},
		)
		if !first {
			ops = append(ops,
				func() error { return dev.Zero(f.dD) },
				func() error { return dev.NormDiffBackward(f.dD, f.dr, lf.D, lf.r, f.dDn, P, d) },
				func() error { return dev.SqNormBackward(f.dD, lf.D, f.dr, P, d) },
				func() error { return dev.PairDiffBackward(prev, f.dD, B, n, d) },
			)
		}
		for i, op := range ops {
			if err := op(); err != nil {
				return fmt.Errorf("EGNN layer %d backward op %d: %w", l, i, err)
			}
		}
		cur = 1 - cur
	}
	err := dev.LinearBackward(nil, m.grad(m.embW, H), m.grad(m.embB, H), nil, f.tn, m.par(m.embW, H), f.dh, nil, f.dh, ActNone, N, 1, H)
	if err != nil {
		return fmt.Errorf("EGNN embedding backward: %w", err)
	}
	return nil
}

// linearBackward is LinearBackward with dx = beta·dx + g·Wᵀ (beta 0 overwrites dx, which then
// needs no clearing), g the pre-activation gradient (in scratch unless act is ActNone); dW and
// db (optional) accumulate.
func (m *EGNN) linearBackward(dx *Buffer, beta float32, dw, db, scratch, x, w, y, sig, dy *Buffer, act Act, rows, K, N int) error {
	dev := m.dev
	g := dy
	if act != ActNone {
		g = view(scratch, 0, rows*N)
		if err := dev.ActBackward(g, sig, y, dy, act, false); err != nil {
			return err
		}
	}
	if dx != nil {
		if err := dev.Sgemm(false, true, rows, K, N, 1, g, N, w, N, beta, dx, K); err != nil {
			return err
		}
	}
	if err := dev.Sgemm(true, false, K, N, rows, 1, x, K, g, N, 1, dw, N); err != nil {
		return err
	}
	if db != nil {
		return dev.ColSum(db, g, nil, rows, N)
	}
	return nil
}

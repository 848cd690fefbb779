package cuda

import "fmt"

func pairCount(B, n int) int { return B * n * (n - 1) }

func checkPairs(op string, B, n, d int) error {
	if B < 0 || n < 2 || d < 1 {
		return fmt.Errorf("cuda: %s: B=%d n=%d d=%d (need n ≥ 2, d ≥ 1)", op, B, n, d)
	}
	if B*n*n*d > maxInt32 {
		return fmt.Errorf("cuda: %s: B=%d n=%d d=%d exceeds 32-bit indexing", op, B, n, d)
	}
	return nil
}

// PairDiff sets y [B, n, n−1, d] = x_i − x_j for x [B, n, d] (lib/tensor's pair layout).
func (d *Device) PairDiff(y, x *Buffer, B, n, dim int) error {
	if err := firstErr(checkPairs("pair_diff", B, n, dim), need("pair_diff", pairCount(B, n)*dim, y), need("pair_diff", B*n*dim, x)); err != nil {
		return err
	}
	g, b := lin(pairCount(B, n) * dim)
	return d.run1("adj_pair_diff_fwd", g, b, func(a *kernelArgs) { a.ptr(y.ptr); a.ptr(x.ptr); a.int(B); a.int(n); a.int(dim) })
}

// PairDiffBackward adds the gradient of PairDiff to dx [B, n, d].
func (d *Device) PairDiffBackward(dx, dy *Buffer, B, n, dim int) error {
	if err := firstErr(checkPairs("pair_diff_bwd", B, n, dim), need("pair_diff_bwd", pairCount(B, n)*dim, dy), need("pair_diff_bwd", B*n*dim, dx)); err != nil {
		return err
	}
	g, b := lin(B * n * dim)
	return d.run1("adj_pair_diff_bwd", g, b, func(a *kernelArgs) { a.ptr(dx.ptr); a.ptr(dy.ptr); a.int(B); a.int(n); a.int(dim) })
}

// SqNorm sets y [rows] to the squared norms of the rows of x [rows, d].
func (d *Device) SqNorm(y, x *Buffer, rows, dim int) error {
	if err := firstErr(need("sqnorm", rows, y), need("sqnorm", rows*dim, x)); err != nil {
		return err
	}
	g, b := lin(rows)
	return d.run1("adj_sqnorm_fwd", g, b, func(a *kernelArgs) { a.ptr(y.ptr); a.ptr(x.ptr); a.int(rows); a.int(dim) })
}

// SqNormBackward adds 2·dy[r]·x[r, c] to dx.
func (d *Device) SqNormBackward(dx, x, dy *Buffer, rows, dim int) error {
	if err := firstErr(need("sqnorm_bwd", rows*dim, dx, x), need("sqnorm_bwd", rows, dy)); err != nil {
		return err
	}
	g, b := lin(rows * dim)
	return d.run1("adj_sqnorm_bwd", g, b, func(a *kernelArgs) { a.ptr(dx.ptr); a.ptr(x.ptr); a.ptr(dy.ptr); a.int(rows); a.int(dim) })
}

// NormDiff sets y = D / (sqrt(r + 1e-8) + 1) row by row, D [rows, d], r [rows].
func (d *Device) NormDiff(y, D, r *Buffer, rows, dim int) error {
	if err := firstErr(need("normdiff", rows*dim, y, D), need("normdiff", rows, r)); err != nil {
		return err
	}
	g, b := lin(rows * dim)
	return d.run1("adj_normdiff_fwd", g, b, func(a *kernelArgs) { a.ptr(y.ptr); a.ptr(D.ptr); a.ptr(r.ptr); a.int(rows); a.int(dim) })
}

// NormDiffBackward adds NormDiff's gradients to dD and dr (either optional).
func (d *Device) NormDiffBackward(dD, dr, D, r, dy *Buffer, rows, dim int) error {
	if err := firstErr(need("normdiff_bwd", rows*dim, D, dy), need("normdiff_bwd", rows, r), opt("normdiff_bwd", rows*dim, dD),
		opt("normdiff_bwd", rows, dr)); err != nil {
		return err
	}
	g, b := lin(rows)
	return d.run1("adj_normdiff_bwd", g, b, func(a *kernelArgs) {
		a.ptr(ptrOf(dD))
		a.ptr(ptrOf(dr))
		a.ptr(D.ptr)
		a.ptr(r.ptr)
		a.ptr(dy.ptr)
		a.int(rows)
		a.int(dim)
	})
}

// EdgeCombine sets y [B, n, n−1, H] = act(a_i + bm_j + wr·r_ij + we·e_ij) for node terms a, bm
// [B, n, H], pair scalars r, e [B, n, n−1] and weights wr, we [H] (e and we optional,
// together); sig (optional) keeps sigmoid of the pre-activation for SiLU's backward.
func (d *Device) EdgeCombine(y, sig, a, bm, r, e, wr, we *Buffer, act Act, B, n, H int) error {
	P := pairCount(B, n)
	if (e == nil) != (we == nil) {
		return fmt.Errorf("cuda: edge_combine: e and we go together")
	}
	if err := firstErr(checkPairs("edge_combine", B, n, H), need("edge_combine", P*H, y), opt("edge_combine", P*H, sig),
		need("edge_combine", B*n*H, a, bm), need("edge_combine", P, r), opt("edge_combine", P, e), need("edge_combine", H, wr),
		opt("edge_combine", H, we)); err != nil {
		return err
	}
	g, bl := lin(P * H)
	return d.run1("adj_edge_combine_fwd", g, bl, func(k *kernelArgs) {
		k.ptr(y.ptr)
		k.ptr(ptrOf(sig))
		k.ptr(a.ptr)
		k.ptr(bm.ptr)
		k.ptr(r.ptr)
		k.ptr(ptrOf(e))
		k.ptr(wr.ptr)
		k.ptr(ptrOf(we))
		k.i32(int32(act))
		k.int(B)
		k.int(n)
		k.int(H)
	})
}

// EdgeGrads are the gradient buffers of EdgeCombine; nil entries are not computed.
type EdgeGrads struct {
	A, BM, R, E, WR, WE *Buffer
}

// EdgeCombineBackward adds EdgeCombine's gradients into gr from the forward output y, the saved
// sigmoid sig (SiLU), the incoming gradient dy, and the forward inputs r, e, wr, we. scratch
// holds B·n·(n−1)·H floats (the pre-activation gradient).
func (d *Device) EdgeCombineBackward(gr EdgeGrads, scratch, sig, y, dy, r, e, wr, we *Buffer, act Act, B, n, H int) error {
	P := pairCount(B, n)
	if err := firstErr(checkPairs("edge_combine_bwd", B, n, H), need("edge_combine_bwd", P*H, scratch, y, dy),
		need("edge_combine_bwd", P, r), need("edge_combine_bwd", H, wr)); err != nil {
		return err
	}
	if (gr.E != nil || gr.WE != nil) && (e == nil || we == nil) {
		return fmt.Errorf("cuda: edge_combine_bwd: gradients of e/we need e and we")
	}
	return d.Do(func() error {
		g, err := scratch.Slice(0, P*H)
		if err != nil {
			return err
		}
		if err := d.ActBackward(g, sig, y, dy, act, false); err != nil {
			return err
		}
		if gr.A != nil {
			if err := d.SumPairs(gr.A, g, B*n, n-1, H, true); err != nil {
				return err
			}
		}
		if gr.BM != nil {
			if err := d.SumPartners(gr.BM, g, B, n, H); err != nil {
				return err
			}
		}
		if gr.R != nil {
			if err := d.RowDot(gr.R, g, wr, P, H, true); err != nil {
				return err
			}
		}
		if gr.E != nil {
			if err := d.RowDot(gr.E, g, we, P, H, true); err != nil {
				return err
			}
		}
		if gr.WR != nil {
			if err := d.ColSum(gr.WR, g, r, P, H); err != nil {
				return err
			}
		}
		if gr.WE != nil {
			if err := d.ColSum(gr.WE, g, e, P, H); err != nil {
				return err
			}
		}
		return nil
	})
}

// SumPairs sets (or adds to) out [nodes, H] the sums over k partners of m [nodes, k, H].
func (d *Device) SumPairs(out, m *Buffer, nodes, k, H int, accumulate bool) error {
	if err := firstErr(need("sum_pairs", nodes*H, out), need("sum_pairs", nodes*k*H, m)); err != nil {
		return err
	}
	g, b := lin(nodes * H)
	return d.run1("adj_sum_pairs", g, b, func(a *kernelArgs) {
		a.ptr(out.ptr)
		a.ptr(m.ptr)
		a.int(nodes)
		a.int(k)
		a.int(H)
		a.i32(b2i(accumulate))
	})
}

// SumPairsBackward adds dy [nodes, H] to every partner slot of dm [nodes, k, H].
func (d *Device) SumPairsBackward(dm, dy *Buffer, nodes, k, H int) error {
	if err := firstErr(need("sum_pairs_bwd", nodes*k*H, dm), need("sum_pairs_bwd", nodes*H, dy)); err != nil {
		return err
	}
	g, b := lin(nodes * k * H)
	return d.run1("adj_sum_pairs_bwd", g, b, func(a *kernelArgs) { a.ptr(dm.ptr); a.ptr(dy.ptr); a.int(nodes); a.int(k); a.int(H) })
}

// SumPartners adds to out [B, n, H] at particle j the sum of g [B, n, n−1, H] over the pairs
// (i, j) that have j as partner.
func (d *Device) SumPartners(out, g *Buffer, B, n, H int) error {
	if err := firstErr(checkPairs("sum_partners", B, n, H), need("sum_partners", B*n*H, out), need("sum_partners", pairCount(B, n)*H, g)); err != nil {
		return err
	}
	gr, b := lin(B * n * H)
	return d.run1("adj_sum_partners", gr, b, func(a *kernelArgs) { a.ptr(out.ptr); a.ptr(g.ptr); a.int(B); a.int(n); a.int(H) })
}

// Gate sets y = m ⊙ sigmoid(m·w + b) per row of m [rows, H] and keeps the gate in gate [rows];
// bias is a one-element buffer.
func (d *Device) Gate(y, gate, m, w, bias *Buffer, rows, H int) error {
	if err := firstErr(need("gate", rows*H, y, m), need("gate", rows, gate), need("gate", H, w), need("gate", 1, bias)); err != nil {
		return err
	}
	g, b := perWarp(rows)
	return d.run1("adj_gate_fwd", g, b, func(a *kernelArgs) {
		a.ptr(y.ptr)
		a.ptr(gate.ptr)
		a.ptr(m.ptr)
		a.ptr(w.ptr)
		a.ptr(bias.ptr)
		a.int(rows)
		a.int(H)
	})
}

// GateBackward adds Gate's gradients to dm, dw, db (each optional); dz is scratch of rows floats.
func (d *Device) GateBackward(dm, dw, db, dz, m, w, gate, dy *Buffer, rows, H int) error {
	if err := firstErr(need("gate_bwd", rows*H, m, dy), need("gate_bwd", rows, gate, dz), need("gate_bwd", H, w),
		opt("gate_bwd", rows*H, dm), opt("gate_bwd", H, dw), opt("gate_bwd", 1, db)); err != nil {
		return err
	}
	g, b := perWarp(rows)
	return d.Do(func() error {
		if err := d.run1("adj_gate_bwd", g, b, func(a *kernelArgs) {
			a.ptr(ptrOf(dm))
			a.ptr(dz.ptr)
			a.ptr(m.ptr)
			a.ptr(w.ptr)
			a.ptr(gate.ptr)
			a.ptr(dy.ptr)
			a.int(rows)
			a.int(H)
		}); err != nil {
			return err
		}
		if dw != nil {
			if err := d.ColSum(dw, m, dz, rows, H); err != nil {
				return err
			}
		}
		if db != nil {
			return d.ColSum(db, dz, nil, rows, 1)
		}
		return nil
	})
}

// DotTanh sets u[r] = tanh(c_r·w) and y[r] = scale·u[r] for c [rows, H].
func (d *Device) DotTanh(y, u, c, w *Buffer, scale float32, rows, H int) error {
	if err := firstErr(need("dot_tanh", rows, y, u), need("dot_tanh", rows*H, c), need("dot_tanh", H, w)); err != nil {
		return err
	}
	g, b := perWarp(rows)
	return d.run1("adj_dot_tanh_fwd", g, b, func(a *kernelArgs) {
		a.ptr(y.ptr)
		a.ptr(u.ptr)
		a.ptr(c.ptr)
		a.ptr(w.ptr)
		a.f32(scale)
		a.int(rows)
		a.int(H)
	})
}

// DotTanhBackward adds DotTanh's gradients to dc and dw (each optional); dz is scratch of rows
// floats.
func (d *Device) DotTanhBackward(dc, dw, dz, c, w, u, dy *Buffer, scale float32, rows, H int) error {
	if err := firstErr(need("dot_tanh_bwd", rows, u, dy, dz), need("dot_tanh_bwd", rows*H, c), need("dot_tanh_bwd", H, w),
		opt("dot_tanh_bwd", rows*H, dc), opt("dot_tanh_bwd", H, dw)); err != nil {
		return err
	}
	g, b := lin(rows * H)
	return d.Do(func() error {
		if err := d.run1("adj_dot_tanh_bwd", g, b, func(a *kernelArgs) {
			a.ptr(ptrOf(dc))
			a.ptr(dz.ptr)
			a.ptr(w.ptr)
			a.ptr(u.ptr)
			a.ptr(dy.ptr)
			a.f32(scale)
			a.int(rows)
			a.int(H)
		}); err != nil {
			return err
		}
		if dw != nil {
			return d.ColSum(dw, c, dz, rows, H)
		}
		return nil
	})
}

// CoordUpdate sets y [B, n, d] = x_i + Σ_k Dn(i, k)·c(i, k) for Dn [B, n, n−1, d], c [B, n, n−1].
func (d *Device) CoordUpdate(y, x, Dn, c *Buffer, B, n, dim int) error {
	P := pairCount(B, n)
	if err := firstErr(checkPairs("coord_update", B, n, dim), need("coord_update", B*n*dim, y, x), need("coord_update", P*dim, Dn),
		need("coord_update", P, c)); err != nil {
		return err
	}
	g, b := lin(B * n * dim)
	return d.run1("adj_coord_update_fwd", g, b, func(a *kernelArgs) {
		a.ptr(y.ptr)
		a.ptr(x.ptr)
		a.ptr(Dn.ptr)
		a.ptr(c.ptr)
		a.int(B)
		a.int(n)
		a.int(dim)
	})
}

// CoordUpdateBackward adds CoordUpdate's gradients to dx, dDn and dc (each optional).
func (d *Device) CoordUpdateBackward(dx, dDn, dc, Dn, c, dy *Buffer, B, n, dim int) error {
	P := pairCount(B, n)
	if err := firstErr(checkPairs("coord_update_bwd", B, n, dim), need("coord_update_bwd", B*n*dim, dy), need("coord_update_bwd", P*dim, Dn),
		need("coord_update_bwd", P, c), opt("coord_update_bwd", B*n*dim, dx), opt("coord_update_bwd", P*dim, dDn),
		opt("coord_update_bwd", P, dc)); err != nil {
		return err
	}
	g, b := lin(P)
	return d.Do(func() error {
		if dx != nil {
			dxv, err := dx.Slice(0, B*n*dim)
			if err != nil {
				return err
			}
			if err := d.Axpy(dxv, 1, dy); err != nil {
				return err
			}
		}
		if dDn == nil && dc == nil {
			return nil
		}
		return d.run1("adj_coord_update_bwd", g, b, func(a *kernelArgs) {
			a.ptr(ptrOf(dDn))
			a.ptr(ptrOf(dc))
			a.ptr(Dn.ptr)
			a.ptr(c.ptr)
			a.ptr(dy.ptr)
			a.int(B)
			a.int(n)
			a.int(dim)
		})
	})
}

// RemoveMean sets (or adds to, with accumulate) y [B, n, d] the centred x: x_i − mean_j x_j.
// With x = dy and accumulate it is its own backward (the projection is symmetric).
func (d *Device) RemoveMean(y, x *Buffer, B, n, dim int, accumulate bool) error {
	if err := need("remove_mean", B*n*dim, y, x); err != nil {
		return err
	}
	if n < 1 {
		return fmt.Errorf("cuda: remove_mean: n=%d", n)
	}
	g, b := lin(B * dim)
	return d.run1("adj_remove_mean", g, b, func(a *kernelArgs) {
		a.ptr(y.ptr)
		a.ptr(x.ptr)
		a.int(B)
		a.int(n)
		a.int(dim)
		a.i32(b2i(accumulate))
	})
}

package cuda

import "fmt"

// Act selects an activation; the values mirror lib/tensor's Act.
type Act int32

// Activations.
const (
	// ActNone is the identity.
	ActNone Act = iota
	// ActSiLU is x·sigmoid(x).
	ActSiLU
	// ActTanh is tanh(x).
	ActTanh
	// ActReLU is max(x, 0).
	ActReLU
	// ActSigmoid is 1/(1+exp(−x)).
	ActSigmoid
)

const (
	blockSize = 256
	maxGrid   = 1 << 20
)

// lin is the launch shape for n independent items (grid-stride loops take any excess).
func lin(n int) ([3]uint32, [3]uint32) {
	g := min((n+blockSize-1)/blockSize, maxGrid)
	return [3]uint32{uint32(g), 1, 1}, [3]uint32{blockSize, 1, 1}
}

// perWarp is the launch shape for one warp per row.
func perWarp(rows int) ([3]uint32, [3]uint32) {
	return lin(rows * 32)
}

// colSumShape is the launch shape of adj_col_sum: 32 columns by 8 row lanes per block; each
// block y takes a strided share of about 32 rows per lane.
func colSumShape(rows, cols int) ([3]uint32, [3]uint32) {
	gx := (cols + 31) / 32
	gy := min(max((rows+255)/256, 1), 1024)
	return [3]uint32{uint32(gx), uint32(gy), 1}, [3]uint32{32, 8, 1}
}

func ptrOf(b *Buffer) uint64 {
	if b == nil {
		return 0
	}
	return b.ptr
}

// need checks that each buffer is present and holds at least n floats.
func need(op string, n int, bufs ...*Buffer) error {
	if n < 0 || n > maxInt32 {
		return fmt.Errorf("cuda: %s: size %d out of range", op, n)
	}
	for i, b := range bufs {
		if b == nil {
			return fmt.Errorf("cuda: %s: buffer %d is nil", op, i)
		}
		if b.n < n {
			return fmt.Errorf("cuda: %s: buffer %d holds %d floats, needs %d", op, i, b.n, n)
		}
	}
	return nil
}

// opt checks an optional buffer (nil allowed).
func opt(op string, n int, b *Buffer) error {
	if b == nil {
		return nil
	}
	return need(op, n, b)
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// run1 packs arguments and launches kernel name on the device thread.
func (d *Device) run1(name string, grid, block [3]uint32, pack func(a *kernelArgs)) error {
	if d == nil {
		return fmt.Errorf("cuda: %s on a nil device", name)
	}
	return d.Do(func() error {
		d.args.reset()
		pack(d.args)
		return d.launch(name, grid, block, 0)
	})
}

// Fill sets every element of y to v.
func (d *Device) Fill(y *Buffer, v float32) error {
	n := y.Len()
	g, b := lin(n)
	return d.run1("adj_fill", g, b, func(a *kernelArgs) { a.ptr(y.ptr); a.f32(v); a.int(n) })
}

func (d *Device) binary(name string, y, x1, x2 *Buffer) error {
	if y == nil {
		return fmt.Errorf("cuda: %s: nil output", name)
	}
	n := y.Len()
	if err := need(name, n, x1, x2); err != nil {
		return err
	}
	g, b := lin(n)
	return d.run1(name, g, b, func(a *kernelArgs) { a.ptr(y.ptr); a.ptr(x1.ptr); a.ptr(x2.ptr); a.int(n) })
}

// Add sets y = a + b over y's length.
func (d *Device) Add(y, a, b *Buffer) error { return d.binary("adj_add", y, a, b) }

// Sub sets y = a − b.
func (d *Device) Sub(y, a, b *Buffer) error { return d.binary("adj_sub", y, a, b) }

// Mul sets y = a ⊙ b.
func (d *Device) Mul(y, a, b *Buffer) error { return d.binary("adj_mul", y, a, b) }

// Axpy sets y += alpha·x.
func (d *Device) Axpy(y *Buffer, alpha float32, x *Buffer) error {
	if y == nil {
		return fmt.Errorf("cuda: axpy: nil output")
	}
	n := y.Len()
	if err := need("axpy", n, x); err != nil {
		return err
	}
	g, b := lin(n)
	return d.run1("adj_axpy", g, b, func(a *kernelArgs) { a.ptr(y.ptr); a.ptr(x.ptr); a.f32(alpha); a.int(n) })
}

// MulAcc sets y += alpha·x1⊙x2 (the backward of a product).
func (d *Device) MulAcc(y *Buffer, alpha float32, x1, x2 *Buffer) error {
	if y == nil {
		return fmt.Errorf("cuda: mul_acc: nil output")
	}
	n := y.Len()
	if err := need("mul_acc", n, x1, x2); err != nil {
		return err
	}
	g, b := lin(n)
	return d.run1("adj_mul_acc", g, b, func(a *kernelArgs) { a.ptr(y.ptr); a.ptr(x1.ptr); a.ptr(x2.ptr); a.f32(alpha); a.int(n) })
}

// Scale sets y *= alpha.
func (d *Device) Scale(y *Buffer, alpha float32) error {
	n := y.Len()
	g, b := lin(n)
	return d.run1("adj_scale", g, b, func(a *kernelArgs) { a.ptr(y.ptr); a.f32(alpha); a.int(n) })
}

// ActForward sets y = act(z) over y's length; sig (optional) receives sigmoid(z) for SiLU,
// which ActBackward then uses.
func (d *Device) ActForward(y, z, sig *Buffer, act Act) error {
	n := y.Len()
	if err := firstErr(need("act_fwd", n, z), opt("act_fwd", n, sig)); err != nil {
		return err
	}
	g, b := lin(n)
	return d.run1("adj_act_fwd", g, b, func(a *kernelArgs) {
		a.ptr(y.ptr)
		a.ptr(z.ptr)
		a.ptr(ptrOf(sig))
		a.i32(int32(act))
		a.int(n)
	})
}

// ActBackward sets dx (+)= dy·act'(z) from the forward output y and, for SiLU, sig.
func (d *Device) ActBackward(dx, sig, y, dy *Buffer, act Act, accumulate bool) error {
	n := dx.Len()
	if act == ActSiLU && sig == nil {
		return fmt.Errorf("cuda: act_bwd: SiLU needs the saved sigmoid")
	}
	if err := firstErr(need("act_bwd", n, y, dy), opt("act_bwd", n, sig)); err != nil {
		return err
	}
	g, b := lin(n)
	return d.run1("adj_act_bwd", g, b, func(a *kernelArgs) {
		a.ptr(dx.ptr)
		a.ptr(ptrOf(sig))
		a.ptr(y.ptr)
		a.ptr(dy.ptr)
		a.i32(int32(act))
		a.i32(b2i(accumulate))
		a.int(n)
	})
}

// BiasAct sets y[r, c] = act(y[r, c] + bias[c]) in place over a [rows, cols] matrix (bias and
// sig optional): the epilogue of Linear after its Sgemm.
func (d *Device) BiasAct(y, bias, sig *Buffer, act Act, rows, cols int) error {
	n := rows * cols
	if err := firstErr(need("bias_act", n, y), opt("bias_act", cols, bias), opt("bias_act", n, sig)); err != nil {
		return err
	}
	g, b := lin(n)
	return d.run1("adj_bias_act", g, b, func(a *kernelArgs) {
		a.ptr(y.ptr)
		a.ptr(ptrOf(bias))
		a.ptr(ptrOf(sig))
		a.i32(int32(act))
		a.int(rows)
		a.int(cols)
	})
}

// Concat sets y [rows, ka+kb] = [x1 | x2] for x1 [rows, ka], x2 [rows, kb].
func (d *Device) Concat(y, x1, x2 *Buffer, rows, ka, kb int) error {
	if err := firstErr(need("concat", rows*(ka+kb), y), need("concat", rows*ka, x1), need("concat", rows*kb, x2)); err != nil {
		return err
	}
	g, b := lin(rows * (ka + kb))
	return d.run1("adj_concat_fwd", g, b, func(a *kernelArgs) {
		a.ptr(y.ptr)
		a.ptr(x1.ptr)
		a.ptr(x2.ptr)
		a.int(rows)
		a.int(ka)
		a.int(kb)
	})
}

// ConcatBackward adds the two column blocks of dy into dx1 and dx2 (either optional).
func (d *Device) ConcatBackward(dx1, dx2, dy *Buffer, rows, ka, kb int) error {
	if err := firstErr(need("concat_bwd", rows*(ka+kb), dy), opt("concat_bwd", rows*ka, dx1), opt("concat_bwd", rows*kb, dx2)); err != nil {
		return err
	}
	g, b := lin(rows * (ka + kb))
	return d.run1("adj_concat_bwd", g, b, func(a *kernelArgs) {
		a.ptr(ptrOf(dx1))
		a.ptr(ptrOf(dx2))
		a.ptr(dy.ptr)
		a.int(rows)
		a.int(ka)
		a.int(kb)
	})
}

// Repeat sets y [B, n, K] to x [B, K] repeated over the particle axis.
func (d *Device) Repeat(y, x *Buffer, B, n, K int) error {
	if err := firstErr(need("repeat", B*n*K, y), need("repeat", B*K, x)); err != nil {
		return err
	}
	g, b := lin(B * n * K)
	return d.run1("adj_repeat_fwd", g, b, func(a *kernelArgs) { a.ptr(y.ptr); a.ptr(x.ptr); a.int(B); a.int(n); a.int(K) })
}

// RepeatBackward adds the particle sums of dy [B, n, K] into dx [B, K].
func (d *Device) RepeatBackward(dx, dy *Buffer, B, n, K int) error {
	if err := firstErr(need("repeat_bwd", B*n*K, dy), need("repeat_bwd", B*K, dx)); err != nil {
		return err
	}
	g, b := lin(B * K)
	return d.run1("adj_repeat_bwd", g, b, func(a *kernelArgs) { a.ptr(dx.ptr); a.ptr(dy.ptr); a.int(B); a.int(n); a.int(K) })
}

// SqDiffSum adds Σ (out − target)² over out's length to loss[0].
func (d *Device) SqDiffSum(loss, out, target *Buffer) error {
	n := out.Len()
	if err := firstErr(need("sqdiff_sum", 1, loss), need("sqdiff_sum", n, target)); err != nil {
		return err
	}
	g, b := lin(n)
	g[0] = uint32(min(int(g[0]), 1024))
	return d.run1("adj_sqdiff_sum", g, b, func(a *kernelArgs) { a.ptr(loss.ptr); a.ptr(out.ptr); a.ptr(target.ptr); a.int(n) })
}

// SqDiffBackward adds scale·(out − target) to dout.
func (d *Device) SqDiffBackward(dout, out, target *Buffer, scale float32) error {
	n := dout.Len()
	if err := need("sqdiff_bwd", n, out, target); err != nil {
		return err
	}
	g, b := lin(n)
	return d.run1("adj_sqdiff_bwd", g, b, func(a *kernelArgs) {
		a.ptr(dout.ptr)
		a.ptr(out.ptr)
		a.ptr(target.ptr)
		a.f32(scale)
		a.int(n)
	})
}

// Adam applies one Adam step to p with gradient g and moments m, v (float32): lr is the
// learning rate divided by 1 − β1^t and sc2 = 1/sqrt(1 − β2^t), as lib/nn computes them.
func (d *Device) Adam(p, g, m, v *Buffer, lr, beta1, beta2, eps, sc2 float32) error {
	n := p.Len()
	if err := need("adam", n, g, m, v); err != nil {
		return err
	}
	gr, b := lin(n)
	return d.run1("adj_adam", gr, b, func(a *kernelArgs) {
		a.ptr(p.ptr)
		a.ptr(g.ptr)
		a.ptr(m.ptr)
		a.ptr(v.ptr)
		a.f32(lr)
		a.f32(beta1)
		a.f32(beta2)
		a.f32(eps)
		a.f32(sc2)
		a.int(n)
	})
}

// EMA folds p into its exponential moving average a: a ← d·a + (1 − d)·p, element by element.
func (d *Device) EMA(a, p *Buffer, decay float32) error {
	n := a.Len()
	if err := need("ema", n, p); err != nil {
		return err
	}
	gr, b := lin(n)
	return d.run1("adj_ema", gr, b, func(k *kernelArgs) {
		k.ptr(a.ptr)
		k.ptr(p.ptr)
		k.f32(decay)
		k.int(n)
	})
}

// ColSum adds the column sums of x [rows, cols], each row weighted by w[r] when w is not nil,
// to out [cols] (bias and weight-vector gradients).
func (d *Device) ColSum(out, x, w *Buffer, rows, cols int) error {
	if err := firstErr(need("col_sum", cols, out), need("col_sum", rows*cols, x), opt("col_sum", rows, w)); err != nil {
		return err
	}
	if rows == 0 || cols == 0 {
		return nil
	}
	g, b := colSumShape(rows, cols)
	return d.run1("adj_col_sum", g, b, func(a *kernelArgs) {
		a.ptr(out.ptr)
		a.ptr(x.ptr)
		a.ptr(ptrOf(w))
		a.int(rows)
		a.int(cols)
	})
}

// RowDot sets (or adds, with accumulate) out[r] = Σ_c x[r, c]·w[c] for x [rows, cols]; a nil w
// gives the row sums.
func (d *Device) RowDot(out, x, w *Buffer, rows, cols int, accumulate bool) error {
	if err := firstErr(need("row_dot", rows, out), need("row_dot", rows*cols, x), opt("row_dot", cols, w)); err != nil {
		return err
	}
	g, b := perWarp(rows)
	return d.run1("adj_row_dot", g, b, func(a *kernelArgs) {
		a.ptr(out.ptr)
		a.ptr(x.ptr)
		a.ptr(ptrOf(w))
		a.int(rows)
		a.int(cols)
		a.i32(b2i(accumulate))
	})
}

package cuda

import "fmt"

// Linear sets y [rows, N] = act(x·w + b) for x [rows, K], w [K, N] and b [N] (optional), as
// lib/tensor's Linear; sig (optional, rows·N) keeps sigmoid of the pre-activation for SiLU.
func (d *Device) Linear(y, sig, x, w, b *Buffer, act Act, rows, K, N int) error {
	if err := firstErr(need("linear", rows*N, y), need("linear", rows*K, x), need("linear", K*N, w), opt("linear", N, b),
		opt("linear", rows*N, sig)); err != nil {
		return err
	}
	return d.Do(func() error {
		if err := d.Sgemm(false, false, rows, N, K, 1, x, K, w, N, 0, y, N); err != nil {
			return err
		}
		if b == nil && act == ActNone {
			return nil
		}
		return d.BiasAct(y, b, sig, act, rows, N)
	})
}

// LinearBackward adds Linear's gradients to dx, dw and db (each optional) from the forward
// input x, weights w, output y, saved sig and the incoming gradient dy. scratch (rows·N
// floats) receives the pre-activation gradient; it may be nil for ActNone.
func (d *Device) LinearBackward(dx, dw, db, scratch, x, w, y, sig, dy *Buffer, act Act, rows, K, N int) error {
	if err := firstErr(need("linear_bwd", rows*N, y, dy), need("linear_bwd", rows*K, x), need("linear_bwd", K*N, w),
		opt("linear_bwd", rows*K, dx), opt("linear_bwd", K*N, dw), opt("linear_bwd", N, db)); err != nil {
		return err
	}
	if act != ActNone && scratch == nil {
		return fmt.Errorf("cuda: linear_bwd: activation %d needs scratch", act)
	}
	return d.Do(func() error {
		g := dy
		if act != ActNone {
			var err error
			if g, err = scratch.Slice(0, rows*N); err != nil {
				return err
			}
			if err := d.ActBackward(g, sig, y, dy, act, false); err != nil {
				return err
			}
		}
		if dx != nil {
			if err := d.Sgemm(false, true, rows, K, N, 1, g, N, w, N, 1, dx, K); err != nil {
				return err
			}
		}
		if dw != nil {
			if err := d.Sgemm(true, false, K, N, rows, 1, x, K, g, N, 1, dw, N); err != nil {
				return err
			}
		}
		if db != nil {
			return d.ColSum(db, g, nil, rows, N)
		}
		return nil
	})
}

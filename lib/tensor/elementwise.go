package tensor

// Activation applies act elementwise.
func (tp *Tape) Activation(x *Tensor, act Act) *Tensor {
	if !tp.check(x) {
		return tp.placeholder()
	}
	y := tp.allocLike(x)
	var pre *Tensor
	if x.grad && needsPre(act) {
		pre = tp.allocLike(x)
	}
	if tp.dtype == Float64 {
		actForwardPar(tp, act, data[float64](x), data[float64](y), data[float64](pre))
	} else {
		actForwardPar(tp, act, data[float32](x), data[float32](y), data[float32](pre))
	}
	tp.record(node{kind: opAct, act: act, out: y, in: [6]*Tensor{x}, aux: pre})
	return y
}

type actFwdJob[T float] struct {
	x, y, sig []T
	act       Act
}

func actForwardPar[T float](tp *Tape, act Act, x, y, sig []T) {
	j := &jobsFor[T](tp).actFwd
	*j = actFwdJob[T]{x: x, y: y, sig: sig, act: act}
	tp.par(len(x), 8, j)
}

func (j *actFwdJob[T]) Run(_, lo, hi int) {
	var s []T
	if j.sig != nil {
		s = j.sig[lo:hi]
	}
	actForward(j.act, j.x[lo:hi], j.y[lo:hi], s)
}

type actBwdJob[T float] struct {
	sig, y, dy, dx []T
	act            Act
}

func actBackward[T float](tp *Tape, n *node) {
	x, y := n.in[0], n.out
	dx := grad[T](x)
	if dx == nil {
		return
	}
	j := &jobsFor[T](tp).actBwd
	*j = actBwdJob[T]{sig: data[T](n.aux), y: data[T](y), dy: grad[T](y), dx: dx, act: n.act}
	tp.par(len(dx), 8, j)
}

func (j *actBwdJob[T]) Run(_, lo, hi int) {
	xd, yd, dy, dx := j.sig, j.y, j.dy, j.dx
	// dpre is computed into a temporary row buffer and accumulated.
	var buf [256]T
	for s := lo; s < hi; s += len(buf) {
		e := min(s+len(buf), hi)
		b := buf[:e-s]
		var sg []T
		if xd != nil {
			sg = xd[s:e]
		}
		actGrad(j.act, sg, yd[s:e], dy[s:e], b)
		for i, v := range b {
			dx[s+i] += v
		}
	}
}

func sameShape(a, b *Tensor) bool {
	return a.rank == b.rank && a.shape == b.shape
}

func (tp *Tape) binary(kind opKind, a, b *Tensor) *Tensor {
	if !tp.check(a, b) {
		return tp.placeholder()
	}
	if !sameShape(a, b) {
		tp.fail("elementwise op on shapes %v and %v", a.Shape(), b.Shape())
		return tp.placeholder()
	}
	y := tp.allocLike(a)
	if tp.dtype == Float64 {
		binaryForward[float64](kind, a, b, y)
	} else {
		binaryForward[float32](kind, a, b, y)
	}
	tp.record(node{kind: kind, out: y, in: [6]*Tensor{a, b}})
	return y
}

func binaryForward[T float](kind opKind, a, b, y *Tensor) {
	ad, bd, yd := data[T](a), data[T](b), data[T](y)
	switch kind {
	case opAdd:
		for i := range yd {
			yd[i] = ad[i] + bd[i]
		}
	case opSub:
		for i := range yd {
			yd[i] = ad[i] - bd[i]
		}
	case opMul:
		for i := range yd {
			yd[i] = ad[i] * bd[i]
		}
	}
}

func binaryBackward[T float](n *node) {
	a, b := n.in[0], n.in[1]
	dy, da, db := grad[T](n.out), grad[T](a), grad[T](b)
	switch n.kind {
	case opAdd, opSub:
		if da != nil {
			addTo(da, dy)
		}
		if db != nil {
			if n.kind == opAdd {
				addTo(db, dy)
			} else {
				for i, v := range dy {
					db[i] -= v
				}
			}
		}
	case opMul:
		ad, bd := data[T](a), data[T](b)
		if da != nil {
			for i, v := range dy {
				da[i] += v * bd[i]
			}
		}
		if db != nil {
			for i, v := range dy {
				db[i] += v * ad[i]
			}
		}
	}
}

// Add is a + b (same shapes).
func (tp *Tape) Add(a, b *Tensor) *Tensor { return tp.binary(opAdd, a, b) }

// Sub is a − b (same shapes).
func (tp *Tape) Sub(a, b *Tensor) *Tensor { return tp.binary(opSub, a, b) }

// Mul is the elementwise product a ⊙ b (same shapes).
func (tp *Tape) Mul(a, b *Tensor) *Tensor { return tp.binary(opMul, a, b) }

// Concat joins a [..., Ka] and b [..., Kb] along the last axis (same leading dimensions).
func (tp *Tape) Concat(a, b *Tensor) *Tensor {
	if !tp.check(a, b) {
		return tp.placeholder()
	}
	if a.rank != b.rank || a.rows() != b.rows() {
		tp.fail("Concat: shapes %v and %v", a.Shape(), b.Shape())
		return tp.placeholder()
	}
	s := a.shape
	s[a.rank-1] = a.cols() + b.cols()
	y := tp.alloc(a.rank, s[0], s[1], s[2], s[3])
	if tp.dtype == Float64 {
		concatForward[float64](a, b, y)
	} else {
		concatForward[float32](a, b, y)
	}
	tp.record(node{kind: opConcat, out: y, in: [6]*Tensor{a, b}})
	return y
}

func concatForward[T float](a, b, y *Tensor) {
	ka, kb := a.cols(), b.cols()
	ad, bd, yd := data[T](a), data[T](b), data[T](y)
	for r := 0; r < a.rows(); r++ {
		copy(yd[r*(ka+kb):], ad[r*ka:(r+1)*ka])
		copy(yd[r*(ka+kb)+ka:], bd[r*kb:(r+1)*kb])
	}
}

func concatBackward[T float](n *node) {
	a, b := n.in[0], n.in[1]
	ka, kb := a.cols(), b.cols()
	dy, da, db := grad[T](n.out), grad[T](a), grad[T](b)
	for r := 0; r < a.rows(); r++ {
		row := dy[r*(ka+kb) : (r+1)*(ka+kb)]
		if da != nil {
			addTo(da[r*ka:(r+1)*ka], row[:ka])
		}
		if db != nil {
			addTo(db[r*kb:(r+1)*kb], row[ka:])
		}
	}
}

// Repeat broadcasts x [B, K] over a new particle axis: the result is [B, n, K].
func (tp *Tape) Repeat(x *Tensor, n int) *Tensor {
	if !tp.check(x) {
		return tp.placeholder()
	}
	if x.rank != 2 || n < 1 {
		tp.fail("Repeat: shape %v, n %d", x.Shape(), n)
		return tp.placeholder()
	}
	B, K := x.shape[0], x.shape[1]
	y := tp.alloc(3, B, n, K, 0)
	if tp.dtype == Float64 {
		repeatForward[float64](x, y, n)
	} else {
		repeatForward[float32](x, y, n)
	}
	tp.record(node{kind: opRepeat, out: y, in: [6]*Tensor{x}})
	return y
}

func repeatForward[T float](x, y *Tensor, n int) {
	K := x.shape[1]
	xd, yd := data[T](x), data[T](y)
	for b := 0; b < x.shape[0]; b++ {
		for i := 0; i < n; i++ {
			copy(yd[(b*n+i)*K:(b*n+i+1)*K], xd[b*K:(b+1)*K])
		}
	}
}

func repeatBackward[T float](nd *node) {
	x, y := nd.in[0], nd.out
	dx := grad[T](x)
	if dx == nil {
		return
	}
	K, n := x.shape[1], y.shape[1]
	dy := grad[T](y)
	for b := 0; b < x.shape[0]; b++ {
		for i := 0; i < n; i++ {
			addTo(dx[b*K:(b+1)*K], dy[(b*n+i)*K:(b*n+i+1)*K])
		}
	}
}

// Sum is the sum of all elements, a one-element tensor.
func (tp *Tape) Sum(x *Tensor) *Tensor {
	if !tp.check(x) {
		return tp.placeholder()
	}
	y := tp.alloc(1, 1, 0, 0, 0)
	var s float64
	for i := 0; i < x.Len(); i++ {
		s += x.At(i)
	}
	y.Set(0, s)
	tp.record(node{kind: opSum, out: y, in: [6]*Tensor{x}})
	return y
}

func sumBackward[T float](n *node) {
	dx := grad[T](n.in[0])
	if dx == nil {
		return
	}
	g := grad[T](n.out)[0]
	for i := range dx {
		dx[i] += g
	}
}

// MSE is the regression loss (1/B) Σ_b ‖out_b − target_b‖² with B the first dimension of out;
// target has out's shape and gets no gradient. The result is a one-element tensor.
func (tp *Tape) MSE(out, target *Tensor) *Tensor {
	if !tp.check(out, target) {
		return tp.placeholder()
	}
	if out.Len() != target.Len() || out.Len() == 0 {
		tp.fail("MSE: shapes %v and %v", out.Shape(), target.Shape())
		return tp.placeholder()
	}
	y := tp.alloc(1, 1, 0, 0, 0)
	var s float64
	if tp.dtype == Float64 {
		o, t := data[float64](out), data[float64](target)
		for i := range o {
			d := o[i] - t[i]
			s += d * d
		}
	} else {
		o, t := data[float32](out), data[float32](target)
		for i := range o {
			d := float64(o[i] - t[i])
			s += d * d
		}
	}
	y.Set(0, s/float64(out.shape[0]))
	tp.record(node{kind: opMSE, out: y, in: [6]*Tensor{out, target}})
	return y
}

func mseBackward[T float](n *node) {
	out, target := n.in[0], n.in[1]
	d := grad[T](out)
	if d == nil {
		return
	}
	g := grad[T](n.out)[0] * 2 / T(out.shape[0])
	o, t := data[T](out), data[T](target)
	for i := range d {
		d[i] += g * (o[i] - t[i])
	}
}

// RemoveMean subtracts the mean over the particle axis: x [B, n, d] → x_i − (1/n) Σ_j x_j.
func (tp *Tape) RemoveMean(x *Tensor) *Tensor {
	if !tp.check(x) {
		return tp.placeholder()
	}
	if x.rank != 3 {
		tp.fail("RemoveMean: want [B, n, d], have %v", x.Shape())
		return tp.placeholder()
	}
	y := tp.allocLike(x)
	if tp.dtype == Float64 {
		removeMean(data[float64](x), data[float64](y), x.shape[0], x.shape[1], x.shape[2], false)
	} else {
		removeMean(data[float32](x), data[float32](y), x.shape[0], x.shape[1], x.shape[2], false)
	}
	tp.record(node{kind: opRemoveMean, out: y, in: [6]*Tensor{x}})
	return y
}

// removeMean writes y = x − mean over particles (accumulate adds into y instead).
func removeMean[T float](x, y []T, B, n, d int, accumulate bool) {
	var mean [8]T
	for b := 0; b < B; b++ {
		xb, yb := x[b*n*d:(b+1)*n*d], y[b*n*d:(b+1)*n*d]
		for k := 0; k < d; k++ {
			var s T
			for i := 0; i < n; i++ {
				s += xb[i*d+k]
			}
			if k < len(mean) {
				mean[k] = s / T(n)
			}
		}
		for i := 0; i < n; i++ {
			for k := 0; k < d; k++ {
				m := mean[k%len(mean)]
				if k >= len(mean) {
					var s T
					for j := 0; j < n; j++ {
						s += xb[j*d+k]
					}
					m = s / T(n)
				}
				if accumulate {
					yb[i*d+k] += xb[i*d+k] - m
				} else {
					yb[i*d+k] = xb[i*d+k] - m
				}
			}
		}
	}
}

func removeMeanBackward[T float](nd *node) {
	x := nd.in[0]
	dx := grad[T](x)
	if dx == nil {
		return
	}
	// The projection is symmetric: dx += P dy.
	removeMean(grad[T](nd.out), dx, x.shape[0], x.shape[1], x.shape[2], true)
}

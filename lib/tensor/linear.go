package tensor

import "unsafe"

// gemm runs the backend's matrix product in the precision of T.
func gemm[T float](tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	be := CurrentBackend()
	var z T
	if unsafe.Sizeof(z) == 4 {
		be.Sgemm(tA, tB, m, n, k, 1, f32s(a), lda, f32s(b), ldb, float32(beta), f32s(c), ldc)
		return
	}
	be.Dgemm(tA, tB, m, n, k, 1, f64s(a), lda, f64s(b), ldb, float64(beta), f64s(c), ldc)
}

func f32s[T float](s []T) []float32 {
	if s == nil {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

func f64s[T float](s []T) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// actForward applies act to z, writing y (z and y may alias); for SiLU it also stores
// sigmoid(z) into sig when sig is not nil (the backward pass needs no exp then).
func actForward[T float](act Act, z, y, sig []T) {
	switch act {
	case ActNone:
		if len(z) > 0 && &z[0] != &y[0] {
			copy(y, z)
		}
	case ActSiLU:
		if unsafe.Sizeof(z[0]) == 4 {
			siluF32(f32s(z), f32s(y), f32s(sig))
			return
		}
		if sig != nil {
			for i, v := range z {
				s := sigmoidT(v)
				sig[i] = s
				y[i] = v * s
			}
			return
		}
		for i, v := range z {
			y[i] = v * sigmoidT(v)
		}
	case ActTanh:
		for i, v := range z {
			y[i] = tanhT(v)
		}
	case ActReLU:
		for i, v := range z {
			y[i] = max(v, 0)
		}
	case ActSigmoid:
		for i, v := range z {
			y[i] = sigmoidT(v)
		}
	}
}

// actGrad writes dpre = dy·act'(z) from the activation output y (and, for SiLU, the saved
// sigmoid: d silu = s + y·(1 − s)).
func actGrad[T float](act Act, sig, y, dy, dpre []T) {
	switch act {
	case ActNone:
		copy(dpre, dy)
	case ActSiLU:
		for i, s := range sig {
			dpre[i] = dy[i] * (s + y[i]*(1-s))
		}
	case ActTanh:
		for i, v := range y {
			dpre[i] = dy[i] * (1 - v*v)
		}
	case ActReLU:
		for i, v := range y {
			if v > 0 {
				dpre[i] = dy[i]
			} else {
				dpre[i] = 0
			}
		}
	case ActSigmoid:
		for i, v := range y {
			dpre[i] = dy[i] * v * (1 - v)
		}
	}
}

func needsPre(act Act) bool { return act == ActSiLU }

func anyGrad(ts ...*Tensor) bool {
	for _, t := range ts {
		if t != nil && t.grad {
			return true
		}
	}
	return false
}

// Linear is act(x·w + b) over the last axis of x: x [..., K], w [K, N], b [N] or nil;
// the result has x's leading dimensions and N columns.
func (tp *Tape) Linear(x, w, b *Tensor, act Act) *Tensor {
	if !tp.check(x, w, b) {
		return tp.placeholder()
	}
	if w.rank != 2 || x.cols() != w.shape[0] || (b != nil && b.Len() != w.shape[1]) {
		tp.fail("Linear: x %v, w %v, b %v do not fit", x.Shape(), w.Shape(), shapeOf(b))
		return tp.placeholder()
	}
	s := x.shape
	s[x.rank-1] = w.shape[1]
	y := tp.alloc(x.rank, s[0], s[1], s[2], s[3])
	var pre *Tensor
	need := anyGrad(x, w, b)
	if need && needsPre(act) {
		pre = tp.allocLike(y)
	}
	if tp.dtype == Float64 {
		linearForward[float64](tp, x, w, b, pre, y, act)
	} else {
		linearForward[float32](tp, x, w, b, pre, y, act)
	}
	tp.record(node{kind: opLinear, act: act, out: y, in: [6]*Tensor{x, w, b}, aux: pre})
	return y
}

func shapeOf(t *Tensor) []int {
	if t == nil {
		return nil
	}
	return t.Shape()
}

type linFwdJob[T float] struct {
	xd, wd, bd, yd, pd []T
	K, N               int
	act                Act
}

func linearForward[T float](tp *Tape, x, w, b, pre, y *Tensor, act Act) {
	R, K, N := x.rows(), x.cols(), w.shape[1]
	j := &jobsFor[T](tp).linFwd
	*j = linFwdJob[T]{xd: data[T](x), wd: data[T](w), bd: data[T](b), yd: data[T](y), pd: data[T](pre), K: K, N: N, act: act}
	tp.par(R, K*N, j)
}

func (j *linFwdJob[T]) Run(_, lo, hi int) {
	xd, wd, bd, yd, pd, K, N, act := j.xd, j.wd, j.bd, j.yd, j.pd, j.K, j.N, j.act
	z := yd[lo*N : hi*N]
	gemm(false, false, hi-lo, N, K, xd[lo*K:hi*K], K, wd, N, 0, z, N)
	if bd != nil {
		for r := 0; r < hi-lo; r++ {
			row := z[r*N : (r+1)*N]
			for j := range row {
				row[j] += bd[j]
			}
		}
	}
	var sig []T
	if pd != nil {
		sig = pd[lo*N : hi*N]
	}
	actForward(act, z, z, sig)
}

type linBwdJob[T float] struct {
	xd, wd, yd, dy, dx, dw, db, pd, partW, partB []T
	K, N                                         int
	act                                          Act
}

func linearBackward[T float](tp *Tape, n *node) {
	x, w, b, y := n.in[0], n.in[1], n.in[2], n.out
	R, K, N := x.rows(), x.cols(), w.shape[1]
	dw, db := grad[T](w), grad[T](b)
	p := chunks(R, K*N)
	var partW, partB []T
	if p > 1 && dw != nil {
		partW = data[T](tp.alloc(2, p-1, K*N, 0, 0))
	}
	if p > 1 && db != nil {
		partB = data[T](tp.alloc(2, p-1, N, 0, 0))
	}
	j := &jobsFor[T](tp).linBwd
	*j = linBwdJob[T]{xd: data[T](x), wd: data[T](w), yd: data[T](y), dy: grad[T](y), dx: grad[T](x), dw: dw, db: db,
		pd: data[T](n.aux), partW: partW, partB: partB, K: K, N: N, act: n.act}
	tp.par(R, K*N, j)
	for q := 0; q < len(partW)/max(K*N, 1); q++ {
		addTo(dw, partW[q*K*N:(q+1)*K*N])
	}
	for q := 0; q < len(partB)/max(N, 1); q++ {
		addTo(db, partB[q*N:(q+1)*N])
	}
}

func (j *linBwdJob[T]) Run(part, lo, hi int) {
	xd, wd, yd, dy, dx, dw, db, pd, partW, partB := j.xd, j.wd, j.yd, j.dy, j.dx, j.dw, j.db, j.pd, j.partW, j.partB
	K, N := j.K, j.N
	// The output gradient is complete and read only here: dpre overwrites it in place.
	g := dy[lo*N : hi*N]
	if j.act != ActNone {
		var pr []T
		if pd != nil {
			pr = pd[lo*N : hi*N]
		}
		actGrad(j.act, pr, yd[lo*N:hi*N], g, g)
	}
	if dx != nil {
		gemm(false, true, hi-lo, K, N, g, N, wd, N, 1, dx[lo*K:hi*K], K)
	}
	if dw != nil {
		if part == 0 {
			gemm(true, false, K, N, hi-lo, xd[lo*K:hi*K], K, g, N, 1, dw, N)
		} else {
			gemm(true, false, K, N, hi-lo, xd[lo*K:hi*K], K, g, N, 0, partW[(part-1)*K*N:part*K*N], N)
		}
	}
	if db != nil {
		acc := db
		if part > 0 {
			acc = partB[(part-1)*N : part*N]
			clear(acc)
		}
		for r := 0; r < hi-lo; r++ {
			row := g[r*N : (r+1)*N]
			for j, v := range row {
				acc[j] += v
			}
		}
	}
}

func addTo[T float](dst, src []T) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += v
	}
}

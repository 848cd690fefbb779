package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
)

var (
	testDevOnce sync.Once
	testDev     *Device
	testDevErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if testDev != nil {
		if err := testDev.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "close device:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// gpu returns the test device (kernels synchronised after every launch) or skips the test,
// saying why, on a machine without one. A device whose kernels or cuBLAS fail is a failure.
func gpu(t *testing.T) *Device {
	t.Helper()
	testDevOnce.Do(func() {
		testDev, testDevErr = Open(Options{Sync: true})
		if testDevErr == nil {
			t.Logf("device %s, libraries %v, kernels: %s", testDev, testDev.Libraries(), testDev.CompileNote())
		}
	})
	if testDevErr != nil {
		t.Skip("no CUDA device: " + testDevErr.Error())
	}
	if err := testDev.KernelsErr(); err != nil {
		t.Fatalf("kernels unavailable on %s: %v", testDev, err)
	}
	if err := testDev.BLASErr(); err != nil {
		t.Fatalf("cuBLAS unavailable on %s: %v", testDev, err)
	}
	return testDev
}

type gpuT struct {
	t        *testing.T
	d        *Device
	r        *rand.Rand
	emulated bool
}

func newGPU(t *testing.T) *gpuT {
	return &gpuT{t: t, d: gpu(t), r: rand.New(rand.NewPCG(11, 12))}
}

func (g *gpuT) up(s []float32) *Buffer {
	g.t.Helper()
	b, err := g.d.Upload(s)
	if err != nil {
		g.t.Fatal(err)
	}
	g.t.Cleanup(func() { _ = g.d.Free(b) })
	return b
}

func (g *gpuT) rnd(n int) ([]float32, *Buffer) {
	s := randSlice(g.r, n)
	return s, g.up(s)
}

func (g *gpuT) zeros(n int) *Buffer {
	g.t.Helper()
	b, err := g.d.Zeros(n)
	if err != nil {
		g.t.Fatal(err)
	}
	g.t.Cleanup(func() { _ = g.d.Free(b) })
	return b
}

func (g *gpuT) down(b *Buffer) []float64 {
	g.t.Helper()
	s, err := g.d.Download(b)
	if err != nil {
		g.t.Fatal(err)
	}
	return to64(s)
}

func (g *gpuT) ok(err error) {
	g.t.Helper()
	if err != nil {
		g.t.Fatal(err)
	}
}

// near compares a device result with a float64 reference to float32 accuracy.
func near(t *testing.T, name string, got, want []float64) {
	t.Helper()
	if len(got) < len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	scale := 1.0
	for _, w := range want {
		scale = max(scale, math.Abs(w))
	}
	for i, w := range want {
		if d := math.Abs(got[i] - w); d > 1e-3*math.Abs(w)+2e-5*scale || math.IsNaN(got[i]) {
			t.Fatalf("%s[%d] = %v, want %v (scale %v)", name, i, got[i], w, scale)
		}
	}
}

func addTo(base []float32, d []float64) []float64 {
	out := to64(base)
	for i := range out {
		out[i] += d[i]
	}
	return out
}

func TestDeviceInfoAndCopies(t *testing.T) { testDeviceInfoAndCopies(t, newGPU(t)) }

func testDeviceInfoAndCopies(t *testing.T, g *gpuT) {
	ma, _ := g.d.ComputeCapability()
	if ma < 5 || g.d.Name() == "" || g.d.TotalMemory() == 0 {
		t.Errorf("device info: %q sm %d, %d bytes", g.d.Name(), ma, g.d.TotalMemory())
	}
	free, total, err := g.d.MemInfo()
	if err != nil || free == 0 || free > total {
		t.Errorf("MemInfo: %d free of %d, %v", free, total, err)
	}
	x, bx := g.rnd(1000)
	back := g.down(bx)
	near(t, "round trip", back, to64(x))
	view, err := bx.Slice(10, 20)
	g.ok(err)
	near(t, "slice", g.down(view), to64(x[10:30]))
	cp := g.zeros(1000)
	g.ok(g.d.CopyDtoD(cp, bx, 1000))
	near(t, "DtoD", g.down(cp), to64(x))
	// The pool hands a freed block back for the same class.
	b1, err := g.d.Alloc(3000)
	g.ok(err)
	p := b1.Ptr()
	g.ok(g.d.Free(b1))
	b2, err := g.d.Alloc(2900)
	g.ok(err)
	if b2.Ptr() != p {
		t.Errorf("pool did not reuse the block: %#x then %#x", p, b2.Ptr())
	}
	g.ok(g.d.Free(b2))
	if st := g.d.PoolStats(); st.Hits == 0 {
		t.Errorf("pool stats %+v: no hits", st)
	}
	// Errors, not panics, for bad arguments.
	if err := g.d.Add(g.zeros(10), g.zeros(5), g.zeros(10)); err == nil {
		t.Error("Add with a short input succeeded")
	}
	if err := g.d.Add(nil, nil, nil); err == nil {
		t.Error("Add with nil buffers succeeded")
	}
}

func TestElementwise(t *testing.T) { testElementwise(t, newGPU(t)) }

func testElementwise(t *testing.T, g *gpuT) {
	const n = 1234
	a, ba := g.rnd(n)
	b, bb := g.rnd(n)
	y := g.zeros(n)
	for _, tc := range []struct {
		name string
		run  func() error
		f    func(a, b float64) float64
	}{
		{"add", func() error { return g.d.Add(y, ba, bb) }, func(a, b float64) float64 { return a + b }},
		{"sub", func() error { return g.d.Sub(y, ba, bb) }, func(a, b float64) float64 { return a - b }},
		{"mul", func() error { return g.d.Mul(y, ba, bb) }, func(a, b float64) float64 { return a * b }},
	} {
		g.ok(tc.run())
		want := make([]float64, n)
		for i := range want {
			want[i] = tc.f(float64(a[i]), float64(b[i]))
		}
		near(t, tc.name, g.down(y), want)
	}
	// y holds a⊙b: y += 0.5·a, y += 2·a⊙b, y *= −3, then fill.
	g.ok(g.d.Axpy(y, 0.5, ba))
	g.ok(g.d.MulAcc(y, 2, ba, bb))
	g.ok(g.d.Scale(y, -3))
	want := make([]float64, n)
	for i := range want {
		ai, bi := float64(a[i]), float64(b[i])
		want[i] = -3 * (ai*bi + 0.5*ai + 2*ai*bi)
	}
	near(t, "axpy/mul_acc/scale", g.down(y), want)
	g.ok(g.d.Fill(y, 2.5))
	for i := range want {
		want[i] = 2.5
	}
	near(t, "fill", g.down(y), want)
}

func TestActivations(t *testing.T) { testActivations(t, newGPU(t)) }

func testActivations(t *testing.T, g *gpuT) {
	const n = 999
	z, bz := g.rnd(n)
	for _, act := range []Act{ActNone, ActSiLU, ActTanh, ActReLU, ActSigmoid} {
		t.Run(fmt.Sprint(act), func(t *testing.T) {
			g := &gpuT{t: t, d: g.d, r: g.r, emulated: g.emulated}
			y, sig := g.zeros(n), g.zeros(n)
			g.ok(g.d.ActForward(y, bz, sig, act))
			want := make([]float64, n)
			for i := range want {
				want[i] = refAct(act, float64(z[i]))
			}
			near(t, "forward", g.down(y), want)
			dy, bdy := g.rnd(n)
			dx0, bdx := g.rnd(n)
			g.ok(g.d.ActBackward(bdx, sig, y, bdy, act, true))
			f := func(in [][]float64) []float64 {
				out := make([]float64, len(in[0]))
				for i, v := range in[0] {
					out[i] = refAct(act, v)
				}
				return out
			}
			near(t, "backward", g.down(bdx), addTo(dx0, vjp(f, [][]float64{to64(z)}, 0, to64(dy))))
			// Overwrite mode.
			g.ok(g.d.ActBackward(bdx, sig, y, bdy, act, false))
			near(t, "backward/overwrite", g.down(bdx), vjp(f, [][]float64{to64(z)}, 0, to64(dy)))
		})
	}
}

func TestBiasActConcatRepeat(t *testing.T) { testBiasActConcatRepeat(t, newGPU(t)) }

func testBiasActConcatRepeat(t *testing.T, g *gpuT) {
	rows, cols := 37, 19
	y0, by := g.rnd(rows * cols)
	bias, bb := g.rnd(cols)
	sig := g.zeros(rows * cols)
	g.ok(g.d.BiasAct(by, bb, sig, ActSiLU, rows, cols))
	want := make([]float64, rows*cols)
	for i := range want {
		want[i] = refAct(ActSiLU, float64(y0[i])+float64(bias[i%cols]))
	}
	near(t, "bias_act", g.down(by), want)

	ka, kb := 5, 7
	a, ba := g.rnd(rows * ka)
	b, bbb := g.rnd(rows * kb)
	cat := g.zeros(rows * (ka + kb))
	g.ok(g.d.Concat(cat, ba, bbb, rows, ka, kb))
	got := g.down(cat)
	for r := 0; r < rows; r++ {
		near(t, "concat/a", got[r*(ka+kb):r*(ka+kb)+ka], to64(a[r*ka:(r+1)*ka]))
		near(t, "concat/b", got[r*(ka+kb)+ka:(r+1)*(ka+kb)], to64(b[r*kb:(r+1)*kb]))
	}
	da0, bda := g.rnd(rows * ka)
	db0, bdb := g.rnd(rows * kb)
	g.ok(g.d.ConcatBackward(bda, bdb, cat, rows, ka, kb)) // dy = the concatenation itself
	wantA, wantB := to64(da0), to64(db0)
	for i := range wantA {
		wantA[i] += float64(a[i])
	}
	for i := range wantB {
		wantB[i] += float64(b[i])
	}
	near(t, "concat_bwd/a", g.down(bda), wantA)
	near(t, "concat_bwd/b", g.down(bdb), wantB)

	B, n, K := 3, 5, 4
	x, bx := g.rnd(B * K)
	rep := g.zeros(B * n * K)
	g.ok(g.d.Repeat(rep, bx, B, n, K))
	gr := g.down(rep)
	for i := range gr {
		if bIdx, c := i/(n*K), i%K; gr[i] != float64(x[bIdx*K+c]) {
			t.Fatalf("repeat[%d] = %v", i, gr[i])
		}
	}
	dy, bdy := g.rnd(B * n * K)
	dx0, bdx := g.rnd(B * K)
	g.ok(g.d.RepeatBackward(bdx, bdy, B, n, K))
	wantR := to64(dx0)
	for i, v := range dy {
		bIdx, c := i/(n*K), i%K
		wantR[bIdx*K+c] += float64(v)
	}
	near(t, "repeat_bwd", g.down(bdx), wantR)
}

func TestReductionsLossAdam(t *testing.T) { testReductionsLossAdam(t, newGPU(t)) }

func testReductionsLossAdam(t *testing.T, g *gpuT) {
	sizes := [][2]int{{7, 3}, {1000, 45}, {70001, 130}, {5, 1}}
	if g.emulated {
		sizes = [][2]int{{7, 3}, {300, 45}, {5, 1}} // one host thread per CUDA thread: keep launches small
	}
	for _, sz := range sizes {
		rows, cols := sz[0], sz[1]
		x, bx := g.rnd(rows * cols)
		w, bw := g.rnd(rows)
		out0, bout := g.rnd(cols)
		g.ok(g.d.ColSum(bout, bx, bw, rows, cols))
		want := to64(out0)
		for r := 0; r < rows; r++ {
			for c := 0; c < cols; c++ {
				want[c] += float64(x[r*cols+c]) * float64(w[r])
			}
		}
		near(t, fmt.Sprintf("col_sum/weighted %v", sz), g.down(bout), want)
		unw := g.zeros(cols)
		g.ok(g.d.ColSum(unw, bx, nil, rows, cols))
		want = make([]float64, cols)
		for r := 0; r < rows; r++ {
			for c := 0; c < cols; c++ {
				want[c] += float64(x[r*cols+c])
			}
		}
		near(t, fmt.Sprintf("col_sum %v", sz), g.down(unw), want)
		v, bv := g.rnd(cols)
		rd0, brd := g.rnd(rows)
		g.ok(g.d.RowDot(brd, bx, bv, rows, cols, true))
		wantR := to64(rd0)
		for r := 0; r < rows; r++ {
			for c := 0; c < cols; c++ {
				wantR[r] += float64(x[r*cols+c]) * float64(v[c])
			}
		}
		near(t, fmt.Sprintf("row_dot %v", sz), g.down(brd), wantR)
		g.ok(g.d.RowDot(brd, bx, nil, rows, cols, false))
		for r := range wantR {
			wantR[r] = 0
			for c := 0; c < cols; c++ {
				wantR[r] += float64(x[r*cols+c])
			}
		}
		near(t, fmt.Sprintf("row_sum %v", sz), g.down(brd), wantR)
	}
	const n = 5000
	o, bo := g.rnd(n)
	tg, btg := g.rnd(n)
	loss := g.zeros(1)
	g.ok(g.d.SqDiffSum(loss, bo, btg))
	var s float64
	for i := range o {
		d := float64(o[i] - tg[i])
		s += d * d
	}
	near(t, "sqdiff_sum", g.down(loss), []float64{s})
	testLossGradAdam(t, g)
}

func testLossGradAdam(t *testing.T, g *gpuT) {
	const n = 5000
	o, bo := g.rnd(n)
	tg, btg := g.rnd(n)
	d0, bd := g.rnd(n)
	g.ok(g.d.SqDiffBackward(bd, bo, btg, 0.25))
	want := to64(d0)
	for i := range want {
		want[i] += 0.25 * float64(o[i]-tg[i])
	}
	near(t, "sqdiff_bwd", g.down(bd), want)

	// Three Adam steps against lib/nn's update (float64 moments).
	p0, bp := g.rnd(n)
	gr, bg := g.rnd(n)
	m, v := g.zeros(n), g.zeros(n)
	pw, mw, vw := to64(p0), make([]float64, n), make([]float64, n)
	const lr0, b1, b2, eps = 1e-2, 0.9, 0.999, 1e-8
	for step := 1; step <= 3; step++ {
		c1, c2 := 1-math.Pow(b1, float64(step)), 1-math.Pow(b2, float64(step))
		lr, sc2 := lr0/c1, 1/math.Sqrt(c2)
		g.ok(g.d.Adam(bp, bg, m, v, float32(lr), b1, b2, eps, float32(sc2)))
		for i := range pw {
			gi := float64(gr[i])
			mw[i] = b1*mw[i] + (1-b1)*gi
			vw[i] = b2*vw[i] + (1-b2)*gi*gi
			pw[i] -= lr * mw[i] / (math.Sqrt(vw[i])*sc2 + eps)
		}
	}
	near(t, "adam", g.down(bp), pw)
}

func TestPairOps(t *testing.T) { testPairOps(t, newGPU(t)) }

func testPairOps(t *testing.T, g *gpuT) {
	B, n, d := 3, 6, 3
	P := B * n * (n - 1)
	x, bx := g.rnd(B * n * d)
	D := g.zeros(P * d)
	g.ok(g.d.PairDiff(D, bx, B, n, d))
	wantD := refPairDiff(to64(x), B, n, d)
	near(t, "pair_diff", g.down(D), wantD)
	dy, bdy := g.rnd(P * d)
	dx0, bdx := g.rnd(B * n * d)
	g.ok(g.d.PairDiffBackward(bdx, bdy, B, n, d))
	near(t, "pair_diff_bwd", g.down(bdx), addTo(dx0, vjp(func(in [][]float64) []float64 { return refPairDiff(in[0], B, n, d) },
		[][]float64{to64(x)}, 0, to64(dy))))

	Dh := g.down(D)
	r := g.zeros(P)
	g.ok(g.d.SqNorm(r, D, P, d))
	wantR := refSqNorm(Dh, P, d)
	near(t, "sqnorm", g.down(r), wantR)
	dyr, bdyr := g.rnd(P)
	dD0, bdD := g.rnd(P * d)
	g.ok(g.d.SqNormBackward(bdD, D, bdyr, P, d))
	near(t, "sqnorm_bwd", g.down(bdD), addTo(dD0, vjp(func(in [][]float64) []float64 { return refSqNorm(in[0], P, d) },
		[][]float64{Dh}, 0, to64(dyr))))

	rh := g.down(r)
	Dn := g.zeros(P * d)
	g.ok(g.d.NormDiff(Dn, D, r, P, d))
	near(t, "normdiff", g.down(Dn), refNormDiff(Dh, rh, P, d))
	dyn, bdyn := g.rnd(P * d)
	dD1, bdD1 := g.rnd(P * d)
	dr1, bdr1 := g.rnd(P)
	g.ok(g.d.NormDiffBackward(bdD1, bdr1, D, r, bdyn, P, d))
	fnd := func(in [][]float64) []float64 { return refNormDiff(in[0], in[1], P, d) }
	near(t, "normdiff_bwd/D", g.down(bdD1), addTo(dD1, vjp(fnd, [][]float64{Dh, rh}, 0, to64(dyn))))
	near(t, "normdiff_bwd/r", g.down(bdr1), addTo(dr1, vjp(fnd, [][]float64{Dh, rh}, 1, to64(dyn))))

	// CoordUpdate with c random.
	c, bc := g.rnd(P)
	Dnh := g.down(Dn)
	y := g.zeros(B * n * d)
	g.ok(g.d.CoordUpdate(y, bx, Dn, bc, B, n, d))
	fcu := func(in [][]float64) []float64 { return refCoordUpdate(in[0], in[1], in[2], B, n, d) }
	ins := [][]float64{to64(x), Dnh, to64(c)}
	near(t, "coord_update", g.down(y), fcu(ins))
	dyc, bdyc := g.rnd(B * n * d)
	gx0, bgx := g.rnd(B * n * d)
	gD0, bgD := g.rnd(P * d)
	gc0, bgc := g.rnd(P)
	g.ok(g.d.CoordUpdateBackward(bgx, bgD, bgc, Dn, bc, bdyc, B, n, d))
	near(t, "coord_update_bwd/x", g.down(bgx), addTo(gx0, vjp(fcu, ins, 0, to64(dyc))))
	near(t, "coord_update_bwd/Dn", g.down(bgD), addTo(gD0, vjp(fcu, ins, 1, to64(dyc))))
	near(t, "coord_update_bwd/c", g.down(bgc), addTo(gc0, vjp(fcu, ins, 2, to64(dyc))))

	// RemoveMean and its accumulate (backward) form.
	rm := g.zeros(B * n * d)
	g.ok(g.d.RemoveMean(rm, bx, B, n, d, false))
	near(t, "remove_mean", g.down(rm), refRemoveMean(to64(x), B, n, d))
	acc0, bacc := g.rnd(B * n * d)
	g.ok(g.d.RemoveMean(bacc, bdyc, B, n, d, true))
	near(t, "remove_mean_bwd", g.down(bacc), addTo(acc0, vjp(func(in [][]float64) []float64 { return refRemoveMean(in[0], B, n, d) },
		[][]float64{to64(x)}, 0, to64(dyc))))
}

func TestEdgeOps(t *testing.T) { testEdgeOps(t, newGPU(t)) }

func testEdgeOps(t *testing.T, g *gpuT) {
	B, n, H := 2, 5, 40 // H not a multiple of 32: the warp loops see a partial tail
	P := B * n * (n - 1)
	for _, withE := range []bool{true, false} {
		t.Run(fmt.Sprintf("attr=%v", withE), func(t *testing.T) {
			g := &gpuT{t: t, d: g.d, r: g.r, emulated: g.emulated}
			a, ba := g.rnd(B * n * H)
			bm, bbm := g.rnd(B * n * H)
			r, br := g.rnd(P)
			wr, bwr := g.rnd(H)
			var e, we []float32
			var be, bwe *Buffer
			if withE {
				e, be = g.rnd(P)
				we, bwe = g.rnd(H)
			}
			y, sig := g.zeros(P*H), g.zeros(P*H)
			g.ok(g.d.EdgeCombine(y, sig, ba, bbm, br, be, bwr, bwe, ActSiLU, B, n, H))
			ins := [][]float64{to64(a), to64(bm), to64(r), to64(e), to64(wr), to64(we)}
			if !withE {
				ins[3], ins[5] = nil, nil
			}
			f := func(in [][]float64) []float64 {
				return refEdgeCombine(in[0], in[1], in[2], in[3], in[4], in[5], ActSiLU, B, n, H)
			}
			near(t, "edge_combine", g.down(y), f(ins))
			dy, bdy := g.rnd(P * H)
			var gr EdgeGrads
			init := map[string][]float32{}
			mk := func(name string, size int) *Buffer {
				s, b := g.rnd(size)
				init[name] = s
				return b
			}
			gr.A, gr.BM, gr.R, gr.WR = mk("a", B*n*H), mk("bm", B*n*H), mk("r", P), mk("wr", H)
			if withE {
				gr.E, gr.WE = mk("e", P), mk("we", H)
			}
			scratch := g.zeros(P * H)
			g.ok(g.d.EdgeCombineBackward(gr, scratch, sig, y, bdy, br, be, bwr, bwe, ActSiLU, B, n, H))
			for i, c := range []struct {
				name string
				buf  *Buffer
			}{{"a", gr.A}, {"bm", gr.BM}, {"r", gr.R}, {"e", gr.E}, {"wr", gr.WR}, {"we", gr.WE}} {
				if c.buf == nil {
					continue
				}
				near(t, "edge_combine_bwd/"+c.name, g.down(c.buf), addTo(init[c.name], vjp(f, ins, i, to64(dy))))
			}
		})
	}

	testEdgeGrads(t, g)
}

// testEdgeGrads is the part of testEdgeOps that needs only the grid-stride kernels (the
// emulator runs it too).
func testEdgeGrads(t *testing.T, g *gpuT) {
	B, n, H := 2, 5, 40
	P := B * n * (n - 1)
	// SumPairs, its backward, SumPartners.
	m, bmm := g.rnd(P * H)
	sp := g.zeros(B * n * H)
	g.ok(g.d.SumPairs(sp, bmm, B*n, n-1, H, false))
	near(t, "sum_pairs", g.down(sp), refSumPairs(to64(m), B*n, n-1, H))
	dsp, bdsp := g.rnd(B * n * H)
	dm0, bdm := g.rnd(P * H)
	g.ok(g.d.SumPairsBackward(bdm, bdsp, B*n, n-1, H))
	near(t, "sum_pairs_bwd", g.down(bdm), addTo(dm0, vjp(func(in [][]float64) []float64 { return refSumPairs(in[0], B*n, n-1, H) },
		[][]float64{to64(m)}, 0, to64(dsp))))
	spt0, bspt := g.rnd(B * n * H)
	g.ok(g.d.SumPartners(bspt, bmm, B, n, H))
	wantP := to64(spt0)
	for b := 0; b < B; b++ {
		for i := 0; i < n; i++ {
			for k := 0; k < n-1; k++ {
				j := partner(i, k)
				for h := 0; h < H; h++ {
					wantP[(b*n+j)*H+h] += float64(m[((b*n+i)*(n-1)+k)*H+h])
				}
			}
		}
	}
	near(t, "sum_partners", g.down(bspt), wantP)

	// Gate.
	rows := P
	w, bw := g.rnd(H)
	bias, bbias := g.rnd(1)
	gy, gate := g.zeros(rows*H), g.zeros(rows)
	g.ok(g.d.Gate(gy, gate, bmm, bw, bbias, rows, H))
	wantY, wantG := refGate(to64(m), to64(w), to64(bias), rows, H)
	near(t, "gate", g.down(gy), wantY)
	near(t, "gate/g", g.down(gate), wantG)
	dgy, bdgy := g.rnd(rows * H)
	gm0, bgm := g.rnd(rows * H)
	gw0, bgw := g.rnd(H)
	gb0, bgb := g.rnd(1)
	dz := g.zeros(rows)
	g.ok(g.d.GateBackward(bgm, bgw, bgb, dz, bmm, bw, gate, bdgy, rows, H))
	fg := func(in [][]float64) []float64 { y, _ := refGate(in[0], in[1], in[2], rows, H); return y }
	insG := [][]float64{to64(m), to64(w), to64(bias)}
	near(t, "gate_bwd/m", g.down(bgm), addTo(gm0, vjp(fg, insG, 0, to64(dgy))))
	near(t, "gate_bwd/w", g.down(bgw), addTo(gw0, vjp(fg, insG, 1, to64(dgy))))
	near(t, "gate_bwd/b", g.down(bgb), addTo(gb0, vjp(fg, insG, 2, to64(dgy))))

	// DotTanh.
	const scale = 3.0
	cy, u := g.zeros(rows), g.zeros(rows)
	g.ok(g.d.DotTanh(cy, u, bmm, bw, scale, rows, H))
	fd := func(in [][]float64) []float64 { return refDotTanh(in[0], in[1], scale, rows, H) }
	insD := [][]float64{to64(m), to64(w)}
	near(t, "dot_tanh", g.down(cy), fd(insD))
	dcy, bdcy := g.rnd(rows)
	dc0, bdc := g.rnd(rows * H)
	dw0, bdw := g.rnd(H)
	g.ok(g.d.DotTanhBackward(bdc, bdw, dz, bmm, bw, u, bdcy, scale, rows, H))
	near(t, "dot_tanh_bwd/c", g.down(bdc), addTo(dc0, vjp(fd, insD, 0, to64(dcy))))
	near(t, "dot_tanh_bwd/w", g.down(bdw), addTo(dw0, vjp(fd, insD, 1, to64(dcy))))
}

func TestSgemmParity(t *testing.T) { testSgemmParity(t, newGPU(t)) }

func testSgemmParity(t *testing.T, g *gpuT) {
	tol := 1e-4
	if g.d.TF32() {
		tol = 3e-3
	}
	for _, tc := range []struct {
		tA, tB  bool
		m, n, k int
		pad     int
	}{
		{false, false, 33, 65, 17, 0}, {true, false, 64, 16, 128, 3}, {false, true, 7, 129, 40, 1}, {true, true, 100, 50, 20, 2},
		{false, false, 1, 1, 1, 0}, {false, true, 5000, 128, 128, 0},
	} {
		ar, ac, br, bc := gemmShapes(tc.tA, tc.tB, tc.m, tc.n, tc.k)
		lda, ldb, ldc := ac+tc.pad, bc+tc.pad, tc.n+tc.pad
		A, bA := g.rnd(ar * lda)
		Bm, bB := g.rnd(br * ldb)
		C0, bC := g.rnd(tc.m * ldc)
		want := append([]float32(nil), C0...)
		rowSgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1.25, A, lda, Bm, ldb, -0.5, want, ldc)
		g.ok(g.d.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1.25, bA, lda, bB, ldb, -0.5, bC, ldc))
		got := g.down(bC)
		for i, w := range want {
			if d := math.Abs(got[i] - float64(w)); d > tol*(1+math.Abs(float64(w)))*math.Sqrt(float64(tc.k)) {
				t.Fatalf("sgemm %+v: C[%d] = %v, want %v", tc, i, got[i], w)
			}
		}
	}
	// Strided batched: 4 products of 9×6·6×11.
	batch, m, n, k := 4, 9, 11, 6
	A, bA := g.rnd(batch * m * k)
	Bm, bB := g.rnd(batch * k * n)
	bC := g.zeros(batch * m * n)
	g.ok(g.d.SgemmStridedBatched(false, false, m, n, k, 1, bA, k, m*k, bB, n, k*n, 0, bC, n, m*n, batch))
	got := g.down(bC)
	for i := 0; i < batch; i++ {
		want := make([]float32, m*n)
		rowSgemm(false, false, m, n, k, 1, A[i*m*k:], k, Bm[i*k*n:], n, 0, want, n)
		near(t, fmt.Sprintf("strided batch %d", i), got[i*m*n:(i+1)*m*n], to64(want))
	}
	if err := g.d.Sgemm(false, false, 20, 20, 20, 1, bA, 20, bB, 20, 0, bC, 20); err == nil { // A holds 216 floats, needs 400
		t.Error("sgemm on buffers too small succeeded")
	}
}

func TestLinear(t *testing.T) { testLinear(t, newGPU(t)) }

func refLinear(x, w, b []float64, act Act, rows, K, N int) []float64 {
	y := make([]float64, rows*N)
	for r := 0; r < rows; r++ {
		for c := 0; c < N; c++ {
			s := b[c]
			for k := 0; k < K; k++ {
				s += x[r*K+k] * w[k*N+c]
			}
			y[r*N+c] = refAct(act, s)
		}
	}
	return y
}

func testLinear(t *testing.T, g *gpuT) {
	rows, K, N := 23, 17, 9
	for _, act := range []Act{ActNone, ActSiLU, ActTanh} {
		x, bx := g.rnd(rows * K)
		w, bw := g.rnd(K * N)
		b, bb := g.rnd(N)
		y, sig := g.zeros(rows*N), g.zeros(rows*N)
		g.ok(g.d.Linear(y, sig, bx, bw, bb, act, rows, K, N))
		f := func(in [][]float64) []float64 { return refLinear(in[0], in[1], in[2], act, rows, K, N) }
		ins := [][]float64{to64(x), to64(w), to64(b)}
		near(t, fmt.Sprintf("linear/%d", act), g.down(y), f(ins))
		dy, bdy := g.rnd(rows * N)
		dx0, bdx := g.rnd(rows * K)
		dw0, bdw := g.rnd(K * N)
		db0, bdb := g.rnd(N)
		g.ok(g.d.LinearBackward(bdx, bdw, bdb, g.zeros(rows*N), bx, bw, y, sig, bdy, act, rows, K, N))
		near(t, fmt.Sprintf("linear_bwd/x/%d", act), g.down(bdx), addTo(dx0, vjp(f, ins, 0, to64(dy))))
		near(t, fmt.Sprintf("linear_bwd/w/%d", act), g.down(bdw), addTo(dw0, vjp(f, ins, 1, to64(dy))))
		near(t, fmt.Sprintf("linear_bwd/b/%d", act), g.down(bdb), addTo(db0, vjp(f, ins, 2, to64(dy))))
	}
}

// BenchmarkSgemmEGNN times the EGNN's largest product shape (LJ-55, batch 256: 760320×128×128).
func BenchmarkSgemmEGNN(b *testing.B) {
	d, err := Open(Options{})
	if err != nil {
		b.Skip("no CUDA device: " + err.Error())
	}
	defer d.Close()
	rows, H := 256*55*54, 128
	x, err1 := d.Zeros(rows * H)
	w, err2 := d.Zeros(H * H)
	y, err3 := d.Zeros(rows * H)
	if err := firstErr(err1, err2, err3); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if err := d.Sgemm(false, false, rows, H, H, 1, x, H, w, H, 0, y, H); err != nil {
			b.Fatal(err)
		}
	}
	if err := d.Sync(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(2*float64(rows*H*H)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

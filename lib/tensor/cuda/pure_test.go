package cuda

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unsafe"
)

func TestKernelArgsLayout(t *testing.T) {
	a := newKernelArgs()
	a.ptr(0x7f00_1234_5678_9abc)
	a.i32(-7)
	a.f32(1.5)
	a.int(123456)
	a.ptr(0)
	if a.err != nil {
		t.Fatal(a.err)
	}
	if a.n != 5 {
		t.Fatalf("n = %d, want 5", a.n)
	}
	wantSizes := []uint8{8, 4, 4, 4, 8}
	for i, s := range wantSizes {
		if a.sizes[i] != s {
			t.Errorf("arg %d size %d, want %d", i, a.sizes[i], s)
		}
	}
	params := (*[maxKernelArgs]unsafe.Pointer)(a.params())
	for i := 0; i < a.n; i++ {
		p := params[i]
		if p != unsafe.Pointer(&a.vals[i]) {
			t.Errorf("param %d does not point at its slot", i)
		}
		if uintptr(p)%8 != 0 {
			t.Errorf("param %d at %p is not 8-byte aligned", i, p)
		}
	}
	// What the kernel reads through each pointer, with the C size of the parameter.
	if got := *(*uint64)(params[0]); got != 0x7f00_1234_5678_9abc {
		t.Errorf("pointer read back as %#x", got)
	}
	if got := *(*int32)(params[1]); got != -7 {
		t.Errorf("int read back as %d", got)
	}
	if got := *(*float32)(params[2]); got != 1.5 {
		t.Errorf("float read back as %v", got)
	}
	if got := *(*int32)(params[3]); got != 123456 {
		t.Errorf("int from Go int read back as %d", got)
	}
	a.reset()
	if a.n != 0 || a.params() != nil {
		t.Error("reset did not clear the arguments")
	}
	a.int(math.MaxInt32 + 1)
	if a.err == nil {
		t.Error("an int that does not fit 32 bits was accepted")
	}
	a.reset()
	for i := 0; i <= maxKernelArgs; i++ {
		a.i32(int32(i))
	}
	if a.err == nil || a.n != maxKernelArgs {
		t.Errorf("overflow: n=%d err=%v", a.n, a.err)
	}
}

// fakeAlloc hands out increasing addresses and fails above a budget.
type fakeAlloc struct {
	next, budget, used uint64
	live               map[uint64]uint64
	allocs, frees      int
}

func (f *fakeAlloc) alloc(b uint64) (uint64, error) {
	if f.used+b > f.budget {
		return 0, errors.New("out of memory")
	}
	f.next += 1 << 32
	f.live[f.next] = b
	f.used += b
	f.allocs++
	return f.next, nil
}

func (f *fakeAlloc) free(p uint64) error {
	b, ok := f.live[p]
	if !ok {
		return errors.New("bad free")
	}
	delete(f.live, p)
	f.used -= b
	f.frees++
	return nil
}

func TestSizeClass(t *testing.T) {
	for _, tc := range []struct{ in, want uint64 }{
		{0, 512}, {1, 512}, {512, 512}, {513, 1024}, {1000, 1024}, {1 << 20, 1 << 20},
		{1<<20 + 1, 1<<20 + 1<<18}, {3 << 20, 3 << 20}, {5<<20 + 1, 5<<20 + 1<<20},
	} {
		if got := sizeClass(tc.in); got != tc.want {
			t.Errorf("sizeClass(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := r.Uint64N(1<<34) + 1
		c := sizeClass(b)
		if c < b || (b > 1<<20 && float64(c) > 1.25*float64(b)+1) {
			t.Fatalf("sizeClass(%d) = %d: too small or over 25%% waste", b, c)
		}
	}
}

func TestPoolBookkeeping(t *testing.T) {
	fa := &fakeAlloc{budget: 8 << 20, live: map[uint64]uint64{}}
	p := newPool(fa)
	a, ca, err := p.get(1000)
	if err != nil || ca != 1024 {
		t.Fatalf("get: %v, class %d", err, ca)
	}
	b, _, err := p.get(3 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.put(a); err != nil {
		t.Fatal(err)
	}
	if err := p.put(a); err == nil {
		t.Error("double free not reported")
	}
	a2, _, err := p.get(700) // same class: reuse
	if err != nil || a2 != a {
		t.Errorf("class reuse: got %#x, want %#x (%v)", a2, a, err)
	}
	want := PoolStats{Gets: 3, Hits: 1, Misses: 2, Reserved: 1024 + 3<<20, InUse: 1024 + 3<<20}
	if p.stats != want {
		t.Errorf("stats %+v, want %+v", p.stats, want)
	}
	if err := p.put(b); err != nil {
		t.Fatal(err)
	}
	// 6 MiB does not fit beside the cached 3 MiB block: the pool trims and retries.
	c, _, err := p.get(6 << 20)
	if err != nil {
		t.Fatalf("get after trim: %v", err)
	}
	if fa.frees != 1 || p.stats.Cached != 0 {
		t.Errorf("trim: %d frees, %d cached", fa.frees, p.stats.Cached)
	}
	if _, _, err := p.get(4 << 20); err == nil {
		t.Error("allocation over budget succeeded")
	}
	_ = p.put(c)
	if err := p.release(); err != nil {
		t.Fatal(err)
	}
	if len(fa.live) != 0 || p.stats.Reserved != 0 || p.stats.InUse != 0 {
		t.Errorf("after release: %d live blocks, stats %+v", len(fa.live), p.stats)
	}
}

func TestNVRTCOptions(t *testing.T) {
	tg, err := nvrtcTargets(9, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(tg) != 2 || !tg[0].cubin || tg[1].cubin {
		t.Fatalf("targets %+v: want CUBIN then PTX", tg)
	}
	if tg[0].opts[0] != "--gpu-architecture=sm_90" || tg[1].opts[0] != "--gpu-architecture=compute_90" {
		t.Errorf("arch options %q, %q", tg[0].opts[0], tg[1].opts[0])
	}
	if _, err := nvrtcTargets(0, 0); err == nil {
		t.Error("compute capability 0.0 accepted")
	}
	bufs, ptrs := cStringArray(tg[0].opts)
	if len(bufs) != len(tg[0].opts) || len(ptrs) != len(bufs) {
		t.Fatal("array lengths")
	}
	for i, b := range bufs {
		if b[len(b)-1] != 0 || string(b[:len(b)-1]) != tg[0].opts[i] || ptrs[i] != &b[0] {
			t.Errorf("option %d not a NUL-terminated copy pointed at by its entry", i)
		}
		if goString(ptrs[i]) != tg[0].opts[i] {
			t.Errorf("goString round trip of %q", tg[0].opts[i])
		}
	}
	if sourceKey("a", []string{"b"}) == sourceKey("a", []string{"c"}) || sourceKey("ab", nil) == sourceKey("a", []string{"b"}) {
		t.Error("sourceKey collides on different sources/options")
	}
}

// colSgemm is BLAS's column-major sgemm, written from its definition: element (i, j) of a
// column-major matrix with leading dimension ld is at i + j·ld.
func colSgemm(transa, transb, m, n, k int, alpha float32, A []float32, lda int, B []float32, ldb int, beta float32, C []float32, ldc int) {
	at := func(i, l int) float32 { // op(A)(i, l)
		if transa == cublasOpT {
			return A[l+i*lda]
		}
		return A[i+l*lda]
	}
	bt := func(l, j int) float32 {
		if transb == cublasOpT {
			return B[j+l*ldb]
		}
		return B[l+j*ldb]
	}
	for j := 0; j < n; j++ {
		for i := 0; i < m; i++ {
			var s float32
			for l := 0; l < k; l++ {
				s += at(i, l) * bt(l, j)
			}
			C[i+j*ldc] = alpha*s + beta*C[i+j*ldc]
		}
	}
}

// rowSgemm is the row-major reference.
func rowSgemm(tA, tB bool, m, n, k int, alpha float32, A []float32, lda int, B []float32, ldb int, beta float32, C []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for l := 0; l < k; l++ {
				var a, b float32
				if tA {
					a = A[l*lda+i]
				} else {
					a = A[i*lda+l]
				}
				if tB {
					b = B[j*ldb+l]
				} else {
					b = B[l*ldb+j]
				}
				s += a * b
			}
			C[i*ldc+j] = alpha*s + beta*C[i*ldc+j]
		}
	}
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

func TestRowMajorGemmMapping(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		tA, tB  bool
		m, n, k int
		pad     int
	}{
		{false, false, 5, 7, 3, 0}, {true, false, 5, 7, 3, 2}, {false, true, 4, 6, 9, 1}, {true, true, 8, 3, 5, 3},
		{false, false, 1, 1, 1, 0}, {true, true, 2, 9, 1, 4},
	} {
		ar, ac, br, bc := gemmShapes(tc.tA, tc.tB, tc.m, tc.n, tc.k)
		lda, ldb, ldc := ac+tc.pad, bc+tc.pad, tc.n+tc.pad
		A, B := randSlice(r, ar*lda), randSlice(r, br*ldb)
		C0 := randSlice(r, tc.m*ldc)
		want := append([]float32(nil), C0...)
		rowSgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1.5, A, lda, B, ldb, 0.5, want, ldc)
		g, err := rowMajorGemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, lda, ldb, ldc)
		if err != nil {
			t.Fatal(err)
		}
		got := append([]float32(nil), C0...)
		first, second := A, B
		if g.swapped {
			first, second = B, A
		}
		colSgemm(g.transa, g.transb, g.m, g.n, g.k, 1.5, first, g.lda, second, g.ldb, 0.5, got, g.ldc)
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-4*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("%+v: C[%d] = %v, want %v", tc, i, got[i], want[i])
			}
		}
	}
	if _, err := rowMajorGemm(false, false, 4, 5, 6, 5, 5, 5); err == nil {
		t.Error("lda smaller than k accepted")
	}
	if _, err := rowMajorGemm(false, true, 4, 5, 6, 6, 5, 5); err == nil {
		t.Error("ldb smaller than k (B transposed) accepted")
	}
}

// TestKernelNamesMatchWrappers checks that every kernel a Go wrapper launches is defined in the
// embedded sources, and that every defined kernel has a wrapper.
func TestKernelNamesMatchWrappers(t *testing.T) {
	src, err := kernelSource()
	if err != nil {
		t.Fatal(err)
	}
	defined := kernelNames(src)
	if len(defined) < 30 {
		t.Fatalf("only %d kernels found in the sources: %v", len(defined), defined)
	}
	def := map[string]bool{}
	for _, n := range defined {
		if def[n] {
			t.Errorf("kernel %s defined twice", n)
		}
		def[n] = true
	}
	used := map[string]bool{}
	re := regexp.MustCompile(`"(adj_[a-z0-9_]+)"`)
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	var missing, unused []string
	for n := range used {
		if !def[n] {
			missing = append(missing, n)
		}
	}
	for n := range def {
		if !used[n] {
			unused = append(unused, n)
		}
	}
	sort.Strings(missing)
	sort.Strings(unused)
	if len(missing) > 0 {
		t.Errorf("launched but not defined: %v", missing)
	}
	if len(unused) > 0 {
		t.Errorf("defined but never launched: %v", unused)
	}
}

// TestNilDevice checks that a nil *Device answers with errors and zero values, not panics.
func TestNilDevice(t *testing.T) {
	var d *Device
	if d.String() != "cpu" || d.Name() != "" || d.TotalMemory() != 0 || d.TF32() || len(d.Libraries()) != 0 {
		t.Error("nil device accessors")
	}
	if _, err := d.Alloc(4); err == nil {
		t.Error("Alloc on a nil device succeeded")
	}
	if err := d.Sgemm(false, false, 1, 1, 1, 1, nil, 1, nil, 1, 0, nil, 1); err == nil {
		t.Error("Sgemm on a nil device succeeded")
	}
	if err := d.Add(nil, nil, nil); err == nil {
		t.Error("Add on a nil device succeeded")
	}
	if err := d.Sync(); err == nil {
		t.Error("Sync on a nil device succeeded")
	}
	if d.KernelsErr() == nil || d.BLASErr() == nil {
		t.Error("nil device reports kernels or cuBLAS usable")
	}
}

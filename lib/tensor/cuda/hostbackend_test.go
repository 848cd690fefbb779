package cuda

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// refCPU is a CPUGemm from the row-major definitions.
type refCPU struct{}

func (refCPU) Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	rowSgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func (refCPU) Dgemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for l := 0; l < k; l++ {
				var x, y float64
				if tA {
					x = a[l*lda+i]
				} else {
					x = a[i*lda+l]
				}
				if tB {
					y = b[j*ldb+l]
				} else {
					y = b[l*ldb+j]
				}
				s += x * y
			}
			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
		}
	}
}

// checkHostBackend runs products through h and compares them (padding included) with the
// reference.
func checkHostBackend(t *testing.T, h *HostBackend, tol float64) {
	t.Helper()
	r := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct {
		tA, tB      bool
		m, n, k     int
		pad         int
		alpha, beta float32
	}{
		{false, false, 40, 30, 20, 0, 1, 0}, {true, false, 33, 17, 50, 2, 1, 1}, {false, true, 64, 64, 64, 3, 0.5, 0},
		{true, true, 9, 70, 31, 1, -1, 0.25}, {false, false, 2, 2, 2, 0, 1, 0},
	} {
		ar, ac, br, bc := gemmShapes(tc.tA, tc.tB, tc.m, tc.n, tc.k)
		lda, ldb, ldc := ac+tc.pad, bc+tc.pad, tc.n+tc.pad
		A, B, C0 := randSlice(r, ar*lda), randSlice(r, br*ldb), randSlice(r, tc.m*ldc)
		want := append([]float32(nil), C0...)
		rowSgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, A, lda, B, ldb, tc.beta, want, ldc)
		got := append([]float32(nil), C0...)
		h.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, A, lda, B, ldb, tc.beta, got, ldc)
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); d > tol*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("%+v: C[%d] = %v, want %v", tc, i, got[i], want[i])
			}
		}
	}
	a, b, c := []float64{1, 2, 3, 4}, []float64{5, 6, 7, 8}, make([]float64, 4)
	h.Dgemm(false, false, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2)
	if c[0] != 19 || c[1] != 22 || c[2] != 43 || c[3] != 50 {
		t.Errorf("Dgemm = %v", c)
	}
}

func TestHostBackendWithoutDevice(t *testing.T) {
	h := NewHostBackend(nil, refCPU{}, 0)
	checkHostBackend(t, h, 1e-5)
	if g, c := h.Calls(); g != 0 || c != 5 {
		t.Errorf("calls gpu=%d cpu=%d, want 0 and 5", g, c)
	}
}

// TestHostBackendFallback checks that a GPU failure (here: no cuBLAS in the emulator) leaves
// correct results from the CPU and an error that says why.
func TestHostBackendFallback(t *testing.T) {
	d := newEmulator(t)
	d.blasErr = errors.New("no cuBLAS here")
	h := NewHostBackend(d, refCPU{}, 1)
	checkHostBackend(t, h, 1e-5)
	if err := h.Err(); err == nil || !strings.Contains(err.Error(), "cuBLAS") {
		t.Errorf("Err() = %v, want the cuBLAS failure", err)
	}
	if g, c := h.Calls(); g != 0 || c != 5 {
		t.Errorf("calls gpu=%d cpu=%d, want 0 and 5", g, c)
	}
	if err := h.Close(); err != nil {
		t.Error(err)
	}
}

func TestHostBackendGPU(t *testing.T) {
	g := newGPU(t)
	h := NewHostBackend(g.d, refCPU{}, 100)
	defer h.Close()
	tol := 1e-4
	if g.d.TF32() {
		tol = 3e-3
	}
	checkHostBackend(t, h, tol)
	if err := h.Err(); err != nil {
		t.Fatal(err)
	}
	if gc, cc := h.Calls(); gc != 4 || cc != 1 {
		t.Errorf("calls gpu=%d cpu=%d, want 4 on the GPU and the 2×2×2 one on the CPU", gc, cc)
	}
}

// TestHostBackendEmulated runs the GPU path of HostBackend on the emulator (cuBLAS computed
// from its column-major definition): uploads, padding, the copy back.
func TestHostBackendEmulated(t *testing.T) {
	h := NewHostBackend(newEmulator(t), refCPU{}, 100)
	defer h.Close()
	checkHostBackend(t, h, 1e-5)
	if err := h.Err(); err != nil {
		t.Fatal(err)
	}
	if gc, cc := h.Calls(); gc != 4 || cc != 1 {
		t.Errorf("calls gpu=%d cpu=%d, want 4 and 1", gc, cc)
	}
}

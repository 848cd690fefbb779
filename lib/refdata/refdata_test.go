package refdata

import (
	"bytes"
	"errors"
	"math"
	"os"
	"testing"

	"adjoint/lib/energy"
	"adjoint/lib/metrics"
)

func TestFiles(t *testing.T) {
	for _, c := range []struct {
		name string
		rows int
		cols int
	}{
		{DW4Test, 10000, 8}, {DW4Val, 10000, 8}, {DW4Exact, 10000, 8},
		{LJ13Test, 10000, 39}, {"val_split_LJ13-1000", 10000, 39}, // the extension may be left out
	} {
		a, err := Load(c.name)
		if err != nil {
			t.Fatal(err)
		}
		if r, k := a.Rows(); r != c.rows || k != c.cols || a.DType != "float32" {
			t.Errorf("%s: %d × %d %s, want %d × %d float32", c.name, r, k, a.DType, c.rows, c.cols)
		}
		for _, v := range a.Data {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%s holds a non-finite number", c.name)
			}
		}
	}
	if n := Names(); len(n) != 5 {
		t.Fatalf("names %v", n)
	}
	for _, c := range []struct {
		fn     func(string) (string, error)
		system string
		want   string
	}{
		{Test, "dw4", DW4Test}, {Test, "lj13", LJ13Test}, {Test, "lj55", ""},
		{Exact, "dw4", DW4Exact}, {Exact, "lj13", ""},
	} {
		got, err := c.fn(c.system)
		if got != c.want || (c.want == "") != errors.Is(err, ErrUnknown) {
			t.Errorf("%s: %q, %v; want %q", c.system, got, err, c.want)
		}
	}
	if _, err := Load("test_split_DW5.npy"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("unknown name: %v", err)
	}
}

// TestPath: the copy on disk holds the embedded bytes, and a second call reuses it.
func TestPath(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	p, err := Path(DW4Test)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Bytes(DW4Test)
	if !bytes.Equal(b, want) {
		t.Fatal("copy differs from the embedded file")
	}
	p2, err := Path("test_split_DW4")
	if err != nil || p2 != p {
		t.Fatalf("second call: %q, %v; first %q", p2, err, p)
	}
	if _, err := Path("nothing"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("unknown name: %v", err)
	}
}

// TestExactDW4: the exact samples are centred, satisfy the identities that hold for any exact
// Boltzmann sample on the zero-CoM space (E[x·∇E] = d_eff = 6 and E[‖∇E‖²] = E[ΔE]), and hold
// the fraction of two-short-pair configurations that the test split lacks.
func TestExactDW4(t *testing.T) {
	a, err := Load(DW4Exact)
	if err != nil {
		t.Fatal(err)
	}
	x := a.Data
	b := len(x) / 8
	for i := range b {
		for c := range 2 {
			m := (x[i*8+c] + x[i*8+2+c] + x[i*8+4+c] + x[i*8+6+c]) / 4
			if math.Abs(m) > 1e-5 {
				t.Fatalf("sample %d not centred: mean %g", i, m)
			}
		}
	}
	w := energy.NewDW4()
	e := make([]float64, b)
	g := make([]float64, len(x))
	w.EnergyGrad(x, e, g)
	var xg, gg, lap []float64
	for i := range b {
		var s1, s2, l float64
		for j := range 8 {
			s1 += x[i*8+j] * g[i*8+j]
			s2 += g[i*8+j] * g[i*8+j]
		}
		// ΔE = Σ_pairs 2 (φ''(r) + φ'(r)/r) in 2-D, φ(u) = 0.9 u⁴ − 4 u², u = r − 4.
		for p := range 4 {
			for q := p + 1; q < 4; q++ {
				dx, dy := x[i*8+2*p]-x[i*8+2*q], x[i*8+2*p+1]-x[i*8+2*q+1]
				r := math.Sqrt(dx*dx + dy*dy + 1e-8)
				u := r - 4
				l += 2 * (10.8*u*u - 8 + (3.6*u*u*u-8*u)/r)
			}
		}
		xg, gg, lap = append(xg, s1), append(gg, s2), append(lap, l)
	}
	mxg, sxg := metrics.Mean(xg)
	if se := sxg / math.Sqrt(float64(b)); math.Abs(mxg-6) > 4*se {
		t.Errorf("E[x·∇E] = %.3f ± %.3f, want 6", mxg, se)
	}
	mgg, _ := metrics.Mean(gg)
	mlap, _ := metrics.Mean(lap)
	if r := mgg / mlap; math.Abs(r-1) > 0.05 {
		t.Errorf("E[‖∇E‖²]/E[ΔE] = %.3f, want 1", r)
	}
	me, se := metrics.Mean(e)
	if math.Abs(me+22.5) > 0.2 || math.Abs(se-1.9) > 0.15 {
		t.Errorf("energy %.3f ± %.3f (sd), want about −22.5 ± 1.9", me, se)
	}
	exact, err := metrics.ShortPairFractions(x, 4, 2, 4)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Load(DW4Test)
	if err != nil {
		t.Fatal(err)
	}
	split, err := metrics.ShortPairFractions(s.Data, 4, 2, 4)
	if err != nil {
		t.Fatal(err)
	}
	// Binomial standard error of a fraction near 0.5 over 10000 samples: 0.005.
	if math.Abs(exact[2]-0.518) > 0.02 || !(split[2] < exact[2]-0.05) {
		t.Errorf("fraction with two short pairs: exact %.4f (want 0.518), split %.4f", exact[2], split[2])
	}
	t.Logf("E[x·∇E] %.3f ± %.3f; ‖∇E‖²/ΔE %.4f; energy %.3f (sd %.3f); two short pairs: exact %.4f, split %.4f; three: %.4f, %.4f",
		mxg, sxg/math.Sqrt(float64(b)), mgg/mlap, me, se, exact[2], split[2], exact[3], split[3])
}

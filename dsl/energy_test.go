package dsl

import (
	"math"
	"math/rand/v2"
	"testing"

	"adjoint/internal/testutil"
	"adjoint/lib/energy"
	"adjoint/lib/npy"
)

func loadRows(t testing.TB, name string, rows int) ([]float64, int) {
	t.Helper()
	a, err := npy.ReadFile(testutil.SharedData(t, name))
	if err != nil {
		t.Fatal(err)
	}
	r, c := a.Rows()
	rows = min(rows, r)
	return a.Data[:rows*c], rows
}

// compileOne compiles a source with one system and returns it.
func compileOne(t testing.TB, src string) *energy.System {
	t.Helper()
	s := NewSession()
	binds, err := s.Exec(t.Context(), src, "test.adj", nil)
	if err != nil {
		t.Fatalf("compile:\n%v", err)
	}
	for _, b := range binds {
		if sys, ok := b.Value.(*energy.System); ok {
			return sys
		}
	}
	t.Fatal("no system declared")
	return nil
}

const dw4Src = `
system dw4 {
  particles 4 in 2d
  soften 1e-8            # r = sqrt(|x_i - x_j|^2 + 1e-8), as in the reference energy
  let a = 0.9, b = -4, d0 = 4
  energy = sum pairs i<j: a*(r[i,j] - d0)^4 + b*(r[i,j] - d0)^2
  symmetry translation, rotation, permutation
}`

const lj13Src = `
system lj13 {
  particles 13 in 3d
  energy = sum pairs i!=j: r[i,j]^-12 - 2*r[i,j]^-6
         + 0.5 * sum i: norm2(x[i] - com)
  symmetry translation, rotation, permutation
}`

func compareEnergies(t *testing.T, got, want energy.Energy, x []float64, B int) {
	t.Helper()
	nd := got.Particles() * got.SpatialDim()
	if got.Particles() != want.Particles() || got.SpatialDim() != want.SpatialDim() {
		t.Fatalf("shape %d×%d, want %d×%d", got.Particles(), got.SpatialDim(), want.Particles(), want.SpatialDim())
	}
	e1, e2 := make([]float64, B), make([]float64, B)
	g1, g2 := make([]float64, B*nd), make([]float64, B*nd)
	got.EnergyGrad(x, e1, g1)
	want.EnergyGrad(x, e2, g2)
	worstE, worstG := 0.0, 0.0
	for i := range e1 {
		worstE = max(worstE, math.Abs(e1[i]-e2[i])/max(1, math.Abs(e2[i])))
	}
	for i := range g1 {
		worstG = max(worstG, math.Abs(g1[i]-g2[i])/max(1, math.Abs(g2[i])))
	}
	if worstE > 1e-12 || worstG > 1e-12 {
		t.Errorf("max relative difference: energy %.3g, gradient %.3g (want ≤ 1e-12)", worstE, worstG)
	}
	// energy only (grad nil) agrees too
	e3 := make([]float64, B)
	got.EnergyGrad(x, e3, nil)
	for i := range e3 {
		if e3[i] != e1[i] {
			t.Fatalf("energy without gradient differs at %d: %v vs %v", i, e3[i], e1[i])
		}
	}
}

func TestDW4MatchesBuiltin(t *testing.T) {
	sys := compileOne(t, dw4Src)
	if !sys.Symmetry.Translation || !sys.Symmetry.Rotation || !sys.Symmetry.Permutation {
		t.Errorf("symmetry not set: %+v", sys.Symmetry)
	}
	x, B := loadRows(t, "test_split_DW4.npy", 1000)
	compareEnergies(t, sys.Energy, energy.NewDW4(), x, B)
}

func TestLJ13MatchesBuiltin(t *testing.T) {
	sys := compileOne(t, lj13Src)
	x, B := loadRows(t, "test_split_LJ13-1000.npy", 1000)
	lj, err := energy.NewLJ(13)
	if err != nil {
		t.Fatal(err)
	}
	compareEnergies(t, sys.Energy, lj, x, B)
}

// TestGradientFiniteDifferences checks the derived gradients of many formulas against
// central differences.
func TestGradientFiniteDifferences(t *testing.T) {
	cases := []struct{ name, src string }{
		{"pairs-lt", `system s { particles 4 in 2d; let a = 0.9, b = -4, d0 = 4
			energy = sum pairs i<j: a*(r[i,j] - d0)^4 + b*(r[i,j] - d0)^2 }`},
		{"pairs-ne-asym", `system s { particles 3 in 3d
			energy = sum pairs i≠j: exp(-r2[i,j]) * (x[i].x - 0.3*x[j].y) + dr[i,j].z^3 }`},
		{"lj-com", `system s { particles 5 in 3d
			energy = sum pairs i!=j: r[i,j]^-12 - 2*r[i,j]^-6 + 0.5 * sum i: norm2(x[i] - com) }`},
		{"fixed-particles", `system s { particles 3 in 2d
			energy = r[0,1]^2 + x[2].y * x[0][0] + tanh(com.x) - log(1 + r2[1,2]) }`},
		{"nonlinear-top", `system s { particles 3 in 2d
			energy = log(sum pairs i<j: exp(-r[i,j])) + sqrt(1 + (sum i: x[i].x)^2) }`},
		{"functions", `system s { particles 2 in 2d
			energy = sin(x[0].x)*cos(x[1].y) + abs(x[0].y - 5) + pow(2 + x[1].x^2, 1.5) + sinh(x[0].x)/cosh(x[1].x)
			  + min(x[0].x, x[1].x) + max(x[0].y, 0.5, x[1].y) + smin(x[0].x, x[1].y, 0.3) + smax(x[0].x, x[1].y, 0.7)
			  + softplus(x[1].y) + sigmoid(x[0].x) + where(x[0].x > x[1].x, x[0].x^2, -x[1].x) + dot(x[0], x[1]) + norm(x[0]-x[1]) }`},
		{"soft-reductions", `system s { particles 3 in 2d
			energy = sum pairs i<j: -logsumexp(-8*(r[i,j] - 1)^2, -3*(r[i,j] - 2)^2, -r[i,j])
			  + smin(x[0].x, x[1].x, x[2].x, 0.4) + smax(x[0].y, x[1].y, x[2].y, 0.6) + logsumexp(x[0].x) + softmin(x[0].y, x[1].y, 0.2)
			  + logsumexp(300*x[0].x, 200*x[1].y, -100*x[2].x) / 100 }`},
		{"periodic", `system s { particles 3 in 2d; box 3 x 4 periodic
			energy = sum pairs i<j: exp(-r2[i,j]) + 0.1*dr[i,j].x^2 + r[0,2]^3 }`},
		{"ring", `system ring { particles 1 in 2d; box 6.283 x 6.283 periodic
			energy = -cos(x[0].x) - cos(x[0].y) + 0.5*cos(x[0].x - x[0].y) }`},
		{"particle-sum-ref", `system s { particles 4 in 3d
			energy = sum i: r[i, 0]^2 * where(x[i].z < 0, 1, 2) + x[i].z * com.y }`},
		{"centred", `system s { particles 4 in 3d
			energy = sum pairs i<j: dot(x[i] - com, x[j] - com) * r[i,j] + (x[0].y - com.y)^3 + sum i: exp(0.1*(x[i].z - com.z)) }`},
		{"radial-particle", `system s { particles 4 in 3d
			energy = sum i: norm(x[i])^-2 + 3*norm2(x[i]) + sum i: norm(x[i] - com)^3 + 0.5*sum i: norm2(x[i] - com) }`},
		{"radial-tape", `system s { particles 4 in 2d
			energy = sum i: exp(-norm2(x[i] - com)) + log(1 + sum i: norm2(x[i] - com)) + log(2 + sum i: norm(x[i])) }`},
		{"soften-where", `system s { particles 4 in 3d; soften 0.01
			energy = sum pairs i<j: where(r[i,j] < 1.5, (1.5 - r[i,j])^2, 0) + 1/r[i,j] }`},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sys := compileOne(t, tc.src)
			en := sys.Energy
			nd := en.Particles() * en.SpatialDim()
			const B = 7
			x := make([]float64, B*nd)
			for i := range x {
				x[i] = 2.5 * rng.NormFloat64()
			}
			e := make([]float64, B)
			g := make([]float64, B*nd)
			en.EnergyGrad(x, e, g)
			h := 1e-6
			one := make([]float64, 1)
			for b := 0; b < B; b++ {
				xb := append([]float64(nil), x[b*nd:(b+1)*nd]...)
				for k := 0; k < nd; k++ {
					orig := xb[k]
					xb[k] = orig + h
					en.EnergyGrad(xb, one, nil)
					ep := one[0]
					xb[k] = orig - h
					en.EnergyGrad(xb, one, nil)
					em := one[0]
					xb[k] = orig
					fd := (ep - em) / (2 * h)
					if d := math.Abs(fd - g[b*nd+k]); d > 1e-5*max(1, math.Abs(fd)) {
						t.Errorf("config %d coord %d: gradient %.10g, finite difference %.10g", b, k, g[b*nd+k], fd)
					}
				}
			}
		})
	}
}

// TestTapePathMatchesBuiltins checks the general tape evaluation (without the native loops for
// sums of powers) against the built-in energies.
func TestTapePathMatchesBuiltins(t *testing.T) {
	nativeLoops = false
	defer func() { nativeLoops = true }()
	lj, err := energy.NewLJ(13)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		src, data string
		want      energy.Energy
	}{{dw4Src, "test_split_DW4.npy", energy.NewDW4()}, {lj13Src, "test_split_LJ13-1000.npy", lj}} {
		sys := compileOne(t, c.src)
		for _, k := range sys.Energy.(*Energy).kernels {
			if k.poly != nil {
				t.Fatal("native loop used although disabled")
			}
		}
		x, B := loadRows(t, c.data, 300)
		compareEnergies(t, sys.Energy, c.want, x, B)
	}
}

// TestNativeLoopsSelected checks that the benchmark energies take the native loops.
func TestNativeLoopsSelected(t *testing.T) {
	for _, src := range []string{dw4Src, lj13Src} {
		en := compileOne(t, src).Energy.(*Energy)
		for i, k := range en.kernels {
			if k.poly == nil {
				t.Errorf("sum %d of\n%s\nruns on the tape", i, src)
			}
		}
	}
}

// TestEquivalentFormulas compiles pairs of formulas that are equal by algebra but take
// different paths through the compiler (ordered vs unordered pairs, native loops vs tapes,
// vector vs component forms) and checks that energies and gradients agree.
func TestEquivalentFormulas(t *testing.T) {
	cases := []struct{ name, d, a, b string }{
		{"ordered-asym-centred", "2", "sum pairs i!=j: (x[i].x - com.x) * r[i,j]",
			"sum pairs i<j: (x[i].x - com.x) * r[i,j] + (x[j].x - com.x) * r[i,j]"},
		{"ordered-sym", "3", "sum pairs i!=j: r[i,j]^-12 - r[i,j]^-3", "2 * sum pairs i<j: r[i,j]^-12 - r[i,j]^-3"},
		{"ordered-asym", "2", "sum pairs i≠j: x[i].y * exp(-r2[i,j])", "sum pairs i<j: (x[i].y + x[j].y) * exp(-r2[i,j])"},
		{"norm2-components", "2", "sum i: norm2(x[i] - com)", "sum i: (x[i].x - com.x)^2 + (x[i][1] - com[1])^2"},
		{"shifted-expanded", "2", "sum pairs i<j: (r[i,j] - 1.5)^2", "sum pairs i<j: r2[i,j] - 3*r[i,j] + 2.25"},
		{"dr-vs-x", "3", "sum pairs i<j: norm2(dr[i,j])", "sum pairs i<j: norm2(x[i] - x[j])"},
		{"fixed-vs-sum", "2", "r2[0,1] + r2[0,2] + r2[1,2]", "sum pairs i<j: r2[i,j]"},
		{"radial-native-vs-tape", "3", "sum i: 0.5*norm2(x[i] - com) + norm(x[i])^3", "0.5*sum i: dot(x[i] - com, x[i] - com) + sum i: sqrt(dot(x[i], x[i]))^3"},
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sa := compileOne(t, "system a { particles 3 in "+c.d+"d; energy = "+c.a+" }")
			sb := compileOne(t, "system b { particles 3 in "+c.d+"d; energy = "+c.b+" }")
			x := make([]float64, 5*sa.Dim())
			for i := range x {
				x[i] = 1.3 * rng.NormFloat64()
			}
			compareEnergies(t, sa.Energy, sb.Energy, x, 5)
		})
	}
}

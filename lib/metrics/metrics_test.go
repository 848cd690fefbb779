package metrics

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"adjoint/lib/energy"
)

// dw4E evaluates the DW-4 energy of a batch.
func dw4E(x []float64) []float64 {
	e := make([]float64, len(x)/8)
	energy.NewDW4().EnergyGrad(x, e, nil)
	return e
}

func TestW2OneD(t *testing.T) {
	cases := []struct {
		name string
		a, b []float64
		want float64
	}{
		{"shift", []float64{0, 1, 2}, []float64{3, 4, 5}, 3},
		{"unsorted", []float64{2, 0, 1}, []float64{1, 0, 2}, 0},
		{"point-vs-two", []float64{0}, []float64{0, 1}, math.Sqrt(0.5)},
		{"duplicated", []float64{1, 5, 2}, []float64{5, 1, 2, 2, 1, 5}, 0},
		{"thirds-vs-halves", []float64{0, 0, 3}, []float64{0, 3}, math.Sqrt(9.0 / 6)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := W2OneD(c.a, c.b)
			if err != nil || math.Abs(got-c.want) > 1e-12 {
				t.Fatalf("got %g (%v), want %g", got, err, c.want)
			}
		})
	}
	// Unequal sizes against a closed form: W2 between large samples of N(0,1) and N(μ,σ²)
	// tends to sqrt(μ² + (σ−1)²).
	rng := rand.New(rand.NewPCG(1, 1))
	a, b := make([]float64, 40000), make([]float64, 30000)
	for i := range a {
		a[i] = rng.NormFloat64()
	}
	for i := range b {
		b[i] = 0.5 + 2*rng.NormFloat64()
	}
	got, _ := W2OneD(a, b)
	if want := math.Sqrt(0.25 + 1); math.Abs(got-want) > 0.03 {
		t.Fatalf("Gaussians: %g, want %g", got, want)
	}
	if _, err := W2OneD(nil, a); err == nil {
		t.Fatal("empty list accepted")
	}
	if _, err := W2OneD([]float64{math.Inf(1)}, a); err == nil {
		t.Fatal("Inf accepted")
	}
}

func TestESS(t *testing.T) {
	cases := []struct {
		name string
		logw []float64
		want float64
	}{
		{"equal", []float64{3, 3, 3, 3}, 4},
		{"equal-huge", []float64{1000, 1000, 1000}, 3},
		{"equal-tiny", []float64{-1000, -1000}, 2},
		{"one-zero-weight", []float64{0, 0, math.Inf(-1)}, 2},
		{"dominant", []float64{0, -800, -900}, 1},
		{"two-to-one", []float64{math.Log(2), 0}, 9.0 / 5},
		{"inf", []float64{math.Inf(1), 0, math.Inf(1)}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ESS(c.logw)
			if err != nil || math.Abs(got-c.want) > 1e-12 {
				t.Fatalf("got %g (%v), want %g", got, err, c.want)
			}
		})
	}
	if r, _ := NormalizedESS([]float64{5, 5}); r != 1 {
		t.Fatalf("normalised ESS %g", r)
	}
	if _, err := ESS([]float64{0, math.NaN()}); err == nil {
		t.Fatal("NaN accepted")
	}
	if _, err := ESS([]float64{math.Inf(-1)}); err == nil {
		t.Fatal("all-zero weights accepted")
	}
}

func TestHistogramAndDistances(t *testing.T) {
	// Unit square: four sides of 1 and two diagonals of √2.
	x := []float64{0, 0, 1, 0, 1, 1, 0, 1}
	d := PairDistances(x, 4, 2)
	if len(d) != 6 {
		t.Fatalf("%d distances", len(d))
	}
	ones, diag := 0, 0
	for _, v := range d {
		switch {
		case math.Abs(v-1) < 1e-12:
			ones++
		case math.Abs(v-math.Sqrt2) < 1e-12:
			diag++
		}
	}
	if ones != 4 || diag != 2 {
		t.Fatalf("distances %v", d)
	}
	h, err := NewHistogram(append(d, 7), 4, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for k, v := range h.Density {
		total += v * (h.Edges[k+1] - h.Edges[k])
	}
	// All six distances lie in [1, 1.5): density 6/6/0.5 = 2 there.
	if h.Outside != 1 || math.Abs(total-1) > 1e-12 || h.Density[2] != 2 {
		t.Fatalf("histogram %+v", h)
	}
	if _, err := NewHistogram(d, 0, 0, 1); err == nil {
		t.Fatal("0 bins accepted")
	}
	// The same configuration scaled by 2: distance W2 is the RMS of the distance changes.
	w, _ := DistanceW2(x, []float64{0, 0, 2, 0, 2, 2, 0, 2}, 4, 2)
	if want := math.Sqrt((4*1 + 2*2) / 6.0); math.Abs(w-want) > 1e-12 {
		t.Fatalf("distance W2 %g, want %g", w, want)
	}
}

func TestDropNonFinite(t *testing.T) {
	x := []float64{1, 2, math.NaN(), 4, 5, 6, 7, math.Inf(-1)}
	kept, dropped := DropNonFinite(x, 2)
	if dropped != 2 || len(kept) != 4 || kept[2] != 5 {
		t.Fatalf("kept %v dropped %d", kept, dropped)
	}
}

func TestEvaluateDW4(t *testing.T) {
	sys, err := energy.Benchmark("dw4")
	if err != nil {
		t.Fatal(err)
	}
	gen := loadData(t, "test_split_DW4.npy")[:800*8]
	ref := loadData(t, "val_split_DW4.npy")
	gen = append(gen, math.NaN(), 0, 0, 0, 0, 0, 0, 0)
	r, err := Evaluate(sys, gen, ref, EvalOptions{N: 500, Seed: 3, PairCutoff: 4})
	if err != nil {
		t.Fatal(err)
	}
	if r.Dropped != 1 || r.DroppedRef != 0 || r.N != 500 {
		t.Fatalf("report %+v", r)
	}
	if math.Abs(r.MeanEnergyRef+22.45) > 0.4 || math.Abs(r.MeanEnergyGen+22.45) > 0.4 {
		t.Fatalf("mean energies %g %g, reference −22.45", r.MeanEnergyGen, r.MeanEnergyRef)
	}
	if !(r.GeometricW2 > 0.2 && r.GeometricW2 < 0.7) || !(r.EnergyW2 > 0 && r.EnergyW2 < 0.5) || !(r.DistanceW2 > 0 && r.DistanceW2 < 0.2) {
		t.Fatalf("implausible metrics %+v", r)
	}
	// Same seed, same answer; different seed, different subsample.
	r2, _ := Evaluate(sys, gen, ref, EvalOptions{N: 500, Seed: 3, PairCutoff: 4})
	r2.Seconds = r.Seconds
	if !reflect.DeepEqual(r2, r) {
		t.Fatalf("not deterministic: %+v vs %+v", r, r2)
	}
	b, _ := json.Marshal(r)
	for _, k := range []string{`"energy_w2"`, `"geometric_w2"`, `"mean_energy"`, `"ref_mean_energy"`, `"n":500`, `"dropped":1`, `"short_pairs":[`, `"ref_short_pairs":[`} {
		if !strings.Contains(string(b), k) {
			t.Fatalf("JSON %s lacks %s", b, k)
		}
	}
	// The reference splits share their arrangement weights: about 44% with two short pairs.
	sum := 0.0
	for _, f := range r.ShortPairs {
		sum += f
	}
	if len(r.ShortPairs) != 7 || math.Abs(sum-1) > 1e-12 || math.Abs(r.ShortPairs[2]-r.RefShortPairs[2]) > 0.1 {
		t.Fatalf("short-pair fractions %v vs %v", r.ShortPairs, r.RefShortPairs)
	}
	// The split of the energy gap by arrangement adds up to the gap.
	if r.EnergyGapShares == nil || r.EnergyGapWithin == nil ||
		math.Abs(*r.EnergyGapShares+*r.EnergyGapWithin-(r.MeanEnergyGen-r.MeanEnergyRef)) > 1e-9 {
		t.Fatalf("energy gap split %v + %v, gap %g", r.EnergyGapShares, r.EnergyGapWithin, r.MeanEnergyGen-r.MeanEnergyRef)
	}
	bundle := r.MIMEBundle()
	if html, _ := bundle.Data["text/html"].(string); !strings.Contains(html, "geometric W2") || !strings.Contains(html, "short pairs") || !strings.Contains(html, "within classes") {
		t.Fatalf("bundle %v", bundle.Data)
	}
	if _, err := Evaluate(sys, gen[:7], ref, EvalOptions{}); err == nil {
		t.Fatal("wrong dimension accepted")
	}
}

func ExampleW2OneD() {
	w, _ := W2OneD([]float64{0, 1, 2}, []float64{3, 4, 5})
	fmt.Println(w)
	// Output: 3
}

// TestEvaluateOneParticle evaluates a one-particle 2-D system, which has no interatomic
// distances: the report leaves the distance W2 out instead of failing.
func TestEvaluateOneParticle(t *testing.T) {
	g, err := energy.NewGaussian(1, 2, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	sys := &energy.System{Name: "gauss", Energy: g}
	rng := rand.New(rand.NewPCG(1, 2))
	gen, ref := make([]float64, 400), make([]float64, 400)
	for i := range gen {
		gen[i], ref[i] = rng.NormFloat64(), rng.NormFloat64()
	}
	r, err := Evaluate(sys, gen, ref, EvalOptions{N: 200, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.DistanceW2 != 0 || !(r.GeometricW2 > 0 && r.GeometricW2 < 0.5) || strings.Contains(r.Table().String(), "interatomic") {
		t.Fatalf("report %+v\n%s", r, r.Table())
	}
}

func TestShortPairFractions(t *testing.T) {
	// Three 3-particle configurations in 1-D: pairs (0,1),(0,2),(1,2).
	x := []float64{
		0, 1, 2, // distances 1, 2, 1: two pairs below 1.5
		0, 5, 10, // 5, 10, 5: none
		0, 0.5, 1, // 0.5, 1, 0.5: all three
	}
	got, err := ShortPairFractions(x, 3, 1, 1.5)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{2, 0, 3} {
		if got := ShortPairs(x[3*i:3*i+3], 3, 1, 1.5); got != want {
			t.Errorf("configuration %d: %d short pairs, want %d", i, got, want)
		}
	}
	want := []float64{1.0 / 3, 0, 1.0 / 3, 1.0 / 3}
	for k := range want {
		if math.Abs(got[k]-want[k]) > 1e-15 {
			t.Fatalf("fractions %v, want %v", got, want)
		}
	}
	bad := []struct {
		name   string
		x      []float64
		n, d   int
		cutoff float64
	}{
		{"one particle", []float64{0, 0}, 1, 2, 1},
		{"zero cutoff", x, 3, 1, 0},
		{"infinite cutoff", x, 3, 1, math.Inf(1)},
		{"ragged", x[:4], 3, 1, 1},
		{"empty", nil, 3, 1, 1},
	}
	for _, b := range bad {
		if _, err := ShortPairFractions(b.x, b.n, b.d, b.cutoff); err == nil {
			t.Errorf("%s: no error", b.name)
		}
	}
}

// TestEnergyGapByClass checks the split of the gap in mean energy on cases worked by hand.
func TestEnergyGapByClass(t *testing.T) {
	tests := []struct {
		name           string
		eg, er         []float64
		cg, cr         []int
		shares, within float64
	}{
		// Same classes and shares, each generated class 1 hotter: all of the gap is within.
		{"within only", []float64{1, 11}, []float64{0, 10}, []int{0, 1}, []int{0, 1}, 0, 1},
		// Same class energies, a quarter of the mass moved to the hotter class: the gap
		// (7.5 − 5 = 2.5) is all shares, (3/4 − 1/2)(10 − 5) − ... = 2.5.
		{"shares only", []float64{0, 10, 10, 10}, []float64{0, 0, 10, 10}, []int{0, 1, 1, 1}, []int{0, 0, 1, 1}, 2.5, 0},
		// A generated class the reference never visits (class 2, energy 20, mean of the
		// reference 5) counts as shares: p = 1/2, (1/2)(20 − 5) for it, and class 0 loses
		// 1/2 − 1/2 = 0 of its share, class 1 all of it: (0 − 1/2)(10 − 5).
		{"unvisited class", []float64{0, 20}, []float64{0, 10}, []int{0, 2}, []int{0, 1}, 7.5 - 2.5, 0},
		{"both at once", []float64{1, 12, 12, 12}, []float64{0, 0, 10, 10}, []int{0, 1, 1, 1}, []int{0, 0, 1, 1}, 2.5, 0.25*1 + 0.75*2},
		{"empty", nil, []float64{1}, nil, []int{0}, 0, 0},
		{"mismatched lengths", []float64{1, 2}, []float64{1}, []int{0}, []int{0}, 0, 0},
	}
	for _, tc := range tests {
		shares, within := EnergyGapByClass(tc.eg, tc.er, tc.cg, tc.cr)
		if math.Abs(shares-tc.shares) > 1e-12 || math.Abs(within-tc.within) > 1e-12 {
			t.Errorf("%s: shares %g within %g, want %g %g", tc.name, shares, within, tc.shares, tc.within)
		}
		if len(tc.eg) > 0 && len(tc.eg) == len(tc.cg) && len(tc.er) == len(tc.cr) {
			gap := mean(tc.eg) - mean(tc.er)
			if math.Abs(shares+within-gap) > 1e-12 {
				t.Errorf("%s: shares + within = %g, gap %g", tc.name, shares+within, gap)
			}
		}
	}
}

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func ExampleEnergyGapByClass() {
	// Two arrangements with mean energies 0 and 10 in the reference, half of the mass in each;
	// the sampler puts three quarters in the hotter one, at the right energies.
	shares, within := EnergyGapByClass([]float64{0, 10, 10, 10}, []float64{0, 0, 10, 10}, []int{0, 1, 1, 1}, []int{0, 0, 1, 1})
	fmt.Println(shares, within)
	// Output: 2.5 0
}

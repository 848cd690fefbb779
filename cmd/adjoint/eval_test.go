package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"adjoint/internal/testutil"
	"adjoint/lib/display"
	"adjoint/lib/energy"
	"adjoint/lib/npy"
)

// stdoutOf runs fn with os.Stdout redirected and returns what it printed.
func stdoutOf(t *testing.T, fn func() error) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	restore := display.SetSink(nil)
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	ferr := fn()
	w.Close()
	os.Stdout = old
	restore()
	return <-done, ferr
}

func TestEvalCommand(t *testing.T) {
	test, val := testutil.SharedData(t, "test_split_DW4.npy"), testutil.SharedData(t, "val_split_DW4.npy")
	out, err := stdoutOf(t, func() error { return runEval([]string{"dw4", val, "--ref", test, "-n", "300", "--seed", "2"}) })
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one JSON line, got %q", out)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &r); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"energy_w2", "geometric_w2", "mean_energy", "ref_mean_energy", "n", "dropped",
		"exact_energy_w2", "exact_geometric_w2", "exact_short_pairs_2", "exact_short_pairs_3", "short_pairs_2", "ref_short_pairs_2",
		"energy_gap_shares", "energy_gap_within", "exact_energy_gap_shares", "exact_energy_gap_within"} {
		if _, ok := r[k]; !ok {
			t.Fatalf("JSON lacks %s: %s", k, lines[0])
		}
	}
	// The two parts of the gap to the exact samples add up to it.
	if sh, wi := r["exact_energy_gap_shares"].(float64), r["exact_energy_gap_within"].(float64); math.Abs(sh+wi-(r["mean_energy"].(float64)-r["exact_ref_mean_energy"].(float64))) > 1e-9 {
		t.Fatalf("exact energy gap split %g + %g: %s", sh, wi, lines[0])
	}
	if r["n"].(float64) != 300 || r["dropped"].(float64) != 0 {
		t.Fatalf("n/dropped: %s", lines[0])
	}
	if g := r["geometric_w2"].(float64); !(g > 0.15 && g < 0.8) {
		t.Fatalf("geometric W2 %g implausible", g)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"dw4", "/nonexistent/gen.npy", "--ref", test}, "samples file /nonexistent/gen.npy does not exist"},
		{[]string{"dw4", test, "--ref", "/nonexistent/ref.npy"}, "reference file /nonexistent/ref.npy does not exist"},
		{[]string{"lj13", test, "--ref", test}, "lj13 needs B×39"},
		{[]string{"dw5", test, "--ref", test}, "unknown benchmark"},
		{[]string{"lj55", test}, "no built-in reference for lj55: give --ref"},
		{[]string{"dw4"}, "need SYSTEM"},
	}
	for _, c := range cases {
		_, err := stdoutOf(t, func() error { return runEval(c.args) })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want it to mention %q", c.args, err, c.want)
		}
	}
}

func TestMCMCCommandThenEval(t *testing.T) {
	out := filepath.Join(t.TempDir(), "dw4.npy")
	line, err := stdoutOf(t, func() error {
		return runMCMC([]string{"dw4", "-n", "200", "-o", out, "--chains", "100", "--burn", "200", "--thin", "5", "--seed", "3", "--check", "200"})
	})
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		N          int     `json:"n"`
		MeanEnergy float64 `json:"mean_energy"`
		Identities struct {
			DEff  int     `json:"d_eff"`
			Ratio float64 `json:"ratio"`
		} `json:"identities"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(line)), &s); err != nil {
		t.Fatalf("%v: %q", err, line)
	}
	if s.N != 200 || s.Identities.DEff != 6 || !(s.MeanEnergy < -15 && s.MeanEnergy > -30) || !(s.Identities.Ratio > 0.8 && s.Identities.Ratio < 1.2) {
		t.Fatalf("summary %s", line)
	}
	if _, err := stdoutOf(t, func() error {
		return runEval([]string{"dw4", out, "--ref", testutil.SharedData(t, "test_split_DW4.npy"), "-n", "200"})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := stdoutOf(t, func() error { return runMCMC([]string{"dw4", "-n", "10"}) }); err == nil {
		t.Fatal("missing -o accepted")
	}
}

func TestBenchW2Small(t *testing.T) {
	line, err := stdoutOf(t, func() error { return benchW2([]string{"--system", "lj55", "-n", "20"}) })
	if err != nil {
		t.Fatal(err)
	}
	var r benchW2Result
	if err := json.Unmarshal([]byte(strings.TrimSpace(line)), &r); err != nil {
		t.Fatalf("%v: %q", err, line)
	}
	if r.System != "lj55" || r.N != 20 || !(r.GeometricW2 > 0) || !(r.Seconds > 0) {
		t.Fatalf("result %+v", r)
	}
}

// TestIcosahedron55: the built-in LJ-55 structure has 55 distinct particles, nearest
// neighbours at distance about 1, and a low energy (−486 unrelaxed; the relaxed minimum of
// this doubled-sum energy is near −558).
func TestIcosahedron55(t *testing.T) {
	x := icosahedron55()
	if len(x) != 165 {
		t.Fatalf("%d coordinates", len(x))
	}
	minD := 10.0
	for i := range 55 {
		for j := i + 1; j < 55; j++ {
			dx, dy, dz := x[3*i]-x[3*j], x[3*i+1]-x[3*j+1], x[3*i+2]-x[3*j+2]
			minD = min(minD, dx*dx+dy*dy+dz*dz)
		}
	}
	if minD < 0.8 || minD > 1.1 {
		t.Fatalf("nearest-neighbour distance² %g", minD)
	}
	lj, err := energy.NewLJ(55)
	if err != nil {
		t.Fatal(err)
	}
	e := make([]float64, 1)
	lj.EnergyGrad(x, e, nil)
	if !(e[0] < -450 && e[0] > -560) {
		t.Fatalf("icosahedron energy %g", e[0])
	}
}

// stderrOf runs fn with os.Stderr redirected and returns what it wrote there.
func stderrOf(t *testing.T, fn func() error) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	ferr := fn()
	w.Close()
	os.Stderr = old
	return <-done, ferr
}

// evalJSON runs eval and decodes its JSON line; it also returns what eval wrote on stderr.
func evalJSON(t *testing.T, args ...string) (map[string]any, string, error) {
	t.Helper()
	var out string
	errText, err := stderrOf(t, func() error {
		var err error
		out, err = stdoutOf(t, func() error { return runEval(args) })
		return err
	})
	if err != nil {
		return nil, errText, err
	}
	var r map[string]any
	if jerr := json.Unmarshal([]byte(strings.TrimSpace(out)), &r); jerr != nil {
		t.Fatalf("%v: %q", jerr, out)
	}
	return r, errText, nil
}

// TestEvalBuiltinReference: without --ref, dw4 and lj13 are compared with the built-in test
// split, and dw4 also with the built-in exact samples; the split's own bias against the exact
// samples shows (fewer configurations with two short pairs).
func TestEvalBuiltinReference(t *testing.T) {
	val := testutil.SharedData(t, "val_split_DW4.npy")
	r, _, err := evalJSON(t, "dw4", val, "-n", "1000", "--seed", "1")
	if err != nil {
		t.Fatal(err)
	}
	if r["ref"] != "builtin:test_split_DW4.npy" || r["exact_ref"] != "builtin:exact_DW4.npy" || r["n"] != 1000.0 {
		t.Fatalf("references: %v", r)
	}
	g, eg := r["geometric_w2"].(float64), r["exact_geometric_w2"].(float64)
	if !(g > 0.15 && g < 0.6) || !(eg > 0.3 && eg < 1.2) {
		t.Fatalf("geometric W2 %g against the split, %g against the exact samples", g, eg)
	}
	s2, x2 := r["short_pairs_2"].(float64), r["exact_short_pairs_2"].(float64)
	if !(x2 > s2+0.03) || !(x2 > 0.45 && x2 < 0.59) {
		t.Fatalf("fraction with two short pairs: split %g, exact %g", s2, x2)
	}
	r, _, err = evalJSON(t, "lj13", testutil.SharedData(t, "val_split_LJ13-1000.npy"), "-n", "100")
	if err != nil {
		t.Fatal(err)
	}
	if r["ref"] != "builtin:test_split_LJ13-1000.npy" || r["exact_ref"] != nil || r["short_pairs_2"] != nil {
		t.Fatalf("lj13: %v", r)
	}
	r, _, err = evalJSON(t, "dw4", val, "-n", "100", "--exact=false")
	if err != nil || r["exact_geometric_w2"] != nil {
		t.Fatalf("--exact=false: %v, %v", r, err)
	}
}

// TestEvalNonFinite: rows with non-finite coordinates or energy are counted on stderr and
// dropped; more than 1% of them fail the evaluation unless --allow-nonfinite.
func TestEvalNonFinite(t *testing.T) {
	a, err := npy.ReadFile(testutil.SharedData(t, "val_split_DW4.npy"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(rows int, bad map[int]float64) string {
		x := append([]float64(nil), a.Data[:rows*8]...)
		for i, v := range bad {
			x[i*8+3] = v
		}
		p := filepath.Join(dir, fmt.Sprintf("x%d.npy", len(bad)*1000+rows))
		if err := npy.WriteFile(p, []int{rows, 8}, x, "float64"); err != nil {
			t.Fatal(err)
		}
		return p
	}
	nan, inf := math.NaN(), math.Inf(1)
	for _, c := range []struct {
		name    string
		file    string
		allow   bool
		fail    string // "" when eval succeeds
		stderr  string
		dropped float64
	}{
		{"clean", write(200, nil), false, "", "", 0},
		{"one NaN in 200 (0.5%)", write(200, map[int]float64{7: nan}), false, "", "1 of 200 configurations of the samples", 1},
		{"two NaN in 200 (1%)", write(200, map[int]float64{7: nan, 9: nan}), false, "", "2 of 200", 2},
		{"three bad in 200 (1.5%)", write(200, map[int]float64{1: nan, 2: inf, 3: 1e300}), false, "3 of 200 configurations of the samples (1.5%) are non-finite, more than 1%", "3 of 200", 0},
		{"three bad allowed", write(200, map[int]float64{1: nan, 2: inf, 3: 1e300}), true, "", "3 of 200", 3},
		{"all NaN", write(10, map[int]float64{0: nan, 1: nan, 2: nan, 3: nan, 4: nan, 5: nan, 6: nan, 7: nan, 8: nan, 9: nan}), true, "no usable samples", "10 of 10", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"dw4", c.file, "-n", "100", "--exact=false"}
			if c.allow {
				args = append(args, "--allow-nonfinite")
			}
			r, errText, err := evalJSON(t, args...)
			if c.fail != "" {
				if err == nil || !strings.Contains(err.Error(), c.fail) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("error %v, want one line mentioning %q", err, c.fail)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if r["dropped"] != c.dropped {
				t.Fatalf("dropped %v, want %g", r["dropped"], c.dropped)
			}
			if c.stderr == "" && strings.Contains(errText, "non-finite") || !strings.Contains(errText, c.stderr) {
				t.Fatalf("stderr %q, want it to mention %q", errText, c.stderr)
			}
		})
	}
}

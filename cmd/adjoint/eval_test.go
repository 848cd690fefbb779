package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"adjoint/internal/testutil"
	"adjoint/lib/display"
	"adjoint/lib/energy"
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
	for _, k := range []string{"energy_w2", "geometric_w2", "mean_energy", "ref_mean_energy", "n", "dropped"} {
		if _, ok := r[k]; !ok {
			t.Fatalf("JSON lacks %s: %s", k, lines[0])
		}
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
		{[]string{"dw4", test}, "--ref"},
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

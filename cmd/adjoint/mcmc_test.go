package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"adjoint/lib/npy"
)

const mcmcScript = `system ring {
  particles 1 in 2d
  box 6.283 x 6.283 periodic
  energy = -cos(x[0].x) - cos(x[0].y) + 0.5*cos(x[0].x - x[0].y)
}

system pair {
  particles 2 in 2d
  energy = sum i: norm2(x[i] - com) + 0.1 * norm2(com)
  symmetry translation
}
`

// TestMCMCCommandAdj: `adjoint mcmc` samples a script's systems (the last one by default, a
// named one after a colon; a periodic one stays in its box), refines given samples, and names
// the systems a script declares when asked for another.
func TestMCMCCommandAdj(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "s.adj")
	if err := os.WriteFile(script, []byte(mcmcScript), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "pair.npy")
	run := func(args ...string) map[string]any {
		t.Helper()
		text, err := stdoutOf(t, func() error { return runMCMC(args) })
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(strings.TrimSpace(text)), &r); err != nil {
			t.Fatalf("%v: %v in %q", args, err, text)
		}
		return r
	}
	for _, c := range []struct {
		spec, system string
		dim          int
	}{{script, "pair", 4}, {script + ":ring", "ring", 2}} {
		out := filepath.Join(dir, c.system+".npy")
		r := run(c.spec, "-n", "400", "--chains", "40", "--burn", "100", "--thin", "2", "--method", "mala", "-o", out)
		if r["system"] != c.system || r["n"].(float64) != 400 {
			t.Fatalf("%s: %v", c.spec, r)
		}
		a, err := npy.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Shape) != 2 || a.Shape[0] != 400 || a.Shape[1] != c.dim {
			t.Fatalf("%s: shape %v", c.spec, a.Shape)
		}
		if c.system == "ring" {
			for _, v := range a.Data {
				if math.Abs(v) > 6.283/2+1e-6 {
					t.Fatalf("ring: coordinate %g outside the box", v)
				}
			}
			if id := r["identities"].(map[string]any); id["periodic"] != true {
				t.Errorf("ring: identities %v", id)
			}
		}
	}
	// Refine the pair's samples: the output has their shape and records the input.
	refined := filepath.Join(dir, "r.npy")
	r := run(script+":pair", "--refine", out, "--steps", "10", "-o", refined, "--check", "0")
	if r["refined"] != out || r["steps"].(float64) != 10 || r["n"].(float64) != 400 {
		t.Fatalf("refine: %v", r)
	}
	for _, args := range [][]string{
		{script + ":nope", "-o", out},
		{filepath.Join(dir, "missing.adj"), "-o", out},
		{"nosuchsystem", "-o", out},
		{script + ":ring", "--refine", filepath.Join(dir, "missing.npy"), "-o", out},
	} {
		if _, err := stdoutOf(t, func() error { return runMCMC(args) }); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	_, err := stdoutOf(t, func() error { return runMCMC([]string{script + ":nope", "-o", out}) })
	if err == nil || !strings.Contains(err.Error(), "ring, pair") {
		t.Errorf("unknown name: error %v does not list the systems", err)
	}
}

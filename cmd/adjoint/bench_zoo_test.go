package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchZoo runs the zoo benchmark for three epochs on the torus target (an epoch budget, so
// that a loaded machine gives the same rows): one adjoint row and
// one MALA row of about the same energy evaluations, scored against the exact answers, the
// markdown table and the per-run files.
func TestBenchZoo(t *testing.T) {
	dir := t.TempDir()
	table := filepath.Join(dir, "table.md")
	out, err := stdoutOf(t, func() error {
		return benchZoo([]string{"--epochs", "3", "--targets", "torus3", "-n", "300", "--chains", "200", "-o", dir, "--table", table})
	})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 JSON lines, got %d: %q", len(lines), out)
	}
	var rows [2]zooRow
	for i, l := range lines {
		if err := json.Unmarshal([]byte(l), &rows[i]); err != nil {
			t.Fatalf("%v: %q", err, l)
		}
	}
	a, m := rows[0], rows[1]
	if a.Method != "adjoint" || m.Method != "mala" || a.Target != "torus3" || a.N != 300 || m.N != 200 {
		t.Fatalf("rows %+v %+v", a, m)
	}
	if a.Epochs != 3 || a.ESSFraction == nil || a.LogZError == nil || a.TVWeighted == nil || a.DiagShare == nil || a.CoverageOf != 3 {
		t.Errorf("adjoint row incomplete: %+v", a)
	}
	// equal cost: MALA spends the adjoint run's evaluations (its probe's included), rounded down
	// to whole steps per chain, and at least one warm-up step
	n := int64(m.N)
	if floor := m.ProbeEvals + 3*n; a.Evals <= floor {
		if m.Evals != floor {
			t.Errorf("MALA spent %d evaluations, want the minimum %d", m.Evals, floor)
		}
	} else if d := a.Evals - m.Evals; d < 0 || d >= 2*n {
		t.Errorf("MALA spent %d evaluations for the adjoint run's %d", m.Evals, a.Evals)
	}
	if m.ProbeEvals < 1000 {
		t.Errorf("probe evaluations %d", m.ProbeEvals)
	}
	for _, r := range rows {
		if !(r.MinMassRatio >= 0) || math.IsInf(r.MinMassRatio, 0) || r.TV < 0 || r.TV > 1 {
			t.Errorf("%s: scores %+v", r.Method, r)
		}
	}
	if _, ok := a.Pass["log_z"]; !ok || len(a.Pass) != 4 {
		t.Errorf("pass flags %v", a.Pass)
	}
	md, err := os.ReadFile(table)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "| torus3 | adjoint (tuned,") || !strings.Contains(string(md), "| torus3 | mala |") {
		t.Errorf("table:\n%s", md)
	}
	for _, f := range []string{"torus3.ckpt", "torus3.npy", "torus3-logw.npy", "torus3-mala.npy"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("run file: %v", err)
		}
	}
	// the checkpoint sampled again with more samples, and MALA again with the same budget
	saved := filepath.Join(dir, "rows.jsonl")
	if err := os.WriteFile(saved, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := stdoutOf(t, func() error {
		return benchZoo([]string{"--rescore", saved, "-o", dir, "-n", "500", "--chains", "200"})
	})
	if err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSpace(again), "\n")
	var a2, m2 zooRow
	if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &a2) != nil || json.Unmarshal([]byte(lines[1]), &m2) != nil {
		t.Fatalf("rescored rows: %q", again)
	}
	if a2.N != 500 || a2.Epochs != a.Epochs || a2.Seconds != a.Seconds || a2.Evals != a.Evals-300+500 || a2.DiagShare == nil {
		t.Errorf("rescored adjoint row %+v from %+v", a2, a)
	}
	if m2.Method != "mala" || m2.N != 200 {
		t.Errorf("rescored MALA row %+v", m2)
	}
	for _, bad := range [][]string{{"--targets", "gmm41"}, {"--rule", "magic"}, {"--minutes", "0"}, {"--epochs", "-1"}, {"extra"}, {"--rescore", table, "-o", dir}, {"--rescore", saved}} {
		if err := benchZoo(bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

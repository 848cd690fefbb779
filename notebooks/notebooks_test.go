// Package notebooks holds the project's Jupyter notebooks; its tests execute every notebook at
// its small size, once through `adjoint run` and once headless through Jupyter's nbclient with
// the installed kernelspec, and check that every cell ran without error and that the expected
// figures and metrics are present and in range.
package notebooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// bound is an accepted closed range for a number of a notebook's JSON summary.
type bound struct{ lo, hi float64 }

var finite = bound{math.Inf(-1), math.Inf(1)}

// spec is what a notebook must show when it runs at the small size (which trains a fixed
// number of epochs, so the epoch counts are exact whatever the machine's speed).
type spec struct {
	file     string
	minPNG   int              // image/png outputs at least
	summary  map[string]bound // keys of the application/json summary output and their ranges
	markdown []string         // texts some markdown cell must contain
}

var specs = []spec{
	{file: "quickstart.ipynb", minPNG: 2, summary: map[string]bound{
		"n": {1000, 1000}, "ess": {1, 1000}, "mean_energy": {-1, 50}, "epochs": {20, 20},
		// The quadrature does not depend on training: e^{1/2}-tilted wells, P ≈ 0.718.
		"p_left_exact": {0.70, 0.735}, "p_left_samples": {0, 1}, "p_left_weighted": {0, 1},
	}, markdown: []string{"%%adj", "ESS"}},
	{file: "dw4.ipynb", minPNG: 5, summary: map[string]bound{
		"n": {500, 500}, "ess": {1, 500}, "energy_w2": {0, 1e6}, "geometric_w2": {0, 1e3},
		"distance_w2": {0, 1e3}, "mean_energy": finite,
		// Mean energy of the reference test split (ALGORITHM.md §12: −22.45).
		"ref_mean_energy": {-23.5, -21.5}, "epochs": {12, 12},
	}, markdown: []string{"energy W2", "geometric W2"}},
	{file: "lj13.ipynb", minPNG: 4, summary: map[string]bound{
		"n": {300, 300}, "ess": {1, 300}, "energy_w2": {0, math.Inf(1)}, "geometric_w2": {0, 1e3},
		"distance_w2": {0, 1e3}, "ref_mean_energy": {-46, -40}, "epochs": {5, 5},
	}, markdown: []string{"adjoint train lj13"}},
	{file: "custom-energy.ipynb", minPNG: 5, summary: map[string]bound{
		"n": {500, 500}, "ess": {1, 500}, "energy_w2": {0, 1e5}, "w2": {0, 10},
		"mean_energy": finite, "ref_mean_energy": {-150, 0}, "mcmc_accept": {0.2, 0.95}, "epochs": {20, 20},
	}, markdown: []string{"Müller–Brown"}},
	{file: "theory.ipynb", minPNG: 7, summary: map[string]bound{
		// Exact samples by CDF inversion: ½ under ν, 0.80 under p_base·e^{−E}.
		"p_left_exact": {0.45, 0.55}, "p_left_tilted": {0.76, 0.84},
		"p_left_on": {0, 1}, "p_left_off": {0, 1}, "p_left_on_weighted": {0, 1}, "p_left_off_weighted": {0, 1},
		"ess_on": {1, 4000}, "ess_off": {1, 4000}, "mean_energy_on": finite, "mean_energy_off": finite,
		// The network fitted to exact samples reaches the Bayes floor of the regression, which
		// the notebook computes on a grid; the floor is lower late than early.
		"fit_over_floor_early": {0.85, 1.2}, "fit_over_floor_late": {0.85, 1.2},
		"floor_early": {6.4, 7.1}, "floor_late": {4.6, 5.3}, "fit_loss_early": finite, "fit_loss_late": finite,
		"epochs_on": {25, 25}, "epochs_off": {25, 25},
	}, markdown: []string{"NoBaseCorrection", "$$"}},
}

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// adjointBinary builds cmd/adjoint once into a temporary directory.
func adjointBinary(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "adjoint-nbtest-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "adjoint")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/adjoint")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/adjoint: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// envWithout returns the environment without the named variables.
func envWithout(names ...string) []string {
	var env []string
outer:
	for _, kv := range os.Environ() {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				continue outer
			}
		}
		env = append(env, kv)
	}
	return env
}

type notebook struct {
	Metadata map[string]any `json:"metadata"`
	Nbformat int            `json:"nbformat"`
	Cells    []cell         `json:"cells"`
}

type cell struct {
	CellType       string           `json:"cell_type"`
	Source         any              `json:"source"`
	Metadata       map[string]any   `json:"metadata"`
	ExecutionCount *int             `json:"execution_count"`
	Outputs        []map[string]any `json:"outputs"`
}

func (c cell) text() string {
	switch s := c.Source.(type) {
	case string:
		return s
	case []any:
		var b strings.Builder
		for _, l := range s {
			if ls, ok := l.(string); ok {
				b.WriteString(ls)
			}
		}
		return b.String()
	}
	return ""
}

func readNotebook(t *testing.T, path string) *notebook {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var nb notebook
	if err := json.Unmarshal(raw, &nb); err != nil {
		t.Fatalf("%s: not JSON: %v", path, err)
	}
	return &nb
}

// checkStructure checks what every notebook must have, executed or not; committed is set for
// the notebooks as committed (before a --param rewrote the parameters cell).
func checkStructure(t *testing.T, sp spec, nb *notebook, committed bool) {
	t.Helper()
	if nb.Nbformat != 4 {
		t.Errorf("%s: nbformat %d, want 4", sp.file, nb.Nbformat)
	}
	if ks, _ := nb.Metadata["kernelspec"].(map[string]any); ks["name"] != "adjoint" {
		t.Errorf("%s: kernelspec %v, want name adjoint", sp.file, nb.Metadata["kernelspec"])
	}
	var md strings.Builder
	firstCode := true
	for _, c := range nb.Cells {
		switch c.CellType {
		case "markdown":
			md.WriteString(c.text())
		case "code":
			md.WriteString(c.text()) // %%adj cells count as content too
			if firstCode {
				firstCode = false
				tags, _ := c.Metadata["tags"].([]any)
				if len(tags) == 0 || tags[0] != "parameters" || !strings.Contains(c.text(), "size := ") {
					t.Errorf("%s: the first code cell must be tagged parameters and set size", sp.file)
				}
				// As committed, the size falls back to the environment (front ends without --param).
				if committed && !strings.Contains(c.text(), `size := os.Getenv("ADJOINT_NB_SIZE")`) {
					t.Errorf("%s: the parameters cell must read ADJOINT_NB_SIZE", sp.file)
				}
			}
		}
	}
	for _, want := range sp.markdown {
		if !strings.Contains(md.String(), want) {
			t.Errorf("%s: no cell mentions %q", sp.file, want)
		}
	}
}

// checkExecuted checks an executed notebook: every code cell ran, none failed, the figures are
// there and the JSON summary's numbers are in range. wantSize, when set, is the size the
// summary must report.
func checkExecuted(t *testing.T, sp spec, nb *notebook, wantSize string) {
	t.Helper()
	pngs := 0
	var summary map[string]any
	for i, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		if c.ExecutionCount == nil {
			t.Errorf("%s: code cell %d did not run", sp.file, i+1)
		}
		for _, o := range c.Outputs {
			switch o["output_type"] {
			case "error":
				t.Errorf("%s: cell %d failed: %v: %v", sp.file, i+1, o["ename"], o["evalue"])
			case "stream":
				if o["name"] == "stderr" && strings.Contains(fmt.Sprint(o["text"]), "panic") {
					t.Errorf("%s: cell %d wrote a panic to stderr: %v", sp.file, i+1, o["text"])
				}
			case "display_data", "execute_result":
				data, _ := o["data"].(map[string]any)
				if png, ok := data["image/png"].(string); ok && len(png) > 1000 {
					pngs++
				}
				if js, ok := data["application/json"].(map[string]any); ok {
					summary = js
				}
			}
		}
	}
	if pngs < sp.minPNG {
		t.Errorf("%s: %d PNG figures, want at least %d", sp.file, pngs, sp.minPNG)
	}
	if summary == nil {
		t.Fatalf("%s: no application/json summary output", sp.file)
	}
	if wantSize != "" && summary["size"] != wantSize {
		t.Errorf("%s: summary size %v, want %q (parameter not applied?)", sp.file, summary["size"], wantSize)
	}
	for key, b := range sp.summary {
		v, ok := summary[key].(float64)
		switch {
		case !ok:
			t.Errorf("%s: summary has no number %q: %v", sp.file, key, summary)
		case math.IsNaN(v) || math.IsInf(v, 0) || v < b.lo || v > b.hi:
			t.Errorf("%s: %s = %g, want finite in [%g, %g]", sp.file, key, v, b.lo, b.hi)
		}
	}
}

// TestCommittedNotebooks checks the notebooks as committed: structure, and outputs from a
// real run without errors.
func TestCommittedNotebooks(t *testing.T) {
	for _, sp := range specs {
		t.Run(sp.file, func(t *testing.T) {
			nb := readNotebook(t, sp.file)
			checkStructure(t, sp, nb, true)
			for i, c := range nb.Cells {
				for _, o := range c.Outputs {
					if o["output_type"] == "error" {
						t.Errorf("%s: committed cell %d holds an error output", sp.file, i+1)
					}
				}
			}
		})
	}
	files, err := filepath.Glob("*.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(specs) {
		t.Errorf("notebooks %v: every notebook needs an entry in specs (%d)", files, len(specs))
	}
}

// TestRunSmall executes every notebook at the small size through `adjoint run --param`.
func TestRunSmall(t *testing.T) {
	bin := adjointBinary(t)
	tmp := t.TempDir()
	for _, sp := range specs {
		t.Run(sp.file, func(t *testing.T) {
			out := filepath.Join(tmp, sp.file)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "run", sp.file, "--param", `size="small"`, "-o", out)
			// The parameter alone must select the size.
			cmd.Env = envWithout("ADJOINT_NB_SIZE", "ADJOINT_LJ13_CHECKPOINT")
			var buf bytes.Buffer
			cmd.Stdout, cmd.Stderr = &buf, &buf
			start := time.Now()
			err := cmd.Run()
			t.Logf("%s: adjoint run in %.1fs", sp.file, time.Since(start).Seconds())
			if err != nil {
				t.Fatalf("adjoint run %s: %v\n%s", sp.file, err, tail(buf.String(), 3000))
			}
			nb := readNotebook(t, out)
			checkStructure(t, sp, nb, false)
			checkExecuted(t, sp, nb, "small")
		})
	}
}

const nbclientScript = `
import sys, nbformat
from nbclient import NotebookClient
src, dst, cwd = sys.argv[1], sys.argv[2], sys.argv[3]
nb = nbformat.read(src, as_version=4)
client = NotebookClient(nb, timeout=240, kernel_name="adjoint", resources={"metadata": {"path": cwd}})
try:
    client.execute()
finally:
    nbformat.write(nb, dst)
`

// TestNbclientSmall executes every notebook headless through Jupyter's nbclient with the
// kernelspec that `adjoint install --prefix` writes; the size comes from ADJOINT_NB_SIZE.
func TestNbclientSmall(t *testing.T) {
	py := "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import nbclient, nbformat, jupyter_client").CombinedOutput(); err != nil {
		msg := fmt.Sprintf("python3 with nbclient, nbformat and jupyter_client is needed (apt-get install python3-nbclient): %v\n%s", err, out)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	bin := adjointBinary(t)
	tmp := t.TempDir()
	prefix := filepath.Join(tmp, "prefix")
	if out, err := exec.Command(bin, "install", "--prefix", prefix).CombinedOutput(); err != nil {
		t.Fatalf("adjoint install --prefix: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(prefix, "share", "jupyter", "kernels", "adjoint", "kernel.json")); err != nil {
		t.Fatalf("kernelspec not installed where expected: %v", err)
	}
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range specs {
		t.Run(sp.file, func(t *testing.T) {
			out := filepath.Join(tmp, sp.file)
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, py, "-c", nbclientScript, sp.file, out, cwd)
			cmd.Env = append(envWithout("ADJOINT_NB_SIZE", "ADJOINT_LJ13_CHECKPOINT", "JUPYTER_PATH"),
				"ADJOINT_NB_SIZE=small",
				"JUPYTER_PATH="+filepath.Join(prefix, "share", "jupyter"),
				"JUPYTER_RUNTIME_DIR="+filepath.Join(tmp, "runtime"),
				"JUPYTER_PLATFORM_DIRS=1")
			var buf bytes.Buffer
			cmd.Stdout, cmd.Stderr = &buf, &buf
			start := time.Now()
			err := cmd.Run()
			t.Logf("%s: nbclient in %.1fs", sp.file, time.Since(start).Seconds())
			if err != nil {
				if _, statErr := os.Stat(out); statErr == nil {
					checkExecuted(t, sp, readNotebook(t, out), "small")
				}
				t.Fatalf("nbclient %s: %v\n%s", sp.file, err, tail(buf.String(), 3000))
			}
			nb := readNotebook(t, out)
			checkStructure(t, sp, nb, true)
			checkExecuted(t, sp, nb, "small")
		})
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

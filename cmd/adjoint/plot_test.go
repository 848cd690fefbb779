package main

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"adjoint/internal/testutil"
	"adjoint/lib/npy"
)

func TestPlotCommand(t *testing.T) {
	dir := t.TempDir()
	dw4val, dw4test := testutil.SharedData(t, "val_split_DW4.npy"), testutil.SharedData(t, "test_split_DW4.npy")
	lj13 := testutil.SharedData(t, "test_split_LJ13-1000.npy")
	logw := filepath.Join(dir, "logw.npy")
	w := make([]float64, 200)
	for i := range w {
		w[i] = math.Sin(float64(i))
	}
	if err := npy.WriteFile(logw, []int{len(w)}, w, "float64"); err != nil {
		t.Fatal(err)
	}
	traj := filepath.Join(dir, "traj.npy")
	if err := npy.WriteFile(traj, []int{4, 50}, make([]float64, 200), "float32"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
	}{
		{"traj.png", []string{"trajectories", traj, "--t1", "2"}},
		{"loss.svg", []string{"loss", logw}},
		{"energy.png", []string{"energy-hist", dw4val, "--ref", dw4test, "--system", "dw4"}},
		{"dist.svg", []string{"dist-hist", dw4val, "--ref", dw4test, "--system", "dw4"}},
		{"dist-flags.png", []string{"dist-hist", lj13, "--particles", "13", "--dim", "3", "--width", "300", "--height", "200"}},
		{"marginals.png", []string{"marginals", dw4val, "--ref", dw4test, "--count", "4"}},
		{"particles.png", []string{"particles", lj13, "--system", "lj13"}},
		{"weights.png", []string{"weights", logw}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name)
			if err := runPlot(append(tc.args, "-o", out)); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(tc.name, ".svg") {
				if !bytes.Contains(b, []byte("<svg")) {
					t.Fatalf("%s is not SVG", out)
				}
				return
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: %v", out, err)
			}
			if tc.name == "dist-flags.png" && (img.Bounds().Dx() != 300 || img.Bounds().Dy() != 200) {
				t.Errorf("size %v, want 300x200", img.Bounds())
			}
		})
	}
}

func TestPlotCommandErrors(t *testing.T) {
	dir := t.TempDir()
	dw4 := testutil.SharedData(t, "val_split_DW4.npy")
	lj13 := testutil.SharedData(t, "test_split_LJ13-1000.npy")
	out := filepath.Join(dir, "x.png")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"energy-hist", dw4}, "need KIND"},
		{[]string{"nope", dw4, "-o", out}, "unknown kind"},
		{[]string{"marginals", dw4, "-o", filepath.Join(dir, "x.jpg")}, ".png or .svg"},
		{[]string{"dist-hist", dw4, "-o", out}, "--particles"},
		{[]string{"energy-hist", dw4, "-o", out}, "--system"},
		{[]string{"energy-hist", dw4, "--system", "lj13", "-o", out}, "need 39"},
		{[]string{"energy-hist", dw4, "--system", "nosuch", "-o", out}, "unknown benchmark"},
		{[]string{"marginals", dw4, "--ref", lj13, "-o", out}, "reference 39"},
		{[]string{"weights", dw4, "-o", out}, "1-D"},
		{[]string{"loss", dw4, "-o", out}, "1-D"},
		{[]string{"marginals", filepath.Join(dir, "missing.npy"), "-o", out}, "samples"},
	}
	for _, tc := range tests {
		err := runPlot(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed plot wrote its output file")
	}
}

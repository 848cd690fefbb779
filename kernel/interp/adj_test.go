package interp

import (
	"strings"
	"testing"
)

// TestAdjMagic runs DSL cells: declarations become Go values of later cells, later %%adj cells
// see earlier ones, and mistakes come back as located errors with the cell's line numbers.
func TestAdjMagic(t *testing.T) {
	in := newInterp(t)
	res, _ := run(t, in, "%%adj\nsystem trap { particles 2 in 2d; energy = sum i: norm2(x[i]) }\nlet k = 2")
	if res.Err != nil {
		t.Fatalf("adj cell: %v", res.Err)
	}
	res, _ = run(t, in, "e := make([]float64, 1)\ntrap.Energy.EnergyGrad([]float64{1, 0, 0, 1}, e, nil)\ne[0] * k")
	if res.Err != nil || text(res) != "4" {
		t.Fatalf("Go cell using DSL values: %q, %v", text(res), res.Err)
	}
	res, _ = run(t, in, "%%adj\nsampler s = adjoint(trap) { net mlp(layers 1, hidden 4) }")
	if res.Err != nil {
		t.Fatalf("second adj cell: %v", res.Err)
	}
	res, _ = run(t, in, "s.Config().Net.Hidden")
	if res.Err != nil || text(res) != "4" {
		t.Fatalf("sampler value: %q, %v", text(res), res.Err)
	}
	res, _ = run(t, in, "%%adj\n\nsystem y { particles 2 in 2d; energy = rr }")
	if res.Err == nil || res.Err.Name != "DSLError" {
		t.Fatalf("want a DSLError, got %+v", res.Err)
	}
	tb := strings.Join(res.Err.Traceback, "\n")
	if !strings.Contains(tb, "cell:3:") || !strings.Contains(tb, "^") {
		t.Errorf("error does not name the cell's line 3 with a caret:\n%s", tb)
	}
	res, rec := run(t, in, "%%adj check\nsystem z { particles 1 in 1d; energy = x[0].x^2 }")
	if res.Err != nil {
		t.Fatalf("check: %v", res.Err)
	}
	_ = rec
}

package viz

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"adjoint/lib/energy"
)

func TestSamplesSummary(t *testing.T) {
	// Two particles on a line: [0, 2] and [0, 4], and one non-finite configuration.
	x := []float64{0, 2, 0, 4, math.NaN(), 1}
	e, err := energy.FromFunc(2, 1, func(x []float64) float64 { return x[0]*x[0] + x[1]*x[1] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := SamplesSummary(x, 2, 1, e)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"configurations":            3,
		"non-finite configurations": 1,
		"energy mean":               10, // (4 + 16)/2
		"energy std":                math.Sqrt(72),
		"energy min":                4,
		"energy max":                16,
		"mean interatomic distance": 3,
		"mean radius of gyration":   1.5, // 1 and 2
		"max centre-of-mass norm":   2,
	}
	got := map[string]string{}
	for _, r := range tab.Rows {
		got[r[0]] = r[1]
	}
	for k, v := range want {
		var f float64
		if _, err := fmtSscan(got[k], &f); err != nil {
			t.Errorf("%s: %q: %v", k, got[k], err)
			continue
		}
		if math.Abs(f-v) > 1e-3*math.Max(1, math.Abs(v)) {
			t.Errorf("%s = %g, want %g", k, f, v)
		}
	}
	if !strings.Contains(tab.MIMEBundle().Data["text/html"].(string), "<table>") {
		t.Error("no HTML table")
	}
	if _, err := SamplesSummary(x[:3], 2, 1, nil); err == nil {
		t.Error("ragged samples: want an error")
	}
	if _, err := SamplesSummary(x, 1, 2, e); err != nil {
		t.Errorf("1 particle in 2-D: %v", err)
	}
	if _, err := SamplesSummary(x, 3, 2, e); err == nil {
		t.Error("energy of another shape: want an error")
	}
}

func fmtSscan(s string, f *float64) (int, error) { return fmt.Sscan(s, f) }

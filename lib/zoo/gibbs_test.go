package zoo

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"adjoint/lib/adjoint"
)

// TestGibbsCheck: exact samples of every zoo target pass the coverage checks (no warning), and
// samples with wells of a coordinate missing fail the Gibbs check, which names such a
// coordinate, in 32 dimensions where nearness says nothing.
func TestGibbsCheck(t *testing.T) {
	for _, name := range Names() {
		tg, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		sys, err := tg.System()
		if err != nil {
			t.Fatal(err)
		}
		x, err := tg.ExactSamples(20000, 3)
		if err != nil {
			t.Fatal(err)
		}
		c, err := adjoint.CheckCoverage(sys, x, 1)
		if err != nil || c.Gibbs == nil || c.GibbsAxes != sys.Dim() {
			t.Fatalf("%s: %+v, %v", name, c, err)
		}
		t.Logf("%s exact: worst coordinate %d, TV %.3f (noise %.3f)", name, c.Gibbs.Axis, c.Gibbs.TV, c.Gibbs.Noise)
		if w := c.Warnings(); len(w) != 0 || c.Gibbs.TV > adjoint.GibbsTV/2 {
			t.Errorf("%s: exact samples warn %q (Gibbs TV %.3f)", name, w, c.Gibbs.TV)
		}
	}
	tg, _ := Lookup("manywell32")
	sys, _ := tg.System()
	tests := []struct {
		name   string
		folded []int // coordinates whose negative well is emptied (x → |x|)
	}{{"one well of coordinate 6", []int{6}}, {"four coordinates", []int{0, 2, 4, 30}}}
	for _, tc := range tests {
		x, _ := tg.ExactSamples(20000, 4)
		for i := 0; i < len(x); i += sys.Dim() {
			for _, k := range tc.folded {
				x[i+k] = math.Abs(x[i+k])
			}
		}
		c, err := adjoint.CheckCoverage(sys, x, 1)
		if err != nil {
			t.Fatal(err)
		}
		w := c.Warnings()
		want := false
		for _, k := range tc.folded {
			want = want || c.Gibbs.Axis == k
		}
		if len(w) != 1 || !want || !strings.Contains(w[0], fmt.Sprintf("coordinate %d:", c.Gibbs.Axis)) || c.Gibbs.Sampled > 0.001 {
			t.Errorf("%s: worst coordinate %+v, warnings %q; want a warning naming one of %v", tc.name, c.Gibbs, w, tc.folded)
		}
	}
}

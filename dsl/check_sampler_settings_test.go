package dsl

import (
	"strings"
	"testing"

	"adjoint/lib/adjoint"
)

// TestSamplerSettingsFollowTable: a sampler block accepts every trainer setting of
// adjoint.Settings under its script name, and no setting outside the table.
func TestSamplerSettingsFollowTable(t *testing.T) {
	table := map[string]bool{}
	for _, s := range adjoint.Settings() {
		switch {
		case s.Script == "":
			continue
		case strings.HasPrefix(s.Script, "net("):
			table["net"] = true
		default:
			table[s.Script] = true
		}
	}
	for _, k := range samplerSettings {
		if !table[k] {
			t.Errorf("sampler setting %s is not in adjoint.Settings", k)
		}
		delete(table, k)
	}
	for k := range table {
		t.Errorf("setting %s of adjoint.Settings is missing from sampler blocks", k)
	}
	src := `system w { particles 1 in 1d; energy = x[0].x^2 }
sampler q = adjoint(w) { net mlp(layers 1, hidden 4); tanh_range 30; lr_final 1e-5; time_sampling kappa
  integrator kappa; prefill 10; no_base_correction true; batch 8; buffer 16 }`
	binds, err := NewSession().Exec(t.Context(), src, "s.adj", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := binds[1].Value.(*adjoint.Sampler).Config()
	if c.Net.TanhRange != 30 || c.LRFinal != 1e-5 || c.TimeSampling != adjoint.TimeKappa || c.Integrator != adjoint.IntegratorKappa ||
		c.PrefillBase != 10 || !c.NoBaseCorrection {
		t.Fatalf("config %+v", c)
	}
	for _, bad := range []struct{ setting, want string }{
		{"time_sampling often", "unknown time sampling"},
		{"integrator rk4", "unknown integrator"},
		{"no_base_correction maybe", "true or false"},
		{"prefill 1.5", "whole number"},
		{"lr_final 3 + 4", ""},
	} {
		err := Check("system w { particles 1 in 1d; energy = x[0].x^2 }\nsampler q = adjoint(w) { "+bad.setting+" }", "b.adj")
		if bad.want == "" {
			if err != nil {
				t.Errorf("%s: %v", bad.setting, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want %q", bad.setting, err, bad.want)
		}
	}
}

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
		case strings.HasPrefix(s.Field, "TrainOptions."):
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
  integrator kappa; prefill 10; no_base_correction true; langevin true; batch 8; buffer 16; sample_steps 40 }`
	binds, err := NewSession().Exec(t.Context(), src, "s.adj", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := binds[1].Value.(*adjoint.Sampler).Config()
	if c.Net.TanhRange != 30 || c.LRFinal != 1e-5 || c.TimeSampling != adjoint.TimeKappa || c.Integrator != adjoint.IntegratorKappa ||
		c.PrefillBase != 10 || !c.NoBaseCorrection || !c.Langevin || c.SampleSteps != 40 {
		t.Fatalf("config %+v", c)
	}
	binds, err = NewSession().Exec(t.Context(), `system w { particles 1 in 1d; energy = x[0].x^2 }
sampler q = adjoint(w) { net mlp(layers 1, hidden 4); mix_target true; rb_candidates 31; net_time kappa; batch 8; buffer 16 }`, "m.adj", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := binds[1].Value.(*adjoint.Sampler).Config(); !c.MixTarget || c.RBCandidates != 31 || c.NetTime != adjoint.NetTimeKappa {
		t.Fatalf("mix_target true: config %+v", c)
	}
	for _, bad := range []struct{ setting, want string }{
		{"time_sampling often", "unknown time sampling"},
		{"integrator rk4", "unknown integrator"},
		{"net_time log", "unknown network time input"},
		{"net_time t", ""},
		{"time_sampling sigma2", ""},
		{"no_base_correction maybe", "true or false"},
		{"langevin yes", "true or false"},
		{"mix_target 1", "true or false"},
		{"prefill 1.5", "whole number"},
		{"rb_candidates -3", "whole number"},
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

// TestTrainOptionsFollowTable: a train statement's block accepts every TrainOptions setting of
// adjoint.Settings under its script name, writes its checkpoint and rejects bad options.
func TestTrainOptionsFollowTable(t *testing.T) {
	opts := map[string]bool{}
	for _, k := range trainSettings {
		opts[k] = true
	}
	for _, s := range adjoint.Settings() {
		if strings.HasPrefix(s.Field, "TrainOptions.") && !opts[s.Script] {
			t.Errorf("setting %s of adjoint.Settings is missing from train blocks", s.Script)
		}
	}
	t.Chdir(t.TempDir())
	src := `system w { particles 1 in 1d; energy = x[0].x^2 }
sde e { sigma = geometric(0.01, 1); steps 10 }
sampler q = adjoint(w, e) { net mlp(layers 1, hidden 4); batch 8; train_batch 8; buffer 16; grad_steps 2 }
train q for 3 epochs { checkpoint "q.ckpt"; checkpoint_every 2; diagnose_every -1 }`
	if _, err := NewSession().Exec(t.Context(), src, "s.adj", nil); err != nil {
		t.Fatal(err)
	}
	back, err := LoadSampler("q.ckpt")
	if err != nil {
		t.Fatalf("the train block's checkpoint: %v", err)
	}
	if back.Epoch() != 3 {
		t.Errorf("checkpoint at epoch %d, want 3", back.Epoch())
	}
	head := "system w { particles 1 in 1d; energy = x[0].x^2 }\nsampler q = adjoint(w)\ntrain q for 3 epochs { "
	for _, bad := range []struct{ opts, want string }{
		{`checkpoint_every 5`, "needs a checkpoint file"},
		{`checkpoint "a.ckpt"; checkpoint_every 0`, "whole number ≥ 1"},
		{`diagnose_every 1.5`, "whole number"},
		{`checkpoint a`, "file name in quotes"},
		{`checkpoint "no/such/dir/a.ckpt"`, "no/such/dir"},
		{`checkpoint_evry 3`, `unknown training option "checkpoint_evry"`},
		{`diagnose_every 3; diagnose_every 4`, "set twice"},
	} {
		err := Check(head+bad.opts+" }", "b.adj")
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want %q", bad.opts, err, bad.want)
		}
	}
}

package adjoint

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSettingNames: every typed setting prints its name, parses it back (case-insensitively,
// the empty name being the zero value), round-trips through JSON as text, and refuses unknown
// names and values outside its table.
func TestSettingNames(t *testing.T) {
	type setting interface {
		String() string
		MarshalText() ([]byte, error)
	}
	parse := map[string]func(string) (setting, error){
		"integrator": func(s string) (setting, error) { return ParseIntegrator(s) },
		"time":       func(s string) (setting, error) { return ParseTimeSampling(s) },
		"device":     func(s string) (setting, error) { return ParseDevice(s) },
		"net":        func(s string) (setting, error) { return ParseNetKind(s) },
	}
	cases := []struct {
		kind, in string
		want     setting
	}{
		{"integrator", "", IntegratorEM}, {"integrator", "em", IntegratorEM}, {"integrator", "KAPPA", IntegratorKappa},
		{"time", "", TimeUniform}, {"time", "uniform", TimeUniform}, {"time", "kappa", TimeKappa},
		{"device", "", DeviceCPU}, {"device", "cpu", DeviceCPU}, {"device", "cuda", DeviceCUDA},
		{"net", "", NetAuto}, {"net", "auto", NetAuto}, {"net", "egnn", NetEGNN}, {"net", "MLP", NetMLP},
	}
	for _, c := range cases {
		got, err := parse[c.kind](c.in)
		if err != nil || got != c.want {
			t.Errorf("parse %s %q: %v, %v; want %v", c.kind, c.in, got, err, c.want)
			continue
		}
		back, err := parse[c.kind](got.String())
		if err != nil || back != got {
			t.Errorf("%s %v does not parse back from %q: %v", c.kind, got, got.String(), err)
		}
	}
	for kind, p := range parse {
		if _, err := p("rk4"); err == nil || !strings.Contains(err.Error(), `"rk4"`) {
			t.Errorf("%s: unknown name: %v", kind, err)
		}
	}
	if s := Integrator(5).String(); s != "Integrator(5)" {
		t.Errorf("out-of-range integrator prints %q", s)
	}
	if _, err := TimeSampling(-1).MarshalText(); err == nil {
		t.Error("out-of-range time sampling marshalled")
	}
	var v struct {
		I Integrator
		T TimeSampling
		D Device
	}
	v.I, v.T, v.D = IntegratorKappa, TimeKappa, DeviceCUDA
	b, err := json.Marshal(v)
	if err != nil || string(b) != `{"I":"kappa","T":"kappa","D":"cuda"}` {
		t.Fatalf("JSON %s, %v", b, err)
	}
	v.I, v.T, v.D = 0, 0, 0
	if err := json.Unmarshal(b, &v); err != nil || v.I != IntegratorKappa || v.T != TimeKappa || v.D != DeviceCUDA {
		t.Fatalf("JSON back %+v, %v", v, err)
	}
	if err := json.Unmarshal([]byte(`{"I":"rk4"}`), &v); err == nil {
		t.Fatal("unknown integrator unmarshalled")
	}
}

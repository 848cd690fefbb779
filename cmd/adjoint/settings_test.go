package main

import (
	"flag"
	"strings"
	"testing"
	"time"

	"adjoint/lib/adjoint"
)

// trainBounds are the flags of adjoint train that are not trainer settings: the limits and
// outputs of one run, and the schedule (a DSL script declares it in an sde, not a setting).
var trainBounds = map[string]bool{"minutes": true, "sigma": true}

// TestTrainFlagsFollowSettings: adjoint train has a flag for every trainer setting of
// adjoint.Settings and no configuration flag outside it.
func TestTrainFlagsFollowSettings(t *testing.T) {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	var tf trainFlags
	tf.register(fs)
	table := map[string]bool{}
	for _, s := range adjoint.Settings() {
		table[s.Flag] = true
		if fs.Lookup(s.Flag) == nil {
			t.Errorf("setting %s has no flag --%s", s.Field, s.Flag)
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		if !table[f.Name] && !trainBounds[f.Name] {
			t.Errorf("flag --%s is not in adjoint.Settings", f.Name)
		}
	})
}

// TestStartTable: the table printed when training starts gives each setting's value and where
// it came from, and a budget in minutes reads as minutes.
func TestStartTable(t *testing.T) {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	var tf trainFlags
	tf.register(fs)
	if err := fs.Parse([]string{"--lr", "3e-4", "--minutes", "30", "--batch", "16", "--buffer", "32", "--net", "mlp", "--layers", "1", "--hidden", "4"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := configFor("dw4")
	if err != nil {
		t.Fatal(err)
	}
	tf.apply(fs, &cfg)
	s, err := adjoint.NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	opt, err := tf.options()
	if err != nil {
		t.Fatal(err)
	}
	st, set := startTable(s, opt, settingOrigins(fs, "dw4", false, cfg))
	text := st.String() + set.String()
	for _, want := range []string{"30 minutes (wall clock)", "0 (learning-rate schedule over 5000)"} {
		if !strings.Contains(text, want) {
			t.Errorf("start table lacks %q:\n%s", want, text)
		}
	}
	rows := map[string][]string{}
	for _, r := range set.Rows {
		rows[r[0]] = r
	}
	for flag, want := range map[string][2]string{
		"--lr": {"0.0003", fromFlag}, "--steps": {"199", fromSystem}, "--seed": {"1", fromDefault},
		"--time-sampling": {"uniform", fromDefault}, "--checkpoint-every": {"50", fromDefault},
	} {
		r := rows[flag]
		if len(r) != 4 || r[2] != want[0] || r[3] != want[1] {
			t.Errorf("%s: row %v, want value %s from %s", flag, r, want[0], want[1])
		}
	}
	for _, c := range []struct {
		opt  adjoint.TrainOptions
		want string
	}{
		{adjoint.TrainOptions{Duration: 90 * time.Second}, "1.5 minutes (wall clock)"},
		{adjoint.TrainOptions{Duration: 2 * time.Hour}, "2 hours (wall clock)"},
		{adjoint.TrainOptions{Epochs: 7}, "7 epochs"},
		{adjoint.TrainOptions{}, "5000 epochs (the configuration's, 0 done)"},
	} {
		if got := budgetText(c.opt, cfg, 0); got != c.want {
			t.Errorf("budget %+v: %q, want %q", c.opt, got, c.want)
		}
	}
}

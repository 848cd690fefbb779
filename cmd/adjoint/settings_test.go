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
	for _, want := range []string{"30 minutes (wall clock)", "0 (learning rate annealed over this call's 30 minutes)"} {
		if !strings.Contains(text, want) {
			t.Errorf("start table lacks %q:\n%s", want, text)
		}
	}
	rows := map[string][]string{}
	for _, r := range set.Rows {
		rows[r[0]] = r
	}
	for flag, want := range map[string][2]string{
		"--lr": {"0.0003", fromFlag}, "--steps": {"100", fromSystem}, "--seed": {"1", fromDefault},
		"--time-sampling": {"kappa", fromSystem}, "--reweight": {"0.5", fromSystem}, "--checkpoint-every": {"50", fromDefault},
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

// TestEpochsDoneText: the start table says whether the learning rate is constant, annealed over
// the configuration's epochs, or annealed over a time-limited call.
func TestEpochsDoneText(t *testing.T) {
	for _, c := range []struct {
		lrFinal float64
		d       time.Duration
		want    string
	}{
		{0, 30 * time.Minute, "3 (constant learning rate; a full run is 5000)"},
		{1e-4, 30 * time.Minute, "3 (learning rate annealed over this call's 30 minutes)"},
		{1e-4, 0, "3 (learning-rate schedule over 5000)"},
	} {
		cfg := adjoint.Config{Epochs: 5000, LRFinal: c.lrFinal}
		if got := epochsDoneText(3, cfg, adjoint.TrainOptions{Duration: c.d}); got != c.want {
			t.Errorf("lr-final %g, duration %v: %q, want %q", c.lrFinal, c.d, got, c.want)
		}
	}
}

package main

import (
	"flag"
	"fmt"
	"reflect"
	"strings"
	"time"

	"adjoint/lib/adjoint"
	"adjoint/lib/display"
	"adjoint/lib/energy"
)

// Where a trainer setting's value came from, as the start table of adjoint train shows it.
const (
	fromDefault    = "default"    // the library's default for any system
	fromSystem     = "system"     // the default for this system (benchmark or zoo target)
	fromScript     = "script"     // the sampler of a FILE.adj
	fromFlag       = "flag"       // given on the command line
	fromCheckpoint = "checkpoint" // a resumed run keeps its checkpoint's configuration
)

// settingValue returns the value of a setting of adjoint.Settings in cfg or opt.
func settingValue(field string, cfg adjoint.Config, opt adjoint.TrainOptions) (reflect.Value, bool) {
	v := reflect.ValueOf(cfg)
	if rest, ok := strings.CutPrefix(field, "TrainOptions."); ok {
		v, field = reflect.ValueOf(opt), rest
	}
	for _, part := range strings.Split(field, ".") {
		v = v.FieldByName(part)
		if !v.IsValid() {
			return v, false
		}
	}
	return v, true
}

// settingOrigins says where each setting's value came from: given flags, the checkpoint of a
// resumed run, the script, the system's defaults or the library's.
func settingOrigins(fs *flag.FlagSet, spec string, resumed bool, cfg adjoint.Config) map[string]string {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	generic := adjoint.DefaultConfig(&energy.System{})
	var system, paper adjoint.Config
	if cfg.System != nil {
		system, paper = adjoint.DefaultConfig(cfg.System), adjoint.PaperConfig(cfg.System)
		if isAdjSpec(spec) && !resumed {
			system = probedBaseline(cfg, system)
		}
	}
	out := map[string]string{}
	for _, s := range adjoint.Settings() {
		v, _ := settingValue(s.Field, cfg, adjoint.TrainOptions{})
		sv, _ := settingValue(s.Field, system, adjoint.TrainOptions{})
		gv, _ := settingValue(s.Field, generic, adjoint.TrainOptions{})
		pv, _ := settingValue(s.Field, paper, adjoint.TrainOptions{})
		// a system's own default that departs from its paper configuration is the system's,
		// even where it equals the library's generic value (dw4's 100 steps)
		chosen := cfg.System != nil && reflect.DeepEqual(v.Interface(), sv.Interface()) && !reflect.DeepEqual(sv.Interface(), pv.Interface())
		isTrain := strings.HasPrefix(s.Field, "TrainOptions.")
		switch {
		case given[s.Flag] && (!resumed || isTrain):
			out[s.Field] = fromFlag
		case resumed && !isTrain:
			out[s.Field] = fromCheckpoint
		case isTrain:
			out[s.Field] = fromDefault
		case isAdjSpec(spec) && cfg.System != nil && !reflect.DeepEqual(v.Interface(), sv.Interface()):
			out[s.Field] = fromScript
		case chosen || !reflect.DeepEqual(v.Interface(), gv.Interface()):
			out[s.Field] = fromSystem
		default:
			out[s.Field] = fromDefault
		}
	}
	return out
}

// probedBaseline returns the configuration adjoint.DefaultsFor measures for a script's system
// when cfg was built from it (a script that declares no sde: the schedules agree), so that the
// probe's choices read as coming from the system, not the script; else it returns def.
func probedBaseline(cfg, def adjoint.Config) adjoint.Config {
	p, _, err := adjoint.DefaultsFor(cfg.System, def.Seed)
	if err != nil || p.Schedule == nil || cfg.Schedule == nil || p.Schedule.Name() != cfg.Schedule.Name() {
		return def
	}
	return p
}

// budgetText spells the limit of a training call as it was given: minutes read as minutes.
func budgetText(opt adjoint.TrainOptions, cfg adjoint.Config, done int) string {
	switch {
	case opt.Duration > 0 && opt.Epochs > 0:
		return fmt.Sprintf("%s or %d epochs, whichever comes first", durationText(opt.Duration), opt.Epochs)
	case opt.Duration > 0:
		return durationText(opt.Duration) + " (wall clock)"
	case opt.Epochs > 0:
		return fmt.Sprintf("%d epochs", opt.Epochs)
	}
	return fmt.Sprintf("%d epochs (the configuration's, %d done)", max(cfg.Epochs-done, 0), done)
}

// epochsDoneText is the start table's "epochs done" with what the learning rate does over the
// call: constant, annealed over the configuration's epochs, or over a time-limited call.
func epochsDoneText(done int, cfg adjoint.Config, opt adjoint.TrainOptions) string {
	switch {
	case cfg.LRFinal <= 0:
		return fmt.Sprintf("%d (constant learning rate; a full run is %d)", done, cfg.Epochs)
	case opt.Duration > 0:
		return fmt.Sprintf("%d (learning rate annealed over this call's %s)", done, durationText(opt.Duration))
	}
	return fmt.Sprintf("%d (learning-rate schedule over %d)", done, cfg.Epochs)
}

// durationText writes a duration in the largest whole unit that fits: 30 minutes, 90 seconds.
func durationText(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	case d%time.Minute == 0:
		return plural(int(d/time.Minute), "minute")
	case d >= time.Minute:
		return fmt.Sprintf("%.3g minutes", d.Minutes())
	}
	return fmt.Sprintf("%.3g seconds", d.Seconds())
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// startTable is what adjoint train prints when it starts: the sampler's table with this run's
// budget, and every trainer setting of adjoint.Settings with its value and where it came from.
func startTable(s *adjoint.Sampler, opt adjoint.TrainOptions, origins map[string]string) (*display.Table, *display.Table) {
	st := s.Table()
	cfg := s.Config()
	for i, row := range st.Rows {
		if len(row) == 2 && row[0] == "epochs done" {
			st.Rows[i][1] = epochsDoneText(s.Epoch(), cfg, opt)
		}
	}
	st.AddRow("budget of this run", budgetText(opt, cfg, s.Epoch()))
	t := &display.Table{Caption: "trainer settings", Header: []string{"flag", "script", "value", "from"}}
	for _, set := range adjoint.Settings() {
		v, ok := settingValue(set.Field, cfg, opt)
		if !ok {
			continue
		}
		val := fmt.Sprint(v.Interface())
		if strings.HasPrefix(set.Field, "TrainOptions.") && v.IsZero() {
			val = set.Default
		}
		script := set.Script
		if script == "" {
			script = "—"
		}
		t.AddRow("--"+set.Flag, script, val, origins[set.Field])
	}
	return st, t
}

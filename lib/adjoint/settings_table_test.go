package adjoint

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"adjoint/lib/energy"
)

// TestSettingsTable: every row names a real field, spells its flag in kebab-case and its
// script name in snake_case, and no name is used twice.
func TestSettingsTable(t *testing.T) {
	kebab := regexp.MustCompile(`^[a-z]+(-[a-z]+)*$`)
	snake := regexp.MustCompile(`^([a-z]+(_[a-z]+)*|net\((layers|hidden)\))$`)
	seen := map[string]bool{}
	for _, s := range Settings() {
		typ := reflect.TypeOf(Config{})
		path := s.Field
		if rest, ok := strings.CutPrefix(path, "TrainOptions."); ok {
			typ, path = reflect.TypeOf(TrainOptions{}), rest
		}
		for _, part := range strings.Split(path, ".") {
			f, ok := typ.FieldByName(part)
			if !ok {
				t.Fatalf("%s: no field %s in %s", s.Field, part, typ)
			}
			typ = f.Type
		}
		if !kebab.MatchString(s.Flag) {
			t.Errorf("%s: flag %q is not kebab-case", s.Field, s.Flag)
		}
		if s.Script == "" {
			t.Errorf("%s: a setting needs a script name", s.Field)
		}
		if s.Script != "" && !snake.MatchString(s.Script) {
			t.Errorf("%s: script name %q is not snake_case", s.Field, s.Script)
		}
		if s.Doc == "" || s.Default == "" {
			t.Errorf("%s: no documentation or default", s.Field)
		}
		for _, k := range []string{"field " + s.Field, "flag " + s.Flag, "script " + s.Script} {
			if seen[k] {
				t.Errorf("%s used twice", k)
			}
			seen[k] = true
		}
	}
}

// TestSettingsTableDefaults: for the benchmarks, each default DefaultConfig sets appears in the
// table's Default text (numbers compared as numbers, so 5e-4 and 0.0005 are one), so that the
// table cannot drift from the code that sets the values.
func TestSettingsTableDefaults(t *testing.T) {
	num := regexp.MustCompile(`[0-9]+(\.[0-9]+)?(e-?[0-9]+)?`)
	for _, name := range []string{"dw4", "lj13", "lj55"} {
		sys, err := energy.Benchmark(name)
		if err != nil {
			t.Fatal(err)
		}
		cfg := reflect.ValueOf(DefaultConfig(sys))
		for _, s := range Settings() {
			if strings.HasPrefix(s.Field, "TrainOptions.") {
				continue
			}
			v := cfg
			for _, part := range strings.Split(s.Field, ".") {
				v = v.FieldByName(part)
			}
			if st, ok := v.Interface().(fmt.Stringer); ok { // the kinds: egnn, kappa, em, ...
				if !strings.Contains(s.Default, st.String()) {
					t.Errorf("%s: %s's default %s is not in %q", s.Field, name, st, s.Default)
				}
				continue
			}
			switch s.Field {
			case "Net.TanhRange": // 0 stands for the paper's 15
				if r := v.Float(); r != 0 && r != 15 {
					t.Errorf("%s: %s's default %g is not the paper's 15", s.Field, name, r)
				}
				continue
			case "TrainBatch": // "256 for dw4, else the batch"
				if name == "dw4" {
					if v.Int() != 256 || !strings.Contains(s.Default, "256 for dw4") {
						t.Errorf("TrainBatch: dw4's default %d, the table's %q", v.Int(), s.Default)
					}
					continue
				}
				if v.Int() != cfg.FieldByName("Batch").Int() {
					t.Errorf("TrainBatch: %s's default %d is not its batch", name, v.Int())
				}
				continue
			}
			var want float64
			switch v.Kind() {
			case reflect.Int, reflect.Int64:
				want = float64(v.Int())
			case reflect.Float64:
				want = v.Float()
			case reflect.Bool:
				if !strings.Contains(s.Default, strconv.FormatBool(v.Bool())) {
					t.Errorf("%s: %s's default %v is not in %q", s.Field, name, v.Bool(), s.Default)
				}
				continue
			case reflect.String: // "" stands for the table's default
				if v.String() != "" && !strings.Contains(s.Default, v.String()) {
					t.Errorf("%s: %s's default %q is not in %q", s.Field, name, v.String(), s.Default)
				}
				continue
			default:
				t.Errorf("%s: a setting of kind %s has no check here", s.Field, v.Kind())
				continue
			}
			found := false
			for _, m := range num.FindAllString(s.Default, -1) {
				if f, err := strconv.ParseFloat(m, 64); err == nil && f == want {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: %s's default %g is not in %q", s.Field, name, want, s.Default)
			}
		}
	}
}

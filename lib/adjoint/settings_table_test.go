package adjoint

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
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

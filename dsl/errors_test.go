package dsl

import (
	"errors"
	"strings"
	"testing"
)

// TestErrors checks that mistakes are reported at the right line:column, with the source line,
// a caret and a useful hint.
func TestErrors(t *testing.T) {
	cases := []struct {
		name, src string
		pos       string // "line:col" of the first error
		msg, hint string // substrings of the first error's message and hint
	}{
		{"unknown name", "system s { particles 2 in 2d\n energy = sum pairs i<j: rr[i,j] }", "2:26", `unknown name "rr"`, "r, r2"},
		{"unknown param", "system s { particles 2 in 2d; let alpha = 1\n energy = alpah * r[0,1] }", "2:11", `unknown name "alpah"`, "alpha"},
		{"unknown function", "system s { particles 2 in 2d; energy = ecp(r[0,1]) }", "1:40", `unknown function "ecp"`, "exp"},
		{"arity", "system s { particles 2 in 2d; energy = exp(r[0,1], 2) }", "1:40", "exp takes 1 argument, got 2", "exp(x)"},
		{"arity smin", "system s { particles 2 in 2d; energy = smin(r[0,1], 2) }", "1:40", "smin takes at least 3 arguments, got 2", "smooth minimum"},
		{"pair outside sum", "system s { particles 3 in 3d\n energy = r[i,j]^2 }", "2:13", "not a summation variable", "pair sum"},
		{"pair var in particle sum", "system s { particles 3 in 3d; energy = sum i: r[i,j] }", "1:51", "not a summation variable", "pair sum"},
		{"z in 2d", "system s { particles 2 in 2d; energy = x[0].z }", "1:45", "component .z does not exist in 2d", "use .x, .y"},
		{"component index", "system s { particles 2 in 2d; energy = x[0][2] }", "1:45", "coordinate index", "0 to 1"},
		{"box lengths", "system s { particles 2 in 3d; box 6 x 6 periodic; energy = r[0,1] }", "1:31", "box has 2 lengths for 3 dimensions", "one length per dimension"},
		{"particle range", "system s { particles 2 in 2d; energy = r[0,2] }", "1:44", "out of range", "0 to 1"},
		{"self pair", "system s { particles 2 in 2d; energy = r[1,1] }", "1:41", "with itself", "two different"},
		{"nested sums", "system s { particles 3 in 2d; energy = sum i: exp(sum j: x[j].x) }", "1:51", "cannot be nested", ""},
		{"comparison outside where", "system s { particles 2 in 2d; energy = (r[0,1] < 2) * 3 }", "1:48", "comparison is not a number", "where"},
		{"where needs comparison", "system s { particles 2 in 2d; energy = where(r[0,1], 1, 2) }", "1:47", "must be a comparison", ""},
		{"vector energy", "system s { particles 2 in 2d; energy = x[0] }", "1:41", "is a vector", "norm"},
		{"missing energy", "system s { particles 2 in 2d }", "1:8", "has no energy", "energy ="},
		{"missing particles", "system s { energy = 1 }", "1:8", "how many particles", "particles N in Dd"},
		{"symmetry typo", "system s { particles 2 in 2d; energy = r[0,1]; symmetry translaton }", "1:57", `unknown symmetry "translaton"`, "translation"},
		{"let redefines builtin", "system s { particles 2 in 2d; let exp = 2; energy = r[0,1] }", "1:35", "built-in function", ""},
		{"system item typo", "system s { particles 2 in 2d; enrgy = 1 }", "1:31", `unknown system item "enrgy"`, "energy"},
		{"unterminated string", "x = load \"abc", "1:10", "unterminated string", ""},
		{"bad character", "system s { particles 2 in 2d; energy = 1 $ 2 }", "1:42", "unexpected character", ""},
		{"statement typo", "sytem s { }", "1:1", `unknown statement "sytem"`, "system"},
		{"sde arity", "sde v { sigma = geometric(1e-3) }", "1:17", "geometric takes 2 arguments, got 1", "sigma_min"},
		{"sigma uses x", "sde v { sigma(t) = x[0] + t }", "1:20", "cannot use x", ""},
		{"sigma unknown", "sde v { sigma(t) = 2*exp(-3*tt) }", "1:29", `unknown name "tt"`, "t"},
		{"sampler unknown system", "sde v { sigma = constant(1) }\nsampler s = adjoint(dw5, v)", "2:21", `unknown name "dw5"`, "dw4"},
		{"sampler setting typo", "system q { particles 1 in 1d; energy = x[0].x^2 }\nsampler s = adjoint(q) { batchh 5 }", "2:26", `unknown sampler setting "batchh"`, "batch"},
		{"train unit", "system q { particles 1 in 1d; energy = x[0].x^2 }\nsampler s = adjoint(q)\ntrain s for 3 minuts", "3:15", `unknown unit "minuts"`, "minutes"},
		{"train a system", "system q { particles 1 in 1d; energy = x[0].x^2 }\ntrain q for 3 epochs", "2:7", "q is a system, a sampler is needed here", ""},
		{"plot typo", "system q { particles 1 in 1d; energy = x[0].x^2 }\nsampler s = adjoint(q)\nx = sample s 10\nplot enrgy_hist(x)", "4:6", `unknown plot "enrgy_hist"`, "energy_hist"},
		{"dimension", "system s { particles 2 in 4d; energy = 1 }", "1:27", "the dimension must be a whole number from 1 to 3", ""},
		{"chained comparison", "system s { particles 2 in 2d; energy = where(1 < 2 < 3, 1, 2) }", "1:52", `unexpected "<"`, "comparisons do not chain"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.src, "t.adj")
			if err == nil {
				t.Fatalf("no error for:\n%s", tc.src)
			}
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is %T, want ErrorList: %v", err, err)
			}
			first := list[0]
			text := first.Error()
			if !strings.HasPrefix(text, "t.adj:"+tc.pos+": ") {
				t.Errorf("position: got\n%s\nwant t.adj:%s", text, tc.pos)
			}
			if !strings.Contains(first.Msg, tc.msg) {
				t.Errorf("message %q does not contain %q", first.Msg, tc.msg)
			}
			if !strings.Contains(first.Hint, tc.hint) {
				t.Errorf("hint %q does not contain %q", first.Hint, tc.hint)
			}
			// the source line and a caret under the column
			lines := strings.Split(text, "\n")
			if first.Line != "" {
				if len(lines) < 3 || !strings.HasSuffix(lines[2], "^") {
					t.Errorf("no caret line:\n%s", text)
				} else if col := len([]rune(lines[2])) - 4; col != first.Pos.Col {
					t.Errorf("caret at column %d, want %d:\n%s", col, first.Pos.Col, text)
				}
			}
		})
	}
}

func TestSeveralErrorsReported(t *testing.T) {
	src := `system dw4 {
  particles 4 in 2d
  energy = sum pairs i<j: (rr[i,j] - 4)^2 + x[0].z
  symmetry translation, rotaton
}
train s for 10 minutes`
	err := Check(src, "e.adj")
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("got %v", err)
	}
	if len(list) != 4 {
		t.Fatalf("want 4 errors, got %d:\n%v", len(list), err)
	}
	for i := 1; i < len(list); i++ {
		a, b := list[i-1].Pos, list[i].Pos
		if a.Line > b.Line || a.Line == b.Line && a.Col > b.Col {
			t.Errorf("errors not in source order:\n%v", err)
		}
	}
}

func TestNearest(t *testing.T) {
	cases := []struct {
		name  string
		cands []string
		want  string
	}{
		{"rr", []string{"r", "r2", "x", "exp"}, "did you mean r, r2?"},
		{"tanhh", []string{"tanh", "tan", "sqrt"}, "did you mean tanh, tan?"},
		{"zzzzzz", []string{"exp", "log"}, ""},
	}
	for _, c := range cases {
		if got := nearest(c.name, c.cands); got != c.want {
			t.Errorf("nearest(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

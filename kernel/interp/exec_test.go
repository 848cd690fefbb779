package interp

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"adjoint/lib/display"
)

// recorder is an Output that remembers everything a cell produced.
type recorder struct {
	mu       sync.Mutex
	stdout   strings.Builder
	stderr   strings.Builder
	displays []display.Bundle
	ids      []string
	clears   int
}

func (r *recorder) Stream(name, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if name == "stdout" {
		r.stdout.WriteString(text)
	} else {
		r.stderr.WriteString(text)
	}
}

func (r *recorder) Display(b display.Bundle, id string, update bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.displays = append(r.displays, b)
	r.ids = append(r.ids, id)
}

func (r *recorder) Clear(bool) {
	r.mu.Lock()
	r.clears++
	r.mu.Unlock()
}

func (r *recorder) out() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stdout.String()
}

func (r *recorder) err() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stderr.String()
}

var (
	sharedOnce sync.Once
	shared     *Interp
)

func newInterp(t *testing.T) *Interp {
	t.Helper()
	// Output between cells goes to the log: the test framework's own output must not end up
	// in a recorder.
	in, err := New(Options{NoRedirect: os.Getenv("ADJ_NOREDIRECT") != "", LateOutputToLog: true})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return in
}

func run(t *testing.T, in *Interp, code string) (Result, *recorder) {
	t.Helper()
	rec := &recorder{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res := in.Execute(ctx, code, rec)
	return res, rec
}

func text(r Result) string {
	if r.Value == nil {
		return "<none>"
	}
	s, _ := r.Value.Data[display.MIMEText].(string)
	return s
}

func TestCells(t *testing.T) {
	in := newInterp(t)
	cases := []struct {
		name, code string
		want       string // text/plain of the result, "<none>" for no result
		stdout     string // substring of stdout
		errName    string
	}{
		{"int", "1 + 2", "3", "", ""},
		{"define", "x := 40", "<none>", "", ""},
		{"persist", "x + 2", "42", "", ""},
		{"string", `strings.ToUpper("go")`, "GO", "", ""},
		{"println not shown", `fmt.Println("hello")`, "<none>", "hello\n", ""},
		{"mixed", "import \"strconv\"\ntype P struct{ A int }\nfunc (p P) Twice() int { return 2 * p.A }\ny := P{x}\nfmt.Println(\"y is\", y.A)\nfunc g() string { return strconv.Itoa(7) }\ny.Twice() + len(g())", "81", "y is 40\n", ""},
		{"later sees decls", "y.Twice()", "80", "", ""},
		{"void call", "func v() {}\nv()", "<none>", "", ""},
		{"multi value", "func two() (int, string) { return 1, \"a\" }\ntwo()", "<none>", "", ""},
		{"nil error not shown", "func e() error { return nil }\ne()", "<none>", "", ""},
		{"statement last", "for k := 0; k < 3; k++ { fmt.Print(k) }", "<none>", "012", ""},
		{"os.Stdout", `fmt.Fprintln(os.Stdout, "direct")`, "<none>", "direct\n", ""},
		{"math", "math.Sqrt(16)", "4", "", ""},
		{"undefined", "a := 1\nb := undefinedName + a", "", "", "CompileError"},
		{"panic", "z := 5\npanic(\"boom\")", "", "", "panic"},
		{"after panic", "x", "40", "", ""},
		{"os.Exit", "os.Exit(3)", "", "", "Exit"},
		{"log.Fatal", "import \"log\"\nlog.Fatal(\"bad\")", "", "", "Fatal"},
		{"range over int", "for k := range 5 { fmt.Println(k) }", "", "", "CompileError"},
		{"still alive", "x * 2", "80", "", ""},
		{"import again", "import (\n\t\"fmt\"\n\t\"strconv\"\n)\nfmt.Sprint(strconv.Itoa(5))", "5", "", ""},
		{"import twice", "import \"strconv\"\nstrconv.Quote(\"q\")", `"q"`, "", ""},
		{"func value", "strings.ToUpper", "func(string) string", "", ""},
		{"shadow package name", "metrics := 3\nmetrics + 1", "4", "", ""},
		{"define func", "func g() int { return 1 }", "<none>", "", ""},
		{"redefine func in a later cell", "func g() int { return 2 }\ng()", "2", "", ""},
		{"trailing comment", "x // the answer", "40", "", ""},
		{"semicolons", "q := 2; q * 3", "6", "", ""},
	}
	for _, c := range cases {
		res, rec := run(t, in, c.code)
		if c.errName != "" {
			if res.Err == nil || res.Err.Name != c.errName {
				t.Errorf("%s: error %+v, want %s", c.name, res.Err, c.errName)
			}
			continue
		}
		if res.Err != nil {
			t.Errorf("%s: unexpected error %v", c.name, res.Err)
			continue
		}
		if got := text(res); got != c.want {
			t.Errorf("%s: value %q, want %q", c.name, got, c.want)
		}
		if !strings.Contains(rec.out(), c.stdout) {
			t.Errorf("%s: stdout %q, want it to contain %q", c.name, rec.out(), c.stdout)
		}
	}
}

// TestMain flushes the captured streams before the process exits: descriptors 1 and 2 are
// redirected into pipes once an interpreter exists, and the test framework's own output goes
// through them.
func TestMain(m *testing.M) {
	code := m.Run()
	if capt != nil {
		capt.flush()
	}
	os.Exit(code)
}

package interp

import (
	"context"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"adjoint/lib/display"
)

func TestRichValues(t *testing.T) {
	in := newInterp(t)
	cases := []struct {
		name, code, mime string
	}{
		{"bundle", `display.HTMLBundle("<b>x</b>", "x")`, display.MIMEHTML},
		{"table", "t := &display.Table{Header: []string{\"a\"}}\nt.AddRow(1)\nt", display.MIMEHTML},
		{"interpreted renderer", "type R struct{}\nfunc (R) MIMEBundle() display.Bundle { return display.HTMLBundle(\"<i>r</i>\", \"r\") }\nR{}", display.MIMEHTML},
		{"image", "import \"image\"\nimage.NewRGBA(image.Rect(0, 0, 4, 3))", display.MIMEPNG},
	}
	for _, c := range cases {
		res, _ := run(t, in, c.code)
		if res.Err != nil {
			t.Errorf("%s: %v", c.name, res.Err)
			continue
		}
		if res.Value == nil {
			t.Errorf("%s: no value", c.name)
			continue
		}
		if c.mime != "" {
			if _, ok := res.Value.Data[c.mime]; !ok {
				t.Errorf("%s: bundle %v lacks %s", c.name, keys(res.Value.Data), c.mime)
			}
		}
	}
}

func keys(m map[string]any) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return k
}

func TestStreamsAndDisplay(t *testing.T) {
	in := newInterp(t)
	res, rec := run(t, in, `
done := make(chan bool)
go func() {
	fmt.Println("from goroutine")
	done <- true
}()
<-done
fmt.Fprintln(os.Stderr, "to stderr")
display.HTML("<b>hi</b>")
display.Markdown("*m*")
u := display.NewUpdatable()
u.UpdateText("one")
u.UpdateText("two")
display.Clear(true)
`)
	if res.Err != nil {
		t.Fatalf("cell failed: %v", res.Err)
	}
	if !strings.Contains(rec.out(), "from goroutine\n") {
		t.Errorf("stdout %q lacks goroutine output", rec.out())
	}
	if !strings.Contains(rec.err(), "to stderr\n") {
		t.Errorf("stderr %q lacks os.Stderr output", rec.err())
	}
	if len(rec.displays) != 4 {
		t.Fatalf("got %d displays, want 4", len(rec.displays))
	}
	if _, ok := rec.displays[0].Data[display.MIMEHTML]; !ok {
		t.Errorf("first display is not HTML: %v", rec.displays[0].Data)
	}
	if rec.ids[2] == "" || rec.ids[2] != rec.ids[3] {
		t.Errorf("updatable display ids %q, %q", rec.ids[2], rec.ids[3])
	}
	if rec.clears != 1 {
		t.Errorf("clears = %d, want 1", rec.clears)
	}
}

func TestErrorLines(t *testing.T) {
	in := newInterp(t)
	cases := []struct {
		name, code, want string
	}{
		{"compile in statements", "a := 1\n\nb := a + nope\n", "3:"},
		{"compile in decl", "x := 1\nfunc f() int {\n\treturn y\n}\n", "3:"},
		{"panic line", "fmt.Println(1)\nvar s []int\n_ = s[3]\n", "line 3"},
		{"first line", "undefinedThing()", "1:1"},
	}
	for _, c := range cases {
		res, _ := run(t, in, c.code)
		if res.Err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		tb := strings.Join(res.Err.Traceback, "\n")
		if !strings.Contains(tb, c.want) {
			t.Errorf("%s: traceback %q lacks %q", c.name, tb, c.want)
		}
	}
}

func TestGoroutinePanic(t *testing.T) {
	in := newInterp(t)
	res, rec := run(t, in, "keep := 7\ngo func() { panic(\"in goroutine\") }()\ntime.Sleep(100 * time.Millisecond)\nfunc boom(s string) { panic(s) }\ngo boom(\"named\")\ntime.Sleep(100 * time.Millisecond)")
	if res.Err != nil {
		t.Fatalf("cell failed: %v", res.Err)
	}
	for _, w := range []string{"in goroutine", "named"} {
		if !strings.Contains(rec.err(), w) {
			t.Errorf("stderr %q lacks the goroutine panic %q", rec.err(), w)
		}
	}
	res, _ = run(t, in, "keep")
	if text(res) != "7" {
		t.Errorf("after goroutine panic: %q", text(res))
	}
}

func TestGoArgsEvaluatedAtGoStatement(t *testing.T) {
	in := newInterp(t)
	res, _ := run(t, in, `
ch := make(chan int, 3)
for k := 0; k < 3; k++ {
	go func(v int) { ch <- v }(k)
}
s := 0
for k := 0; k < 3; k++ {
	s += <-ch
}
s`)
	if res.Err != nil || text(res) != "3" {
		t.Fatalf("got %q, %v; want 3", text(res), res.Err)
	}
}

func TestInterrupt(t *testing.T) {
	in := newInterp(t)
	if res, _ := run(t, in, "before := 11"); res.Err != nil {
		t.Fatal(res.Err)
	}
	if in.stopper == nil {
		t.Errorf("the interpreter's cancellation fields were not found: interrupts fall back to a weaker stop")
	}
	for _, code := range []string{
		"for {}",
		"n := 0\nfor { n++ }",
		"ch := make(chan int)\n<-ch",
		"select {}",
		"c2 := make(chan int)\nfor v := range c2 { fmt.Println(v) }",
		"for { time.Sleep(10 * time.Millisecond) }",
		"time.Sleep(1500 * time.Millisecond)", // compiled: the next cell waits for it
	} {
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(200 * time.Millisecond); cancel() }()
		t0 := time.Now()
		res := in.Execute(ctx, code, &recorder{})
		if d := time.Since(t0); d > 1500*time.Millisecond {
			t.Errorf("%q: interrupt took %v", code, d)
		}
		if res.Err == nil || res.Err.Name != "Interrupted" {
			t.Errorf("%q: result %+v, want Interrupted", code, res.Err)
		}
		res, _ = run(t, in, "before + 1")
		if text(res) != "12" {
			t.Errorf("after interrupting %q: %q, %v", code, text(res), res.Err)
		}
	}
}

func TestInterruptFallback(t *testing.T) {
	if raceEnabled {
		t.Skip("the fallback stop races inside yaegi by design (see raceEnabled)")
	}
	in := newInterp(t)
	in.stopper = nil // the stop used when yaegi's fields cannot be reached
	run(t, in, "kept := 1")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	if res := in.Execute(ctx, "for {}", &recorder{}); res.Err == nil || res.Err.Name != "Interrupted" {
		t.Errorf("result %+v, want Interrupted", res.Err)
	}
	if res, _ := run(t, in, "kept"); text(res) != "1" {
		t.Errorf("after interrupt: %q, %v", text(res), res.Err)
	}
}

func TestComplete(t *testing.T) {
	in := newInterp(t)
	run(t, in, "myGlobalVar := 3\nfunc myFunc() {}\ntype myType int\ntype Inner struct{ Count int }\ntype Outer struct{ In Inner; Name string }\nnested := Outer{}")
	cases := []struct {
		code       string
		cursor     int
		want       []string
		start, end int
	}{
		{"fmt.Pri", 7, []string{"Print", "Printf", "Println"}, 4, 7},
		{"x := myG", 8, []string{"myGlobalVar"}, 5, 8},
		{"myF", 3, []string{"myFunc"}, 0, 3},
		{"var t myT", 9, []string{"myType"}, 6, 9},
		{"é := energy.NewD", 16, []string{"NewDW4"}, 12, 16},
		{"strings.ToUp", 12, []string{"ToUpper"}, 8, 12},
		{"fo", 2, []string{"for"}, 0, 2},
		{"nested.N", 8, []string{"Name"}, 7, 8},
		{"nested.In.Co", 12, []string{"Count"}, 10, 12},
		{"x := nested.", 12, []string{"In", "Name"}, 12, 12},
	}
	for _, c := range cases {
		m, s, e := in.Complete(c.code, c.cursor)
		for _, w := range c.want {
			if !slices.Contains(m, w) {
				t.Errorf("Complete(%q): %v lacks %q", c.code, m, w)
			}
		}
		if s != c.start || e != c.end {
			t.Errorf("Complete(%q): range %d..%d, want %d..%d", c.code, s, e, c.start, c.end)
		}
	}
}

func TestInspect(t *testing.T) {
	in := newInterp(t)
	run(t, in, "answer := 42\n// double returns twice n.\nfunc double(n int) int { return 2 * n }\ntype myT int\nfunc (m myT) Half() int { return int(m) / 2 }")
	cases := []struct {
		code   string
		cursor int
		want   string
	}{
		{"fmt.Println", 5, "Println formats"},
		{"fmt.Println(", 12, "func Println"},
		{"energy.NewDW4()", 10, "func NewDW4"},
		{"strings.Repeat", 14, "func Repeat"},
		{"answer", 3, "var answer int = 42"},
		{"double(2)", 2, "double returns twice n"},
		{"myT.Half", 5, "func (m myT) Half() int"},
	}
	for _, c := range cases {
		b, ok := in.Inspect(c.code, c.cursor, 0)
		if !ok {
			t.Errorf("Inspect(%q): not found", c.code)
			continue
		}
		if s, _ := b.Data[display.MIMEText].(string); !strings.Contains(s, c.want) {
			t.Errorf("Inspect(%q) = %q, want it to contain %q", c.code, s, c.want)
		}
	}
	if _, ok := in.Inspect("nothingHere", 3, 0); ok {
		t.Errorf("Inspect of an unknown name found something")
	}
}

func TestIsComplete(t *testing.T) {
	in := newInterp(t)
	cases := []struct{ code, status string }{
		{"x := 1", "complete"},
		{"func f() {", "incomplete"},
		{"fmt.Println(1,", "incomplete"},
		{"a := 1 +", "incomplete"},
		{"s := `raw", "incomplete"},
		{"x := )", "invalid"},
		{"for {\n}\n}", "invalid"},
		{"x := 1 1", "invalid"},
		{"%%adj\nsystem x", "complete"},
		{"", "complete"},
	}
	for _, c := range cases {
		if got, _ := in.IsComplete(c.code); got != c.status {
			t.Errorf("IsComplete(%q) = %s, want %s", c.code, got, c.status)
		}
	}
	if _, ind := in.IsComplete("func f() {\n\tif true {"); ind != "\t\t" {
		t.Errorf("indent %q, want two tabs", ind)
	}
}

type point struct{ X, Y float64 }

func TestBindValue(t *testing.T) {
	in := newInterp(t)
	if err := in.BindValue("pt", point{1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := in.BindValue("name", "dw4"); err != nil {
		t.Fatal(err)
	}
	res, _ := run(t, in, "pt.X + pt.Y")
	if res.Err != nil || text(res) != "3" {
		t.Errorf("pt.X + pt.Y = %q, %v", text(res), res.Err)
	}
	res, _ = run(t, in, "strings.ToUpper(name)")
	if res.Err != nil || text(res) != "DW4" {
		t.Errorf("bound string: %q, %v", text(res), res.Err)
	}
	if err := in.BindValue("pt", 5); err != nil {
		t.Fatal(err)
	}
	res, _ = run(t, in, "pt * 2")
	if res.Err != nil || text(res) != "10" {
		t.Errorf("rebound pt: %q, %v", text(res), res.Err)
	}
	if err := in.BindValue("not valid", 1); err == nil {
		t.Errorf("BindValue accepted an invalid name")
	}
}

func TestMagic(t *testing.T) {
	in := newInterp(t)
	in.RegisterMagic("echo", func(ctx context.Context, i *Interp, args, body string, out Output) Result {
		out.Stream("stdout", args+"|"+body)
		if err := i.BindValue("fromMagic", len(body)); err != nil {
			return errResult("BindError", err.Error())
		}
		b := display.Text("ok")
		return Result{Value: &b}
	})
	res, rec := run(t, in, "%%echo a b\nline1\nline2")
	if res.Err != nil || text(res) != "ok" {
		t.Fatalf("magic: %q, %v", text(res), res.Err)
	}
	if rec.out() != "a b|line1\nline2" {
		t.Errorf("magic got %q", rec.out())
	}
	res, _ = run(t, in, "fromMagic")
	if text(res) != "11" {
		t.Errorf("value bound by magic: %q, %v", text(res), res.Err)
	}
	res, _ = run(t, in, "%%nosuch\n")
	if res.Err == nil || res.Err.Name != "UsageError" {
		t.Errorf("unknown magic: %+v", res.Err)
	}
}

func TestLogWriterStaysOutOfCells(t *testing.T) {
	in := newInterp(t)
	in.RegisterMagic("logtest", func(ctx context.Context, i *Interp, args, body string, out Output) Result {
		LogWriter().Write([]byte("kernel log line\n"))
		os.Stdout.WriteString("cell line\n")
		return Result{}
	})
	_, rec := run(t, in, "%%logtest\n")
	if strings.Contains(rec.out()+rec.err(), "kernel log line") {
		t.Errorf("a kernel log line reached the cell: %q %q", rec.out(), rec.err())
	}
	if os.Getenv("ADJ_NOREDIRECT") == "" && !strings.Contains(rec.out(), "cell line") {
		t.Errorf("compiled code writing to os.Stdout was not captured: %q", rec.out())
	}
}

func TestClose(t *testing.T) {
	in := newInterp(t)
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	if res, _ := run(t, in, "1"); res.Err == nil || res.Err.Name != "Closed" {
		t.Errorf("Execute after Close: %+v", res.Err)
	}
}

func TestProgramCell(t *testing.T) {
	in := newInterp(t)
	res, rec := run(t, in, "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"main ran\")\n}\n")
	if res.Err != nil || rec.out() != "main ran\n" {
		t.Fatalf("program cell: %q, %v", rec.out(), res.Err)
	}
	res, rec = run(t, in, "z := 1\nz + 1")
	if res.Err != nil || text(res) != "2" || rec.out() != "" {
		t.Errorf("later cell: %q, %q, %v (main must not run again)", text(res), rec.out(), res.Err)
	}
}

func TestBoundLibraryValue(t *testing.T) {
	in := newInterp(t)
	if err := in.BindValue("tbl", &display.Table{Header: []string{"k", "v"}}); err != nil {
		t.Fatal(err)
	}
	m, _, _ := in.Complete("tbl.Add", 7)
	if !slices.Contains(m, "AddRow") {
		t.Errorf("Complete(tbl.Add) = %v, want AddRow", m)
	}
	b, ok := in.Inspect("tbl.AddRow(", 11, 0)
	if s, _ := b.Data[display.MIMEText].(string); !ok || !strings.Contains(s, "func (t *Table) AddRow") {
		t.Errorf("Inspect(tbl.AddRow) = %q, %v", s, ok)
	}
	res, _ := run(t, in, "tbl.AddRow(\"a\", 1)\ntbl")
	if res.Err != nil || res.Value == nil || res.Value.Data[display.MIMEHTML] == nil {
		t.Errorf("bound table as last expression: %+v, %v", res.Value, res.Err)
	}
}

func TestInterruptReachesLibrary(t *testing.T) {
	in := newInterp(t)
	// A stand-in for a long library call that watches the front end's cancellation.
	err := in.yi.Use(map[string]map[string]reflect.Value{"testlib/testlib": {
		"Spin": reflect.ValueOf(func() string {
			<-display.Context().Done()
			return "stopped"
		}),
	}})
	if err != nil {
		t.Fatal(err)
	}
	run(t, in, "import \"testlib\"\nkept := 5")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	t0 := time.Now()
	res := in.Execute(ctx, "testlib.Spin()", &recorder{})
	if res.Err == nil || res.Err.Name != "Interrupted" {
		t.Errorf("result %+v, want Interrupted", res.Err)
	}
	if d := time.Since(t0); d > 1500*time.Millisecond {
		t.Errorf("interrupt took %v", d)
	}
	t0 = time.Now()
	res, _ = run(t, in, "kept")
	if text(res) != "5" {
		t.Errorf("after interrupt: %q, %v", text(res), res.Err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Errorf("the next cell waited %v for a library call that had stopped", d)
	}
}

// orderRecorder records the order of streams and displays.
type orderRecorder struct {
	recorder
	events []string
}

func (o *orderRecorder) Stream(name, text string) {
	o.mu.Lock()
	o.events = append(o.events, "text:"+text)
	o.mu.Unlock()
}

func (o *orderRecorder) Display(b display.Bundle, id string, update bool) {
	o.mu.Lock()
	o.events = append(o.events, "display")
	o.mu.Unlock()
}

func TestOutputOrder(t *testing.T) {
	in := newInterp(t)
	rec := &orderRecorder{}
	res := in.Execute(context.Background(), "fmt.Println(\"before\")\ndisplay.HTML(\"<b>x</b>\")\nfmt.Println(\"after\")", rec)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	got := strings.Join(rec.events, "|")
	if got != "text:before\n|display|text:after\n" {
		t.Errorf("events %q, want text, display, text in order", got)
	}
}

func TestLateGoroutineOutput(t *testing.T) {
	in, err := New(Options{}) // late output goes to the last cell's Output
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.capt.flush(); in.capt.setOutput(nil) })
	res, rec := run(t, in, "go func() {\n\ttime.Sleep(100 * time.Millisecond)\n\tfmt.Println(\"late\")\n}()")
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if strings.Contains(rec.out(), "late") {
		t.Fatalf("the goroutine printed before its sleep ended")
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(rec.out(), "late") {
		time.Sleep(20 * time.Millisecond)
	}
	if rec.out() != "late\n" {
		t.Errorf("late output reached the last cell as %q, want \"late\\n\"", rec.out())
	}
}

func TestClosedStdioRestored(t *testing.T) {
	in := newInterp(t)
	cases := []struct{ name, cell string }{
		{"close stdout", "os.Stdout.Close()"},
		{"close stderr", "os.Stderr.Close()"},
		{"replace stdout", "f, _ := os.Open(os.DevNull)\nos.Stdout = f"},
		{"replace stderr", "os.Stderr = nil"},
	}
	for _, c := range cases {
		if res, _ := run(t, in, c.cell); res.Err != nil {
			t.Fatalf("%s: %v", c.name, res.Err)
		}
		_, rec := run(t, in, "fmt.Println(\"fmt\")\nfmt.Fprintln(os.Stdout, \"out\")\nfmt.Fprintln(os.Stderr, \"err\")")
		if os.Getenv("ADJ_NOREDIRECT") != "" {
			continue
		}
		if rec.out() != "fmt\nout\n" || !strings.Contains(rec.err(), "err\n") {
			t.Errorf("after %s: stdout %q, stderr %q", c.name, rec.out(), rec.err())
		}
	}
}

func TestWakeupPending(t *testing.T) {
	in := newInterp(t)
	if in.WakeupPending() {
		t.Fatal("a new interpreter has a pending wakeup")
	}
	if res, _ := run(t, in, "<-time.After(10 * time.Millisecond)"); res.Err != nil {
		t.Fatal(res.Err)
	}
	if in.WakeupPending() {
		t.Error("a timer that fired still counts as pending")
	}
	if res, _ := run(t, in, "tm := time.NewTimer(time.Hour)\n_ = tm"); res.Err != nil {
		t.Fatal(res.Err)
	}
	if !in.WakeupPending() {
		t.Error("time.NewTimer(time.Hour) not recorded")
	}
	if in.Busy() {
		t.Error("Busy between cells")
	}
}

package worker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"adjoint/kernel"
	"adjoint/lib/display"
)

// The tests run this test binary as the worker (TestMain serves when WORKER_TEST_CHILD is
// set) with testExec, an executor whose cells are commands.

func TestMain(m *testing.M) {
	if os.Getenv("WORKER_TEST_CHILD") == "1" {
		err := Serve(os.NewFile(3, "requests"), os.NewFile(4, "messages"), func(stdin io.Reader) (kernel.Executor, error) {
			return &testExec{stdin: bufio.NewReader(stdin)}, nil
		}, ServeOptions{DeadlockAfter: time.Hour})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type testExec struct{ stdin *bufio.Reader }

func recurse(n int) int { return recurse(n+1) + 1 }

func (e *testExec) Execute(ctx context.Context, code string, out kernel.Output) kernel.Result {
	switch code {
	case "hello":
		out.Stream("stdout", "hi\n")
		out.Display(display.HTMLBundle("<b>x</b>", "x"), "d1", false)
		b := display.Text("42")
		return kernel.Result{Value: &b}
	case "fail":
		return kernel.Result{Err: &kernel.Error{Name: "panic", Value: "boom"}}
	case "fatal":
		fmt.Fprintln(os.Stderr, "fatal error: concurrent map writes")
		os.Exit(2)
	case "overflow":
		recurse(0)
	case "fatal-later": // a goroutine that outlives the cell crashes the process
		go func() {
			time.Sleep(100 * time.Millisecond)
			fmt.Fprintln(os.Stderr, "fatal error: concurrent map writes")
			os.Exit(2)
		}()
	case "hang": // ignores the interrupt
		time.Sleep(time.Hour)
	case "wait":
		<-ctx.Done()
		return kernel.Result{Err: &kernel.Error{Name: "Interrupted", Value: "interrupted"}}
	case "input":
		line, err := e.stdin.ReadString('\n')
		if err != nil {
			return kernel.Result{Err: &kernel.Error{Name: "EOF", Value: err.Error()}}
		}
		b := display.Text(strings.TrimSpace(line))
		return kernel.Result{Value: &b}
	}
	return kernel.Result{}
}

func (e *testExec) Complete(code string, cursor int) ([]string, int, int) {
	return []string{code + "!"}, 0, cursor
}
func (e *testExec) Inspect(code string, cursor, detail int) (display.Bundle, bool) {
	return display.Text("doc of " + code), true
}
func (e *testExec) IsComplete(code string) (string, string) { return "incomplete", "  " }
func (e *testExec) Close() error                            { return nil }

// recorder is a kernel.Output that keeps what it gets.
type recorder struct {
	mu       sync.Mutex
	stdout   strings.Builder
	stderr   strings.Builder
	displays []string
}

func (r *recorder) Stream(name, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if name == "stderr" {
		r.stderr.WriteString(text)
		return
	}
	r.stdout.WriteString(text)
}

func (r *recorder) errText() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stderr.String()
}

func (r *recorder) Display(b display.Bundle, id string, update bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.displays = append(r.displays, fmt.Sprint(id, " ", b.Data[display.MIMEHTML]))
}

func (r *recorder) Clear(bool) {}

func newTestClient(t *testing.T, opts Options) *Client {
	t.Helper()
	opts.Command = func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "WORKER_TEST_CHILD=1")
		return cmd
	}
	if opts.Log == nil {
		opts.Log = &logBuffer{}
	}
	c := NewClient(opts)
	c.Start()
	t.Cleanup(func() { c.Close() })
	return c
}

type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func run(c *Client, code string) (kernel.Result, *recorder) {
	rec := &recorder{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.Execute(ctx, code, rec), rec
}

func TestExecuteAndQueries(t *testing.T) {
	c := newTestClient(t, Options{})
	res, rec := run(c, "hello")
	if res.Err != nil || res.Value == nil || res.Value.Data[display.MIMEText] != "42" {
		t.Fatalf("hello: %+v", res)
	}
	if rec.stdout.String() != "hi\n" || len(rec.displays) != 1 || rec.displays[0] != "d1 <b>x</b>" {
		t.Errorf("output: %q %v", rec.stdout.String(), rec.displays)
	}
	if res, _ := run(c, "fail"); res.Err == nil || res.Err.Name != "panic" || res.Err.Value != "boom" {
		t.Errorf("fail: %+v", res.Err)
	}
	if m, s, e := c.Complete("fmt.Pr", 6); len(m) != 1 || m[0] != "fmt.Pr!" || s != 0 || e != 6 {
		t.Errorf("complete: %v %d %d", m, s, e)
	}
	if b, ok := c.Inspect("x", 1, 0); !ok || b.Data[display.MIMEText] != "doc of x" {
		t.Errorf("inspect: %v %v", b, ok)
	}
	if st, ind := c.IsComplete("for {"); st != "incomplete" || ind != "  " {
		t.Errorf("is_complete: %q %q", st, ind)
	}
}

func TestWorkerDeathIsReportedAndRestarted(t *testing.T) {
	log := &logBuffer{}
	c := newTestClient(t, Options{Log: log, LogName: "the test log"})
	cases := []struct{ cell, ename, evalue string }{
		{"overflow", "StackOverflow", "stack overflow"},
		{"fatal", "ConcurrentMapAccess", "concurrent map writes"},
	}
	for _, tc := range cases {
		res, _ := run(c, tc.cell)
		if res.Err == nil || res.Err.Name != tc.ename || !strings.Contains(res.Err.Value, tc.evalue) ||
			!strings.Contains(res.Err.Value, "state") {
			t.Errorf("%s: %+v\nlog:\n%.3000s", tc.cell, res.Err, log.String())
			continue
		}
		if tb := strings.Join(res.Err.Traceback, "\n"); !strings.Contains(tb, "the test log") {
			t.Errorf("%s: traceback does not point at the log: %q", tc.cell, tb)
		}
		if res, _ := run(c, "hello"); res.Err != nil || res.Value == nil {
			t.Errorf("after %s: %+v", tc.cell, res)
		}
	}
	if !strings.Contains(log.String(), "fatal error: stack overflow") {
		t.Errorf("the crash report did not reach the log")
	}
}

func TestInterrupt(t *testing.T) {
	c := newTestClient(t, Options{InterruptGrace: 300 * time.Millisecond})
	for _, tc := range []struct{ cell, ename string }{{"wait", "Interrupted"}, {"hang", "Restarted"}} {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel)
		res := c.Execute(ctx, tc.cell, &recorder{})
		if res.Err == nil || res.Err.Name != tc.ename {
			t.Errorf("%s: %+v", tc.cell, res.Err)
		}
		if res, _ := run(c, "hello"); res.Err != nil {
			t.Errorf("after %s: %+v", tc.cell, res.Err)
		}
	}
}

func TestInput(t *testing.T) {
	asked := make(chan string, 1)
	c := newTestClient(t, Options{Input: func(prompt string, password bool) (string, error) {
		asked <- prompt
		return "bob", nil
	}})
	if res, _ := run(c, "input"); res.Err != nil || res.Value.Data[display.MIMEText] != "bob" {
		t.Fatalf("input: %+v", res)
	}
	<-asked
	refusing := newTestClient(t, Options{Input: func(string, bool) (string, error) { return "", errors.New("no stdin") }})
	if res, _ := run(refusing, "input"); res.Err == nil || res.Err.Name != "EOF" {
		t.Fatalf("refused input: %+v", res)
	}
}

func TestCloseEndsWorker(t *testing.T) {
	c := newTestClient(t, Options{})
	if res, _ := run(c, "hello"); res.Err != nil {
		t.Fatal(res.Err)
	}
	c.mu.Lock()
	p := c.cur
	c.mu.Unlock()
	go c.Execute(context.Background(), "hang", &recorder{})
	time.Sleep(100 * time.Millisecond)
	c.Close()
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker outlived Close")
	}
	if res, _ := run(c, "hello"); res.Err == nil || res.Err.Name != "KernelError" {
		t.Errorf("Execute after Close: %+v", res)
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		lines []string
		note  string
		want  string
	}{
		{[]string{"runtime: goroutine stack exceeds 67108864-byte limit", "fatal error: stack overflow"}, "", "StackOverflow"},
		{[]string{"fatal error: runtime: out of memory"}, "", "OutOfMemory"},
		{[]string{"fatal error: concurrent map read and map write"}, "", "ConcurrentMapAccess"},
		{[]string{"fatal error: all goroutines are asleep - deadlock!"}, "", "Deadlock"},
		{[]string{"panic: boom", "", "goroutine 7 [running]:"}, "", "Panic"},
		{[]string{"fatal error: unexpected signal"}, "", "FatalError"},
		{nil, "the cell did not stop", "Restarted"},
		{nil, "", "WorkerExited"},
	}
	for _, c := range cases {
		r := newCrashReport(&logBuffer{})
		for _, l := range c.lines {
			r.note(l + "\n")
		}
		if name, _ := r.classify(c.note, nil); name != c.want {
			t.Errorf("%v: %s, want %s", c.lines, name, c.want)
		}
	}
}

func TestDeathBetweenCells(t *testing.T) {
	c := newTestClient(t, Options{})
	res, rec := run(c, "fatal-later")
	if res.Err != nil {
		t.Fatalf("fatal-later: %+v", res.Err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(rec.errText(), "died after this cell ended") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := rec.errText(); !strings.Contains(got, "ConcurrentMapAccess") || !strings.Contains(got, "state") {
		t.Errorf("the last cell was not told of the death: %q", got)
	}
	if res, _ := run(c, "hello"); res.Err != nil {
		t.Errorf("after the death: %+v", res.Err)
	}
}

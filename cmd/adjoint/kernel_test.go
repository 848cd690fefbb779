package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"adjoint/kernel"
	"adjoint/lib/display"
)

type stubExec struct{ closed bool }

func (s *stubExec) Execute(ctx context.Context, code string, out kernel.Output) kernel.Result {
	b := display.Text("ran " + code)
	return kernel.Result{Value: &b}
}
func (s *stubExec) Complete(code string, cursor int) ([]string, int, int) {
	return []string{"x"}, 0, cursor
}
func (s *stubExec) Inspect(string, int, int) (display.Bundle, bool) { return display.Text("doc"), true }
func (s *stubExec) IsComplete(string) (string, string)              { return "complete", "" }
func (s *stubExec) Close() error                                    { s.closed = true; return nil }

func TestLazyExecutor(t *testing.T) {
	release := make(chan struct{})
	inner := &stubExec{}
	l := startExecutor(func() (kernel.Executor, error) { <-release; return inner, nil })
	done := make(chan kernel.Result)
	go func() { done <- l.Execute(context.Background(), "1", nil) }()
	select {
	case <-done:
		t.Fatal("Execute returned before the interpreter was ready")
	default:
	}
	close(release)
	if r := <-done; r.Value == nil || r.Value.Data[display.MIMEText] != "ran 1" {
		t.Fatalf("Execute: %+v", r)
	}
	if m, _, _ := l.Complete("ab", 2); len(m) != 1 {
		t.Fatalf("Complete: %v", m)
	}
	if _, ok := l.Inspect("x", 0, 0); !ok {
		t.Fatal("Inspect not forwarded")
	}
	if l.Close(); !inner.closed {
		t.Fatal("Close not forwarded")
	}

	failed := startExecutor(func() (kernel.Executor, error) { return nil, errors.New("no symbols") })
	r := failed.Execute(context.Background(), "1", nil)
	if r.Err == nil || r.Err.Name != "KernelError" || !strings.Contains(r.Err.Value, "no symbols") {
		t.Fatalf("failed start: %+v", r.Err)
	}
	if m, s, e := failed.Complete("abc", 3); m != nil || s != 3 || e != 3 {
		t.Fatalf("Complete after failed start: %v %d %d", m, s, e)
	}
	if st, _ := failed.IsComplete("x"); st != "unknown" {
		t.Fatalf("IsComplete after failed start: %s", st)
	}
}

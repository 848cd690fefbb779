package main

import (
	"adjoint/kernel"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"adjoint/lib/display"
)

// scriptExec is a fake executor: each line of a cell is a command ("out TEXT", "err TEXT",
// "show ID TEXT", "update ID TEXT", "value TEXT", "fail"); it records the cells it ran.
type scriptExec struct{ ran []string }

func (e *scriptExec) Execute(ctx context.Context, code string, out kernel.Output) kernel.Result {
	e.ran = append(e.ran, code)
	var res kernel.Result
	for _, line := range strings.Split(code, "\n") {
		f := strings.SplitN(line, " ", 3)
		switch f[0] {
		case "out":
			out.Stream("stdout", f[1]+"\n")
		case "err":
			out.Stream("stderr", f[1]+"\n")
		case "show", "update":
			out.Display(display.Text(f[2]), f[1], f[0] == "update")
		case "value":
			b := display.Text(f[1])
			res.Value = &b
		case "progress": // what a library call reports through the current sink's view
			ps, ok := out.(display.ProgressSink)
			if !ok {
				out.Stream("stdout", "no progress view\n")
				continue
			}
			r := ps.NewReporter(f[1])
			r.Report(display.Progress{Epoch: 1, Epochs: 4, Loss: 0.5})
			r.Finish(display.Progress{Epoch: 4, Epochs: 4, Loss: 0.25})
		case "fail":
			return kernel.Result{Err: &kernel.Error{Name: "panic", Value: "boom", Traceback: []string{"panic: boom", "at cell"}}}
		}
	}
	return res
}

func (e *scriptExec) Complete(string, int) ([]string, int, int)       { return nil, 0, 0 }
func (e *scriptExec) Inspect(string, int, int) (display.Bundle, bool) { return display.Bundle{}, false }
func (e *scriptExec) IsComplete(string) (string, string)              { return "complete", "" }
func (e *scriptExec) Close() error                                    { return nil }

const testNotebook = `{
 "cells": [
  {"cell_type": "markdown", "metadata": {"x-custom": 1}, "source": ["# Title\n"]},
  {"cell_type": "code", "execution_count": null, "metadata": {"tags": ["parameters"]}, "outputs": [],
   "source": ["n := 3 // steps\n", "name = \"dw4\"\n"]},
  {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [{"output_type": "stream", "name": "stdout", "text": "stale"}],
   "source": "out a\nout b\nerr c\nshow p 10%\nvalue 42"},
  {"cell_type": "raw", "metadata": {}, "source": "raw text"},
  {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": "update p 100%"},
  CELL4
 ],
 "metadata": {"kernelspec": {"name": "adjoint"}, "unknown": {"k": [1.50, 2]}},
 "nbformat": 4,
 "nbformat_minor": 5
}`

func runTestNotebook(t *testing.T, last string, params []string) (map[string]any, *scriptExec, string, error) {
	t.Helper()
	src := strings.Replace(testNotebook, "CELL4", last, 1)
	e := &scriptExec{}
	var stdout, stderr bytes.Buffer
	nb, err := runNotebook(context.Background(), []byte(src), e, params, &stdout, &stderr)
	if nb != nil {
		// Round trip through JSON, as the file would.
		b, _ := json.Marshal(nb)
		nb = nil
		if jerr := json.Unmarshal(b, &nb); jerr != nil {
			t.Fatal(jerr)
		}
	}
	return nb, e, stdout.String() + "|" + stderr.String(), err
}

func outputs(nb map[string]any, i int) []any {
	return nb["cells"].([]any)[i].(map[string]any)["outputs"].([]any)
}

func TestRunNotebook(t *testing.T) {
	nb, e, term, err := runTestNotebook(t, `{"cell_type": "code", "metadata": {}, "outputs": [], "source": "out done"}`,
		[]string{"n=10", `name="lj13"`})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.ran) != 4 || e.ran[0] != "n := 10 // steps\nname = \"lj13\"\n" {
		t.Fatalf("cells ran: %q", e.ran)
	}
	if term != "a\nb\ndone\n|c\n" {
		t.Fatalf("terminal echo %q", term)
	}
	got, _ := json.Marshal(outputs(nb, 2))
	want := `[{"name":"stdout","output_type":"stream","text":"a\nb\n"},{"name":"stderr","output_type":"stream","text":"c\n"},` +
		`{"data":{"text/plain":"100%"},"metadata":{},"output_type":"display_data"},` +
		`{"data":{"text/plain":"42"},"execution_count":2,"metadata":{},"output_type":"execute_result"}]`
	if string(got) != want {
		t.Fatalf("outputs of cell 2:\n got %s\nwant %s", got, want)
	}
	if len(outputs(nb, 4)) != 0 {
		t.Fatalf("update cell has outputs %v", outputs(nb, 4))
	}
	cells := nb["cells"].([]any)
	if md := cells[0].(map[string]any)["metadata"].(map[string]any); md["x-custom"] != 1.0 {
		t.Fatalf("markdown metadata lost: %v", md)
	}
	if cells[3].(map[string]any)["source"] != "raw text" || cells[4].(map[string]any)["execution_count"] != 3.0 {
		t.Fatalf("cells changed: %v", cells[3:5])
	}
	if u := nb["metadata"].(map[string]any)["unknown"]; u == nil {
		t.Fatal("notebook metadata lost")
	}
}

// TestRunNotebookProgress: progress of a cell goes into the notebook (one updated display) and
// onto the terminal's stderr as plain lines when stderr is not a terminal.
func TestRunNotebookProgress(t *testing.T) {
	nb, _, term, err := runTestNotebook(t, `{"cell_type": "code", "metadata": {}, "outputs": [], "source": "progress train w"}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, stderr, _ := strings.Cut(term, "|")
	if !strings.Contains(stderr, "epoch 4/4") || strings.Contains(stderr, "\r") {
		t.Fatalf("stderr does not show the progress as lines:\n%q", stderr)
	}
	outs := outputs(nb, 5)
	if len(outs) != 1 || !strings.Contains(fmt.Sprint(outs[0]), "epoch 4/4") {
		t.Fatalf("notebook progress outputs: %v", outs)
	}
}

func TestRunNotebookStopsAtError(t *testing.T) {
	nb, e, term, err := runTestNotebook(t, `{"cell_type": "code", "metadata": {}, "outputs": [], "source": "fail"},
  {"cell_type": "code", "metadata": {}, "outputs": [], "source": "out never"}`, nil)
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("error %v", err)
	}
	if len(e.ran) != 4 || !strings.Contains(term, "panic: boom") {
		t.Fatalf("ran %d cells, terminal %q", len(e.ran), term)
	}
	errOut := outputs(nb, 5)[0].(map[string]any)
	if errOut["output_type"] != "error" || errOut["ename"] != "panic" || len(errOut["traceback"].([]any)) != 2 {
		t.Fatalf("error output %v", errOut)
	}
	if c := nb["cells"].([]any)[6].(map[string]any); c["execution_count"] != nil {
		t.Fatalf("cell after the failure ran: %v", c)
	}
}

func TestApplyParams(t *testing.T) {
	for _, c := range []struct {
		src, param, want string
	}{
		{"a := 1\nb = 2\n", "b=3", "a := 1\nb = 3\n"},
		{"var steps = 100 // training steps\n", "steps=5", "var steps = 5 // training steps\n"},
		{"var lr float64 = 0.1\n", "lr=0.5", "var lr float64 = 0.5\n"},
		{"ab := 1\na := 2\n", "a=7", "ab := 1\na := 7\n"},
		{"x := 1\n", "y=2", ""},
		{"x := 1\n", "bad name=2", ""},
	} {
		cells := []any{map[string]any{"cell_type": "code", "metadata": map[string]any{"tags": []any{"parameters"}}, "source": c.src}}
		err := applyParams(cells, []string{c.param})
		got := cells[0].(map[string]any)["source"]
		if c.want == "" {
			if err == nil {
				t.Errorf("%q %q: accepted, gave %q", c.src, c.param, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q %q: got %q, %v; want %q", c.src, c.param, got, err, c.want)
		}
	}
	if err := applyParams([]any{map[string]any{"cell_type": "code", "source": "x := 1"}}, []string{"x=2"}); err == nil {
		t.Error("no parameters cell: accepted")
	}
}

// TestRunNotebookRejectsMalformed: a notebook whose structure is wrong is rejected before any
// cell runs, with the index of the offending cell.
func TestRunNotebookRejectsMalformed(t *testing.T) {
	good := `{"cell_type": "code", "metadata": {}, "outputs": [], "source": "out a"}`
	for _, c := range []struct {
		name, nb, want string
	}{
		{"source number", `{"nbformat": 4, "cells": [` + good + `, {"cell_type": "code", "metadata": {}, "source": 3}]}`,
			"cell 2: source is a number, not a string or a list of strings"},
		{"source missing", `{"nbformat": 4, "cells": [{"cell_type": "markdown", "metadata": {}}]}`,
			"cell 1: source is missing or null"},
		{"source object", `{"nbformat": 4, "cells": [` + good + `, ` + good + `, {"cell_type": "raw", "source": {"a": 1}}]}`,
			"cell 3: source is an object"},
		{"source line not a string", `{"nbformat": 4, "cells": [{"cell_type": "code", "source": ["a\n", 7]}]}`,
			"cell 1: source line 2 is a number, not a string"},
		{"cell not an object", `{"nbformat": 4, "cells": [` + good + `, "text"]}`, "cell 2 is a string, not an object"},
		{"cell_type missing", `{"nbformat": 4, "cells": [{"source": "x"}]}`, "cell 1: cell_type is missing or null, not a string"},
		{"nbformat 3", `{"nbformat": 3, "cells": [` + good + `]}`, "nbformat 3 is not supported (want 4)"},
		{"nbformat 5", `{"nbformat": 5, "nbformat_minor": 0, "cells": [` + good + `]}`, "nbformat 5 is not supported"},
		{"nbformat string", `{"nbformat": "4", "cells": [` + good + `]}`, "nbformat is a string, not a version number"},
		{"nbformat missing", `{"cells": [` + good + `]}`, "nbformat is missing or null"},
		{"no cells", `{"nbformat": 4}`, "no cells"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := &scriptExec{}
			var stdout, stderr bytes.Buffer
			nb, err := runNotebook(context.Background(), []byte(c.nb), e, nil, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to mention %q", err, c.want)
			}
			if nb != nil || len(e.ran) != 0 {
				t.Fatalf("malformed notebook ran %d cells", len(e.ran))
			}
		})
	}
}

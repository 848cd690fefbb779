package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"

	"adjoint/internal/atomicfile"
	"adjoint/kernel"
	"adjoint/lib/display"
)

func init() {
	register("run", "run a notebook (.ipynb), a Go script (.go) or a DSL script (.adj)", runRun)
}

const runSynopsis = `FILE [-o OUT] [--param NAME=VALUE ...]

Runs FILE according to its extension:
  .ipynb  executes the code cells in order and writes their outputs into the notebook
          (in place, or to OUT); stops at the first failing cell, writes what ran and
          exits non-zero. Streams are echoed to the terminal as they come.
  .go     runs a Go script with the library pre-imported; with package main and func main,
          main is called.
  .adj    runs a DSL script.

--param NAME=VALUE (notebooks, repeatable) replaces the assignment to NAME
("NAME = ...", "NAME := ..." or "var NAME = ...") in the first code cell tagged
"parameters" with VALUE, which is Go source: quote strings, e.g. --param 'name="lj13"'.
`

// paramFlags collects repeated --param NAME=VALUE flags.
type paramFlags []string

func (p *paramFlags) String() string     { return strings.Join(*p, ",") }
func (p *paramFlags) Set(v string) error { *p = append(*p, v); return nil }

func runRun(args []string) error {
	fs := newFlagSet("run", runSynopsis)
	out := fs.String("o", "", "write the executed notebook to `OUT` instead of in place")
	var params paramFlags
	fs.Var(&params, "param", "notebook parameter `NAME=VALUE` (repeatable)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: want one FILE, got %d arguments\nUsage: adjoint run %s", errUsage, len(pos), runSynopsis)
	}
	file := pos[0]
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	switch ext := strings.ToLower(filepath.Ext(file)); ext {
	case ".ipynb":
		return runNotebookFile(ctx, file, *out, params)
	case ".go":
		if len(params) > 0 || *out != "" {
			return fmt.Errorf("%w: -o and --param apply to notebooks only", errUsage)
		}
		return runGoScript(ctx, file, os.Stdout, os.Stderr)
	case ".adj":
		return runAdj(file, os.Stdout, os.Stderr)
	default:
		return fmt.Errorf("%w: %s: unknown file type %q (want .ipynb, .go or .adj)", errUsage, file, ext)
	}
}

// terminalOutput writes a script's streams to the terminal and displays as their text form.
type terminalOutput struct {
	mu             sync.Mutex
	stdout, stderr io.Writer
}

func (o *terminalOutput) Stream(name, text string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if name == "stderr" {
		io.WriteString(o.stderr, text)
	} else {
		io.WriteString(o.stdout, text)
	}
}

func (o *terminalOutput) Display(b display.Bundle, id string, update bool) {
	if s, ok := b.Data[display.MIMEText].(string); ok {
		o.Stream("stdout", strings.TrimSuffix(s, "\n")+"\n")
	}
}

func (o *terminalOutput) Clear(wait bool) {}

// NewReporter draws progress on stderr: a bar on a terminal, periodic lines otherwise.
func (o *terminalOutput) NewReporter(task string) display.Reporter {
	return terminalProgress(o.stderr).NewReporter(task)
}

// runGoScript runs a whole Go file as one cell (main, if declared, runs at its end).
func runGoScript(ctx context.Context, file string, stdout, stderr io.Writer) error {
	src, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read script: %w", err)
	}
	stdout, stderr, err = originalStdio(stdout, stderr)
	if err != nil {
		return err
	}
	exec, err := newExecutor("")
	if err != nil {
		return fmt.Errorf("start interpreter: %w", err)
	}
	defer exec.Close()
	// The interpreter runs a whole program (package clause, imports, func main) as one cell.
	res := exec.Execute(ctx, string(src), &terminalOutput{stdout: stdout, stderr: stderr})
	if res.Err != nil {
		return fmt.Errorf("%s: %w", file, res.Err)
	}
	return nil
}

// notebookOutput collects a running cell's outputs in nbformat 4 form; streams are also
// echoed to the terminal. Displays with an id can be updated later, in any cell.
type notebookOutput struct {
	mu             sync.Mutex
	stdout, stderr io.Writer
	cell           map[string]any
	outputs        []any
	clearPending   bool
	byID           map[string][]map[string]any // display_id → outputs showing it
}

func (o *notebookOutput) startCell(cell map[string]any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cell, o.outputs, o.clearPending = cell, []any{}, false
	cell["outputs"] = o.outputs
}

// add appends an output to the current cell (under the lock).
func (o *notebookOutput) add(out map[string]any) {
	if o.clearPending {
		o.outputs, o.clearPending = []any{}, false
	}
	o.outputs = append(o.outputs, out)
	o.cell["outputs"] = o.outputs
}

func (o *notebookOutput) Stream(name, text string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if name == "stderr" {
		io.WriteString(o.stderr, text)
	} else {
		io.WriteString(o.stdout, text)
	}
	if n := len(o.outputs); n > 0 && !o.clearPending {
		if last, ok := o.outputs[n-1].(map[string]any); ok && last["output_type"] == "stream" && last["name"] == name {
			last["text"] = last["text"].(string) + text
			return
		}
	}
	o.add(map[string]any{"output_type": "stream", "name": name, "text": text})
}

func bundleFields(b display.Bundle) (map[string]any, map[string]any) {
	data, md := b.Data, b.Metadata
	if data == nil {
		data = map[string]any{}
	}
	if md == nil {
		md = map[string]any{}
	}
	return data, md
}

func (o *notebookOutput) Display(b display.Bundle, id string, update bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	data, md := bundleFields(b)
	if update && id != "" {
		for _, out := range o.byID[id] {
			out["data"], out["metadata"] = data, md
		}
		return
	}
	out := map[string]any{"output_type": "display_data", "data": data, "metadata": md}
	if id != "" {
		o.byID[id] = append(o.byID[id], out)
	}
	o.add(out)
}

// NewReporter shows progress both in the notebook (the view Jupyter shows) and on the
// terminal's stderr (a bar on a terminal, periodic lines otherwise).
func (o *notebookOutput) NewReporter(task string) display.Reporter {
	return teeReporter{display.NewNotebookReporter(o, task), terminalProgress(o.stderr).NewReporter(task)}
}

func (o *notebookOutput) Clear(wait bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if wait {
		o.clearPending = true
		return
	}
	o.outputs = []any{}
	o.cell["outputs"] = o.outputs
}

func (o *notebookOutput) result(count int, res kernel.Result) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if res.Err != nil {
		tb := res.Err.Traceback
		if tb == nil {
			tb = []string{res.Err.Name + ": " + res.Err.Value}
		}
		o.add(map[string]any{"output_type": "error", "ename": res.Err.Name, "evalue": res.Err.Value, "traceback": tb})
		return
	}
	if res.Value != nil {
		data, md := bundleFields(*res.Value)
		o.add(map[string]any{"output_type": "execute_result", "execution_count": count, "data": data, "metadata": md})
	}
}

// checkNotebook checks the structure that runNotebook relies on, before any cell runs:
// nbformat major version 4, a list of cells, each an object with a string cell_type and a
// source that is a string or a list of strings. Errors name the cell by its 1-based index.
func checkNotebook(nb map[string]any) ([]any, error) {
	v, ok := nb["nbformat"].(json.Number)
	if !ok {
		return nil, fmt.Errorf("notebook: nbformat is %s, not a version number (want 4)", jsonKind(nb["nbformat"]))
	}
	if v.String() != "4" {
		return nil, fmt.Errorf("notebook: nbformat %s is not supported (want 4)", v)
	}
	cells, ok := nb["cells"].([]any)
	if !ok {
		return nil, errors.New("notebook: no cells")
	}
	for i, c := range cells {
		cell, ok := c.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("notebook: cell %d is %s, not an object", i+1, jsonKind(c))
		}
		if _, ok := cell["cell_type"].(string); !ok {
			return nil, fmt.Errorf("notebook: cell %d: cell_type is %s, not a string", i+1, jsonKind(cell["cell_type"]))
		}
		switch s := cell["source"].(type) {
		case string:
		case []any:
			for j, l := range s {
				if _, ok := l.(string); !ok {
					return nil, fmt.Errorf("notebook: cell %d: source line %d is %s, not a string", i+1, j+1, jsonKind(l))
				}
			}
		default:
			return nil, fmt.Errorf("notebook: cell %d: source is %s, not a string or a list of strings", i+1, jsonKind(cell["source"]))
		}
	}
	return cells, nil
}

// jsonKind names the JSON type of a decoded value, for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "missing or null"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("a %T", v)
}

// cellSource returns a cell's source, which nbformat stores as a string or a list of lines.
func cellSource(cell map[string]any) string {
	switch s := cell["source"].(type) {
	case string:
		return s
	case []any:
		var b strings.Builder
		for _, l := range s {
			if ls, ok := l.(string); ok {
				b.WriteString(ls)
			}
		}
		return b.String()
	}
	return ""
}

// applyParams rewrites assignments in the first code cell tagged "parameters".
func applyParams(cells []any, params []string) error {
	if len(params) == 0 {
		return nil
	}
	var pcell map[string]any
	for _, c := range cells {
		cell, ok := c.(map[string]any)
		if !ok || cell["cell_type"] != "code" {
			continue
		}
		md, _ := cell["metadata"].(map[string]any)
		tags, _ := md["tags"].([]any)
		for _, t := range tags {
			if t == "parameters" {
				pcell = cell
				break
			}
		}
		if pcell != nil {
			break
		}
	}
	if pcell == nil {
		return errors.New("--param given but no code cell is tagged \"parameters\"")
	}
	src := cellSource(pcell)
	for _, p := range params {
		name, value, ok := strings.Cut(p, "=")
		name = strings.TrimSpace(name)
		if !ok || !regexp.MustCompile(`^[\pL_][\pL\pN_]*$`).MatchString(name) {
			return fmt.Errorf("--param %q: want NAME=VALUE", p)
		}
		re := regexp.MustCompile(`(?m)^([ \t]*(?:var[ \t]+)?` + regexp.QuoteMeta(name) + `\b[^=:\n]*?)(:=|=)([^=].*)$`)
		loc := re.FindStringSubmatchIndex(src)
		if loc == nil {
			return fmt.Errorf("--param %s: no assignment to %s in the parameters cell", p, name)
		}
		// Keep a trailing line comment, if any.
		rest := src[loc[6]:loc[7]]
		comment := ""
		if i := strings.Index(rest, "//"); i >= 0 && !strings.ContainsAny(rest[:i], "\"`") {
			comment = " " + rest[i:]
		}
		src = src[:loc[0]] + src[loc[2]:loc[3]] + src[loc[4]:loc[5]] + " " + value + comment + src[loc[1]:]
	}
	pcell["source"] = src
	return nil
}

// runNotebookFile executes a notebook and writes it to out (or in place).
func runNotebookFile(ctx context.Context, file, out string, params []string) error {
	if out == "" {
		out = file
	}
	if err := checkOutputs("notebook output", out); err != nil {
		return err
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read notebook: %w", err)
	}
	if out, err = filepath.Abs(out); err != nil {
		return fmt.Errorf("output path: %w", err)
	}
	stdout, stderr, err := originalStdio(os.Stdout, os.Stderr)
	if err != nil {
		return err
	}
	// Cells run in the working directory of the run, so relative paths mean what they mean to
	// every other command (Jupyter starts its kernels in the notebook's folder).
	exec, err := newExecutor("")
	if err != nil {
		return fmt.Errorf("start interpreter: %w", err)
	}
	defer exec.Close()
	nb, runErr := runNotebook(ctx, raw, exec, params, stdout, stderr)
	if nb != nil {
		b, err := json.MarshalIndent(nb, "", " ")
		if err != nil {
			return fmt.Errorf("encode notebook: %w", err)
		}
		if err := atomicfile.WriteFile(out, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write notebook: %w", err)
		}
	}
	return runErr
}

// runNotebook executes the code cells of a notebook (nbformat 4 JSON) in order and returns
// the notebook with outputs; on a failing cell it stops and returns the notebook so far and
// the cell's error. Fields it does not know are kept as they are.
func runNotebook(ctx context.Context, raw []byte, exec kernel.Executor, params []string, stdout, stderr io.Writer) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var nb map[string]any
	if err := dec.Decode(&nb); err != nil {
		return nil, fmt.Errorf("parse notebook: %w", err)
	}
	cells, err := checkNotebook(nb)
	if err != nil {
		return nil, err
	}
	if err := applyParams(cells, params); err != nil {
		return nil, err
	}
	o := &notebookOutput{stdout: stdout, stderr: stderr, byID: map[string][]map[string]any{}}
	count := 0
	for i, c := range cells {
		cell, ok := c.(map[string]any)
		if !ok || cell["cell_type"] != "code" {
			continue
		}
		count++
		o.startCell(cell)
		cell["execution_count"] = count
		res := exec.Execute(ctx, cellSource(cell), o)
		o.result(count, res)
		if res.Err != nil {
			fmt.Fprintf(stderr, "cell %d (code cell %d) failed:\n%s\n", i+1, count, res.Err.Error())
			return nb, fmt.Errorf("cell %d: %s: %s", i+1, res.Err.Name, res.Err.Value)
		}
		if ctx.Err() != nil {
			return nb, fmt.Errorf("cell %d: %w", i+1, ctx.Err())
		}
	}
	return nb, nil
}

// originalStdio returns writers to the terminal that stay valid after the interpreter
// redirects descriptors 1 and 2 into its capture pipes: duplicates of the descriptors when w
// is os.Stdout or os.Stderr, w itself otherwise.
func originalStdio(stdout, stderr io.Writer) (io.Writer, io.Writer, error) {
	dup := func(w io.Writer) (io.Writer, error) {
		f, ok := w.(*os.File)
		if !ok || (f != os.Stdout && f != os.Stderr) {
			return w, nil
		}
		fd, err := syscall.Dup(int(f.Fd()))
		if err != nil {
			return nil, fmt.Errorf("duplicate %s: %w", f.Name(), err)
		}
		return os.NewFile(uintptr(fd), f.Name()), nil
	}
	o, err := dup(stdout)
	if err != nil {
		return nil, nil, err
	}
	e, err := dup(stderr)
	if err != nil {
		return nil, nil, err
	}
	return o, e, nil
}

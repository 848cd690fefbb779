package interp

import (
	"context"
	"errors"
	"fmt"
	"go/scanner"
	"image"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"adjoint/kernel/symbols"
	"adjoint/lib/display"

	yaegi "github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
)

// Options configure an interpreter. The zero value works.
type Options struct {
	// Magics are cell magics (`%%name`) added to the built-in ones (%%adj), or replacing them.
	Magics map[string]Magic
	// NoRedirect leaves file descriptors 1 and 2 alone. Output of interpreted fmt and log calls
	// is still captured, but compiled code writing to os.Stdout/os.Stderr is not.
	NoRedirect bool
	// KeepFD2 redirects only descriptor 1 and leaves descriptor 2 to the Go runtime's crash
	// reports (which must reach a reader in another process: a fatal error stops every
	// goroutine of this one); the os.Stderr variable is pointed at the capture instead, so
	// compiled code writing to it is still captured. For worker processes.
	KeepFD2 bool
	// Stdin is the interpreter's standard input (default: an empty reader).
	Stdin io.Reader
	// LateOutputToLog sends what is written between cells (by goroutines that outlived their
	// cell) to the process's original stdout/stderr. By default it goes to the Output of the
	// last cell, as Jupyter front ends expect.
	LateOutputToLog bool
}

// Interp evaluates notebook cells. Variables, functions and types declared by a cell stay
// visible to later cells. Cells run one at a time: Execute calls are serialised process-wide
// (the streams and the display sink are process-wide too).
type Interp struct {
	opts   Options
	yi     *yaegi.Interpreter
	capt   *capture
	errw   *stderrFilter
	sem    chan struct{} // held while yaegi compiles or runs code (also by interrupted leftovers)
	napper *yaegi.Program

	resMu  sync.Mutex
	result *display.Bundle

	bindN  int
	closed bool

	stopper *stopper      // direct access to yaegi's cancellation (nil: use the napper)
	reclaim *reclaimer    // frees what yaegi keeps of finished evaluations (nil: nothing)
	napDone chan struct{} // closed when the program run by stopByNap has slept

	namesMu   sync.Mutex
	imports   map[string]string      // package name → import path, as cells see them
	names     map[string]bool        // top-level names declared by cells
	decls     map[string]symbols.Doc // declarations of cells' funcs, methods (T.M) and types
	methodSrc map[string]string      // first source of each method T.M

	stdio cellStdio // os.Stdout and os.Stderr as cells see them
	wake  wakeups   // timers that cells set

	magicMu sync.RWMutex
	magics  map[string]Magic // cell magics by name; each holds its own state (a DSL session)
}

// cellMu serialises cells of all interpreters: streams and the display sink are process-wide.
var cellMu sync.Mutex

// preImports are imported into every interpreter, so that cells need no import lines.
var preImports = []string{"fmt", "math", "os", "strings", "time"}

// New returns an interpreter with the standard library, the display package and the library
// packages that have symbol tables pre-imported.
func New(opts Options) (*Interp, error) {
	c, err := getCapture(opts.NoRedirect, opts.KeepFD2)
	if err != nil {
		return nil, err
	}
	in := opts.Stdin
	if in == nil {
		in = strings.NewReader("")
	}
	i := &Interp{opts: opts, capt: c, sem: make(chan struct{}, 1), imports: map[string]string{}, names: map[string]bool{}, decls: map[string]symbols.Doc{}, methodSrc: map[string]string{},
		magics: map[string]Magic{"adj": newAdjMagic()}}
	for name, m := range opts.Magics {
		i.magics[name] = m
	}
	i.errw = &stderrFilter{w: c.err.w}
	if err := i.stdio.restore(c); err != nil {
		return nil, err
	}
	i.yi = yaegi.New(yaegi.Options{
		Stdin:        in,
		Stdout:       c.out.w,
		Stderr:       i.errw,
		Env:          os.Environ(),
		Unrestricted: true,
	})
	if err := i.yi.Use(stdlib.Symbols); err != nil {
		return nil, fmt.Errorf("interp: load standard library: %w", err)
	}
	if err := i.yi.Use(symbols.Symbols); err != nil {
		return nil, fmt.Errorf("interp: load library symbols: %w", err)
	}
	if err := i.yi.Use(i.runtimeExports()); err != nil {
		return nil, fmt.Errorf("interp: load runtime helpers: %w", err)
	}
	if err := i.yi.Use(i.timeExports()); err != nil {
		return nil, fmt.Errorf("interp: load timer wrappers: %w", err)
	}
	var imp strings.Builder
	imp.WriteString("import (\n\t__adjrt \"adjoint/kernel/interp/rt\"\n")
	for _, p := range preImports {
		fmt.Fprintf(&imp, "\t%q\n", p)
	}
	for _, p := range symbols.Packages {
		fmt.Fprintf(&imp, "\t%q\n", p)
	}
	imp.WriteString(")\n")
	if _, err := i.evalDirect(imp.String()); err != nil {
		return nil, fmt.Errorf("interp: pre-import: %w", err)
	}
	i.noteDecls(segment{kind: segImport, text: imp.String()})
	const helpers = `
func __adjShow(vs ...interface{}) {
	if len(vs) == 1 {
		__adjrt.Show(vs[0])
	}
}

func __adjShowCall(vs ...interface{}) {
	if len(vs) != 1 || vs[0] == nil {
		return
	}
	__adjShow(vs[0])
}
`
	if _, err := i.evalDirect(helpers); err != nil {
		return nil, fmt.Errorf("interp: helpers: %w", err)
	}
	p, err := i.yi.Compile(`__adjrt.Nap()`)
	if err != nil {
		return nil, fmt.Errorf("interp: helpers: %w", err)
	}
	i.napper = p
	i.stopper = newStopper(i.yi)
	i.reclaim = newReclaimer(i.yi)
	return i, nil
}

// evalDirect evaluates src outside of any cell (setup code), recovering panics.
func (i *Interp) evalDirect(src string) (v reflect.Value, err error) {
	i.sem <- struct{}{}
	defer func() { <-i.sem }()
	defer i.reclaim.release(i.reclaim.mark(), src) // see reclaim.go
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return i.yi.Eval(src)
}

// LogWriter returns a writer to the process's original standard error, for the kernel's own logs
// (descriptor 2 itself carries the output of cells once an interpreter exists). It may be called
// before New: each write goes to wherever the original standard error is at that moment.
func LogWriter() io.Writer { return logWriter{} }

type logWriter struct{}

func (logWriter) Write(b []byte) (int, error) {
	if c := captPtr.Load(); c != nil {
		return c.logw.Write(b)
	}
	return os.Stderr.Write(b)
}

// LogWriter is the package-level LogWriter, for convenience.
func (i *Interp) LogWriter() io.Writer { return LogWriter() }

// Close releases the interpreter and its magics' state (the DSL session). Goroutines started
// by cells keep running until they return.
func (i *Interp) Close() error {
	cellMu.Lock()
	i.closed = true
	cellMu.Unlock()
	i.magicMu.Lock()
	i.magics = nil
	i.magicMu.Unlock()
	return nil
}

// exitPanic is the panic value of os.Exit and log.Fatal* inside cells.
type exitPanic struct {
	code int
	msg  string
}

// runtimeExports are the helpers that rewritten cells call, and the overrides that keep
// os.Exit and log.Fatal from ending the process.
func (i *Interp) runtimeExports() yaegi.Exports {
	fatal := func(msg string) {
		fmt.Fprint(i.errw, time.Now().Format("2006/01/02 15:04:05 ")+msg)
		if !strings.HasSuffix(msg, "\n") {
			fmt.Fprintln(i.errw)
		}
		panic(exitPanic{code: 1, msg: msg})
	}
	return yaegi.Exports{
		"adjoint/kernel/interp/rt/rt": {
			"Go":         reflect.ValueOf(i.goRecover),
			"Show":       reflect.ValueOf(i.show),
			"ShowBundle": reflect.ValueOf(i.showBundle),
			"ShowFunc":   reflect.ValueOf(func(f func() display.Bundle) { i.showBundle(f()) }),
			"Nap":        reflect.ValueOf(i.nap),
		},
		"os/os": {
			"Exit":   reflect.ValueOf(func(code int) { panic(exitPanic{code: code}) }),
			"Stdout": reflect.ValueOf(&i.stdio.out).Elem(),
			"Stderr": reflect.ValueOf(&i.stdio.err).Elem(),
		},
		"log/log": {
			"Fatal":   reflect.ValueOf(func(v ...any) { fatal(fmt.Sprint(v...)) }),
			"Fatalf":  reflect.ValueOf(func(f string, v ...any) { fatal(fmt.Sprintf(f, v...)) }),
			"Fatalln": reflect.ValueOf(func(v ...any) { fatal(fmt.Sprintln(v...)) }),
		},
	}
}

// nap is the body of the program that stop runs.
func (i *Interp) nap() {
	time.Sleep(80 * time.Millisecond)
	if i.napDone != nil {
		close(i.napDone)
	}
}

// goRecover starts f(args...) in a goroutine that reports a panic on the cell's standard error
// instead of ending the process. Rewritten `go` statements call it.
func (i *Interp) goRecover(f any, args ...any) {
	fv := reflect.ValueOf(f)
	if fv.Kind() != reflect.Func {
		panic(fmt.Sprintf("go: %T is not a function", f))
	}
	ft := fv.Type()
	in := make([]reflect.Value, len(args))
	for k, a := range args {
		var pt reflect.Type
		switch {
		case ft.IsVariadic() && k >= ft.NumIn()-1:
			pt = ft.In(ft.NumIn() - 1).Elem()
		case k < ft.NumIn():
			pt = ft.In(k)
		}
		switch {
		case a == nil && pt != nil:
			in[k] = reflect.Zero(pt)
		case pt != nil && !reflect.TypeOf(a).AssignableTo(pt) && reflect.TypeOf(a).ConvertibleTo(pt):
			in[k] = reflect.ValueOf(a).Convert(pt)
		default:
			in[k] = reflect.ValueOf(a)
		}
	}
	go func() {
		defer func() {
			if r := recover(); r != nil {
				trace := i.errw.take()
				var b strings.Builder
				fmt.Fprintf(&b, "panic in goroutine (recovered, the kernel keeps running): %v\n", describePanic(r))
				for _, l := range trace {
					if sm := panicLine.FindStringSubmatch(l); sm != nil {
						fmt.Fprintf(&b, "  at %s, line %s\n", frameName(sm[3]), sm[1])
					}
				}
				i.errw.w.Write([]byte(b.String()))
			}
		}()
		fv.Call(in)
	}()
}

func describePanic(r any) string {
	if e, ok := r.(exitPanic); ok {
		if e.msg != "" {
			return "log.Fatal: " + strings.TrimSpace(e.msg)
		}
		return fmt.Sprintf("os.Exit(%d)", e.code)
	}
	return fmt.Sprint(r)
}

// show records the value of a cell's last expression.
func (i *Interp) show(v any) {
	var b display.Bundle
	switch x := v.(type) {
	case display.Bundle:
		b = x
	case *display.Bundle:
		b = *x
	case display.Renderer:
		b = x.MIMEBundle()
	case image.Image:
		ib, err := display.ImageBundle(x)
		if err != nil {
			b = display.Text(err.Error())
		} else {
			b = ib
		}
	default:
		b = display.Text(formatValue(v))
	}
	i.showBundle(b)
}

func (i *Interp) showBundle(b display.Bundle) {
	i.resMu.Lock()
	i.result = &b
	i.resMu.Unlock()
}

// formatValue is the text/plain form of a value: strings as they are, errors by their message,
// everything else as fmt's %v.
func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case error:
		return x.Error()
	case nil:
		return "nil"
	}
	if t := reflect.TypeOf(v); t.Kind() == reflect.Func {
		return t.String()
	}
	return fmt.Sprintf("%v", v)
}

// Magic handles a cell whose first line is `%%NAME args`; body is the rest of the cell. A
// magic belongs to one interpreter and may keep state of its own between cells.
type Magic func(ctx context.Context, i *Interp, args, body string, out Output) Result

// RegisterMagic adds (or replaces) the cell magic `%%name` of this interpreter.
func (i *Interp) RegisterMagic(name string, m Magic) {
	i.magicMu.Lock()
	defer i.magicMu.Unlock()
	if i.magics != nil {
		i.magics[name] = m
	}
}

func (i *Interp) lookupMagic(name string) Magic {
	i.magicMu.RLock()
	defer i.magicMu.RUnlock()
	return i.magics[name]
}

// parseMagic splits a cell that starts with %%NAME into name, args and body.
func parseMagic(code string) (name, args, body string, ok bool) {
	t := strings.TrimLeft(code, " \t\r\n")
	if !strings.HasPrefix(t, "%%") {
		return "", "", "", false
	}
	line, rest, _ := strings.Cut(t[2:], "\n")
	line = strings.TrimSpace(line)
	name, args, _ = strings.Cut(line, " ")
	return name, strings.TrimSpace(args), rest, true
}

// cellSink forwards display calls of a running cell to its Output, after the text the cell
// printed before them, so that outputs keep their order.
type cellSink struct {
	out  Output
	capt *capture
}

func (s cellSink) Display(b display.Bundle, id string, update bool) {
	s.capt.flush()
	s.out.Display(b, id, update)
}

func (s cellSink) Clear(wait bool) {
	s.capt.flush()
	s.out.Clear(wait)
}

// progressCellSink is a cellSink whose Output chooses its own progress view (a runner that
// also draws progress on the terminal).
type progressCellSink struct {
	cellSink
}

func (s progressCellSink) NewReporter(task string) display.Reporter {
	return s.out.(display.ProgressSink).NewReporter(task)
}

// sinkFor returns the sink of a cell writing to out.
func sinkFor(out Output, capt *capture) display.Sink {
	cs := cellSink{out: out, capt: capt}
	if _, ok := out.(display.ProgressSink); ok {
		return progressCellSink{cs}
	}
	return cs
}

// Execute runs one cell and blocks until it is done. Cancelling ctx interrupts it: Execute then
// returns within about a second with an error named "Interrupted". Compiled code that was running
// when the interrupt came (a long library call, time.Sleep) may still be finishing; the next
// Execute waits for it before it starts.
func (i *Interp) Execute(ctx context.Context, code string, out Output) (res Result) {
	if out == nil {
		out = discardOutput{}
	}
	cellMu.Lock()
	defer cellMu.Unlock()
	if i.closed {
		return errResult("Closed", "the interpreter was closed")
	}
	i.capt.flush() // output written between cells goes to the previous cell (or the log)
	if err := i.stdio.restore(i.capt); err != nil {
		fmt.Fprintf(LogWriter(), "%v\n", err)
	}
	i.capt.setOutput(out)
	display.SetSink(sinkFor(out, i.capt))
	display.SetContext(ctx)
	defer func() {
		i.capt.flush()
		if i.opts.LateOutputToLog {
			i.capt.setOutput(nil)
		}
	}()
	defer func() {
		if r := recover(); r != nil {
			res = errResult("InternalError", fmt.Sprintf("the kernel failed on this cell: %v", r))
		}
	}()
	if name, args, body, ok := parseMagic(code); ok {
		m := i.lookupMagic(name)
		if m == nil {
			return errResult("UsageError", fmt.Sprintf("unknown cell magic %%%%%s", name))
		}
		return m(ctx, i, args, body, out)
	}
	return i.run(ctx, code)
}

type discardOutput struct{}

func (discardOutput) Stream(string, string)                {}
func (discardOutput) Display(display.Bundle, string, bool) {}
func (discardOutput) Clear(bool)                           {}

func errResult(name, value string, tb ...string) Result {
	if len(tb) == 0 {
		tb = []string{name + ": " + value}
	}
	return Result{Err: &Error{Name: name, Value: value, Traceback: tb}}
}

// run evaluates the segments of a cell in order.
func (i *Interp) run(ctx context.Context, code string) Result {
	segs, err := splitCell(code)
	if err != nil {
		return i.compileError(code, segment{kind: segDecl, line: 1, col: 1}, err, true)
	}
	i.resMu.Lock()
	i.result = nil
	i.resMu.Unlock()
	for k := 0; k < len(segs); k++ {
		s := segs[k]
		if line := 0; s.kind == segDecl {
			if s, line = renameMain(s); line > 0 {
				// Run the program's main once, after the rest of the cell.
				segs = append(segs, segment{kind: segStmt, text: "__adjMain()", line: line, col: 1})
			}
		}
		if s.kind == segImport {
			var skip bool
			if s, skip = i.dropKnownImports(s); skip {
				continue
			}
		}
		s = rewriteGo(s)
		srcs := []string{s.src()}
		if s.kind == segExpr {
			// The value is shown through the first wrapper that compiles: the bundle of its
			// MIMEBundle method (yaegi hides the methods of interpreted types from compiled
			// code, and its type assertions to compiled interfaces fail), any single value, or
			// none (a void call runs as a plain statement).
			pad := strings.Repeat("\n", s.line-1) + strings.Repeat(" ", s.col-1)
			show := "__adjShow("
			if s.isCall {
				show = "__adjShowCall("
			}
			srcs = []string{pad + "__adjrt.ShowFunc((" + s.text + ").MIMEBundle)", pad + show + s.text + ")", s.src()}
		}
		r := i.evalSeg(ctx, s, srcs)
		switch {
		case r.interrupted:
			return errResult("Interrupted", "the cell was interrupted", r.note...)
		case r.compileErr != nil:
			return i.compileError(code, s, r.compileErr, false)
		case r.runErr != nil:
			return i.runtimeError(code, s, r.runErr, r.trace)
		}
		for _, m := range i.noteDecls(s) {
			fmt.Fprintf(i.errw.w, "warning: method %s was defined before; the interpreter keeps its first definition (restart the kernel, or use a new type name, to change it)\n", m)
		}
	}
	i.resMu.Lock()
	defer i.resMu.Unlock()
	return Result{Value: i.result}
}

type segResult struct {
	compileErr  error
	runErr      error
	trace       []string
	interrupted bool
	note        []string
}

// compilePanic wraps a panic raised by yaegi's compiler.
type compilePanic struct{ v any }

func (c compilePanic) Error() string { return fmt.Sprintf("internal compiler error: %v", c.v) }

// evalSeg compiles and runs src. It returns on completion or, after ctx is cancelled, once the
// code stopped or about a second passed.
// The first of srcs that compiles runs; when none does, the error is the last one's.
func (i *Interp) evalSeg(ctx context.Context, s segment, srcs []string) segResult {
	select {
	case i.sem <- struct{}{}:
	case <-ctx.Done():
		return segResult{interrupted: true, note: []string{"Interrupted: the previous cell was still finishing"}}
	default:
		i.errw.w.Write([]byte("(waiting for the previous, interrupted cell to finish)\n"))
		select {
		case i.sem <- struct{}{}:
		case <-ctx.Done():
			return segResult{interrupted: true, note: []string{"Interrupted: the previous cell was still finishing"}}
		}
	}
	var res segResult
	done := make(chan struct{})
	i.errw.take()
	go func() {
		// Release the evaluation slot before signalling completion, so that the next segment
		// never finds it still held by a segment that has finished.
		defer close(done)
		defer func() { <-i.sem }()
		defer i.reclaim.release(i.reclaim.mark(), strings.Join(srcs, "\n")) // see reclaim.go
		var prog *yaegi.Program
		for _, src := range srcs {
			prog, res.compileErr = i.compile(src)
			if res.compileErr == nil {
				break
			}
		}
		if res.compileErr != nil {
			return
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					res.runErr = yaegi.Panic{Value: r}
				}
			}()
			// A context that is never cancelled: ExecuteWithContext then returns only when
			// the code is done, and enables cancellable channel operations (see stop.go).
			_, err := i.yi.ExecuteWithContext(context.Background(), prog)
			if err != nil {
				res.runErr = err
			}
		}()
		res.trace = i.errw.take()
	}()
	select {
	case <-done:
		return res
	case <-ctx.Done():
	}
	// An interpreted loop stops at its next step; compiled code runs on until it returns.
	deadline := time.After(900 * time.Millisecond)
	for attempt := 0; ; attempt++ {
		if attempt < 2 {
			i.stop()
		}
		select {
		case <-done:
			return segResult{interrupted: true}
		case <-time.After(400 * time.Millisecond):
			continue
		case <-deadline:
		}
		break
	}
	return segResult{interrupted: true, note: []string{
		"Interrupted: the cell was interrupted",
		"compiled code it called is still running; the next cell starts when it returns",
	}}
}

// compile compiles src, turning a panic of yaegi's compiler into an error.
func (i *Interp) compile(src string) (prog *yaegi.Program, err error) {
	defer func() {
		if r := recover(); r != nil {
			prog, err = nil, compilePanic{r}
		}
	}()
	return i.yi.Compile(src)
}

var posRe = regexp.MustCompile(`^(?:[^:\s]*:)?(\d+):(\d+): `)

// compileError turns a compile or scan error into a Result pointing at the cell's line.
func (i *Interp) compileError(code string, s segment, err error, scan bool) Result {
	lines := strings.Split(code, "\n")
	var msgs []string
	var el scanner.ErrorList
	if errors.As(err, &el) && len(el) > 0 {
		for _, e := range el {
			l, c := e.Pos.Line, e.Pos.Column
			if !scan {
				l, c = s.cellPos(l, c)
			}
			msgs = append(msgs, fmt.Sprintf("%d:%d: %s", l, c, e.Msg))
		}
	} else {
		for _, m := range strings.Split(strings.TrimSpace(err.Error()), "\n") {
			if sm := posRe.FindStringSubmatch(m); sm != nil {
				l, _ := strconv.Atoi(sm[1])
				c, _ := strconv.Atoi(sm[2])
				l, c = s.cellPos(l, c)
				m = fmt.Sprintf("%d:%d: %s", l, c, m[len(sm[0]):])
			}
			msgs = append(msgs, m)
		}
	}
	name := "CompileError"
	if cp, ok := err.(compilePanic); ok && fmt.Sprint(cp.v) == "nil type" {
		msgs = append(msgs, "yaegi cannot compile this (known causes: range over an integer or a function; use a classic for loop)")
	}
	// Errors past the cell's end come from the text yaegi wraps around it: keep the first only.
	var kept []string
	for k, m := range msgs {
		if sm := posRe.FindStringSubmatch(m); sm != nil && k > 0 {
			if l, _ := strconv.Atoi(sm[1]); l > len(lines) {
				continue
			}
		}
		kept = append(kept, m)
	}
	msgs = kept
	tb := []string{name + ": " + strings.Join(msgs, "; ")}
	for _, m := range msgs {
		if sm := posRe.FindStringSubmatch(m); sm != nil {
			l, _ := strconv.Atoi(sm[1])
			c, _ := strconv.Atoi(sm[2])
			tb = append(tb, sourceContext(lines, l, c)...)
		}
	}
	return Result{Err: &Error{Name: name, Value: strings.Join(msgs, "; "), Traceback: tb}}
}

// sourceContext shows line l of the cell with a caret under column c.
func sourceContext(lines []string, l, c int) []string {
	if l < 1 || l > len(lines) {
		return nil
	}
	src := strings.ReplaceAll(lines[l-1], "\t", "    ")
	pre := lines[l-1]
	if c-1 <= len(pre) && c >= 1 {
		pre = pre[:c-1]
	}
	pad := len([]rune(strings.ReplaceAll(pre, "\t", "    ")))
	return []string{fmt.Sprintf("  line %d: %s", l, src), "  " + strings.Repeat(" ", len(fmt.Sprintf("line %d: ", l))+pad) + "^"}
}

// runtimeError turns a panic (or os.Exit, log.Fatal) of a cell into a Result.
func (i *Interp) runtimeError(code string, s segment, err error, trace []string) Result {
	var p yaegi.Panic
	var val any = err.Error()
	if errors.As(err, &p) {
		val = p.Value
	}
	name, value := "panic", fmt.Sprint(val)
	switch v := val.(type) {
	case exitPanic:
		if v.msg != "" {
			name, value = "Fatal", "log.Fatal called: "+strings.TrimSpace(v.msg)+" (the kernel keeps running)"
		} else {
			name, value = "Exit", fmt.Sprintf("os.Exit(%d) called: the kernel keeps running", v.code)
		}
	case error:
		value = v.Error()
	}
	if !errors.As(err, &p) {
		name = "RuntimeError"
	}
	tb := []string{name + ": " + value}
	lines := strings.Split(code, "\n")
	for _, t := range trace {
		sm := panicLine.FindStringSubmatch(t)
		if sm == nil {
			continue
		}
		l, _ := strconv.Atoi(sm[1])
		c, _ := strconv.Atoi(sm[2])
		l, c = s.cellPos(l, c)
		fn := frameName(sm[3])
		tb = append(tb, fmt.Sprintf("  at %s, line %d:%d", fn, l, c))
		if fn == "cell" {
			tb = append(tb, sourceContext(lines, l, c)...)
		}
	}
	return Result{Err: &Error{Name: name, Value: value, Traceback: tb}}
}

// frameName turns yaegi's "main.f(...)" into "f" ("cell" for the cell's own statements).
func frameName(s string) string {
	fn := strings.TrimSuffix(s, "(...)")
	fn = strings.TrimPrefix(fn, "main.")
	switch fn {
	case "main":
		return "cell"
	case "func":
		return "func literal"
	}
	return fn
}

// BindValue makes v visible to later cells as a variable called name, of v's dynamic type.
func (i *Interp) BindValue(name string, v any) error {
	if !isIdent(name) {
		return fmt.Errorf("interp: bind %q: not a Go identifier", name)
	}
	i.bindN++
	pkg := fmt.Sprintf("b%d", i.bindN)
	path := "adjoint/kernel/interp/bind/" + pkg
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return fmt.Errorf("interp: bind %s: nil value", name)
	}
	// A settable value exports a variable (a copy of v) rather than a constant.
	cp := reflect.New(rv.Type())
	cp.Elem().Set(rv)
	if err := i.yi.Use(yaegi.Exports{path + "/" + pkg: {"V": cp.Elem()}}); err != nil {
		return fmt.Errorf("interp: bind %s: %w", name, err)
	}
	alias := "__adj" + pkg
	if _, err := i.evalDirect(fmt.Sprintf("import %s %q", alias, path)); err != nil {
		return fmt.Errorf("interp: bind %s: %w", name, err)
	}
	if _, err := i.evalDirect(fmt.Sprintf("%s := %s.V", name, alias)); err != nil {
		return fmt.Errorf("interp: bind %s: %w", name, err)
	}
	return nil
}

func isIdent(s string) bool {
	if s == "" || s == "_" {
		return false
	}
	for k, r := range s {
		if !(r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r > 127 || (k > 0 && r >= '0' && r <= '9')) {
			return false
		}
	}
	return true
}

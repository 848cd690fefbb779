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
	"syscall"
	"time"

	"adjoint/kernel"
	"adjoint/lib/display"
)

// Options configure a Client.
type Options struct {
	// Command returns the command that runs Serve in a new process; the Client adds the
	// protocol's pipes as descriptors 3 (requests) and 4 (messages back) and takes over its
	// standard output and error.
	Command func() *exec.Cmd
	// Log receives the worker's standard output and error (the Go runtime's crash reports) and
	// the client's own notes; default os.Stderr. Writes never block the worker: what the log
	// cannot take at once is dropped.
	Log io.Writer
	// LogName names the log in error messages ("the kernel's log"), e.g. its path.
	LogName string
	// Input asks the front end for a line of input for the running cell (kernel.Kernel.Input);
	// nil refuses input.
	Input func(prompt string, password bool) (string, error)
	// InterruptGrace is how long a cell may run on after an interrupt before the worker is
	// killed and restarted; default 3 s.
	InterruptGrace time.Duration
	// QueryTimeout bounds completion, inspection and is_complete requests; default 10 s.
	QueryTimeout time.Duration
}

// Client is a kernel.Executor that runs cells in a worker process. It starts the first
// worker at once (Start), restarts it after it dies, and reports a worker's death as the
// error of the cell that was running, naming what the Go runtime reported.
type Client struct {
	opts Options

	mu     sync.Mutex
	cur    *proc
	closed bool
	nextID int64
}

var (
	_ kernel.Executor    = (*Client)(nil)
	_ kernel.Interrupter = (*Client)(nil)
)

// NewClient returns a client; Start launches its first worker.
func NewClient(opts Options) *Client {
	if opts.Log == nil {
		opts.Log = os.Stderr
	}
	if opts.LogName == "" {
		opts.LogName = "the kernel's log"
	}
	if opts.InterruptGrace <= 0 {
		opts.InterruptGrace = 3 * time.Second
	}
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = 10 * time.Second
	}
	return &Client{opts: opts}
}

// Start launches the first worker in the background, so that the first cell does not wait
// for the process to start and load its interpreter.
func (c *Client) Start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil && !c.closed {
		c.cur = c.spawn()
	}
}

// worker returns the current worker, starting one if there is none or the last one died.
func (c *Client) worker() (*proc, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errors.New("the kernel is shutting down")
	}
	if c.cur == nil || c.cur.isDead() {
		c.cur = c.spawn()
	}
	return c.cur, nil
}

// replace starts a new worker after p died, unless a newer one exists.
func (c *Client) replace(p *proc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.cur != p || !p.wasReady() {
		return // a worker that never became ready is restarted on the next request
	}
	c.cur = c.spawn()
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *Client) id() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextID++
	return c.nextID
}

// Execute runs a cell in the worker. Cancelling ctx interrupts it; a cell that does not stop
// within InterruptGrace, or a worker that dies, ends with an error and a fresh worker.
func (c *Client) Execute(ctx context.Context, code string, out kernel.Output) kernel.Result {
	p, err := c.worker()
	if err != nil {
		return errResult("KernelError", err.Error())
	}
	if err := p.waitReady(ctx); err != nil {
		if ctx.Err() != nil {
			return errResult("Interrupted", "interrupted while the kernel's worker was starting")
		}
		return errResult("KernelError", err.Error())
	}
	id := c.id()
	ch := p.expect(id, out, true)
	defer p.forget(id)
	if err := p.c.send(&msg{Op: "execute", ID: id, Code: code}); err != nil {
		<-p.dead
		return p.deathResult()
	}
	var grace <-chan time.Time
	done := ctx.Done()
	for {
		select {
		case m := <-ch:
			if m.Exiting {
				p.awaitExit()
			}
			return kernel.Result{Value: m.Value, Err: m.Err}
		case <-p.dead:
			// A result sent just before the worker died still counts.
			select {
			case m := <-ch:
				return kernel.Result{Value: m.Value, Err: m.Err}
			default:
			}
			return p.deathResult()
		case <-done:
			done = nil
			p.c.send(&msg{Op: "interrupt"})
			grace = time.After(c.opts.InterruptGrace)
		case <-grace:
			p.kill(fmt.Sprintf("the cell did not stop within %v of the interrupt", c.opts.InterruptGrace))
			<-p.dead
			return p.deathResult()
		}
	}
}

// Interrupt tells the worker to cancel the context of goroutines that earlier cells started.
func (c *Client) Interrupt() {
	c.mu.Lock()
	p := c.cur
	c.mu.Unlock()
	if p != nil && p.wasReady() && !p.isDead() {
		p.c.send(&msg{Op: "interrupt"})
	}
}

// query sends a request and waits for its reply, the worker's death or the timeout.
func (c *Client) query(m *msg) *msg {
	p, err := c.worker()
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.QueryTimeout)
	defer cancel()
	if p.waitReady(ctx) != nil {
		return nil
	}
	m.ID = c.id()
	ch := p.expect(m.ID, nil, false)
	defer p.forget(m.ID)
	if p.c.send(m) != nil {
		return nil
	}
	select {
	case r := <-ch:
		return r
	case <-p.dead:
	case <-ctx.Done():
	}
	return nil
}

// Complete implements kernel.Executor.
func (c *Client) Complete(code string, cursor int) ([]string, int, int) {
	r := c.query(&msg{Op: "complete", Code: code, Cursor: cursor})
	if r == nil {
		return nil, cursor, cursor
	}
	return r.Matches, r.Start, r.End
}

// Inspect implements kernel.Executor.
func (c *Client) Inspect(code string, cursor, detail int) (display.Bundle, bool) {
	r := c.query(&msg{Op: "inspect", Code: code, Cursor: cursor, Detail: detail})
	if r == nil || r.Bundle == nil {
		return display.Bundle{}, false
	}
	return *r.Bundle, r.Found
}

// IsComplete implements kernel.Executor.
func (c *Client) IsComplete(code string) (string, string) {
	r := c.query(&msg{Op: "is_complete", Code: code})
	if r == nil {
		return "unknown", ""
	}
	return r.Status, r.Indent
}

// Close stops the worker: it asks it to exit and kills it if it has not within a moment.
// It returns within about a second.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	p := c.cur
	c.mu.Unlock()
	if p == nil {
		return nil
	}
	p.c.send(&msg{Op: "interrupt"})
	p.c.send(&msg{Op: "close"})
	select {
	case <-p.exited:
	case <-time.After(300 * time.Millisecond):
		p.kill("")
	}
	select {
	case <-p.exited:
	case <-time.After(700 * time.Millisecond):
	}
	return nil
}

func errResult(name, value string) kernel.Result {
	return kernel.Result{Err: &kernel.Error{Name: name, Value: value, Traceback: []string{name + ": " + value}}}
}

// proc is one worker process.
type proc struct {
	client *Client
	cmd    *exec.Cmd
	c      *conn
	toW    *os.File // our end of the request pipe

	ready    chan struct{} // closed when the worker said ready (or died)
	readyErr error
	dead     chan struct{} // closed when the message pipe closed and the death is classified
	exited   chan struct{} // closed when the process has been waited for
	report   *crashReport

	mu       sync.Mutex
	waiters  map[int64]chan *msg
	outs     map[int64]kernel.Output
	lastOut  kernel.Output // of the latest cell: late output of earlier cells goes there
	killNote string        // why the client killed the worker, if it did
	exitErr  error
	isReady  bool
}

func (c *Client) spawn() *proc {
	p := &proc{client: c, ready: make(chan struct{}), dead: make(chan struct{}), exited: make(chan struct{}),
		waiters: map[int64]chan *msg{}, outs: map[int64]kernel.Output{}, report: newCrashReport(c.opts.Log)}
	fail := func(err error) *proc {
		p.readyErr = fmt.Errorf("start the kernel's worker: %w", err)
		close(p.ready)
		close(p.dead)
		close(p.exited)
		return p
	}
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return fail(err)
	}
	respR, respW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		reqW.Close()
		return fail(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		reqW.Close()
		respR.Close()
		respW.Close()
		return fail(err)
	}
	cmd := c.opts.Command()
	cmd.ExtraFiles = []*os.File{reqR, respW}
	cmd.Stdout, cmd.Stderr = errW, errW
	setDeathSignal(cmd)
	err = cmd.Start()
	reqR.Close()
	respW.Close()
	errW.Close()
	if err != nil {
		reqW.Close()
		respR.Close()
		errR.Close()
		return fail(err)
	}
	p.cmd, p.toW, p.c = cmd, reqW, newConn(respR, reqW)
	drained := make(chan struct{})
	go func() { defer close(drained); p.report.drain(errR) }()
	go func() {
		p.exitErr = cmd.Wait()
		close(p.exited)
	}()
	go p.read(respR, drained)
	return p
}

// read handles the worker's messages until its pipe closes, then records its death.
func (p *proc) read(r *os.File, drained chan struct{}) {
	defer r.Close()
	for {
		m, err := p.c.recv()
		if err != nil {
			break
		}
		p.dispatch(m)
	}
	// The pipe closed: the worker exited or is crashing. Wait for it and for its last words.
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		p.kill("the worker closed its pipe but did not exit")
		<-p.exited
	}
	select {
	case <-drained:
	case <-time.After(2 * time.Second):
	}
	p.toW.Close()
	p.mu.Lock()
	if !p.isReady {
		p.readyErr = fmt.Errorf("the kernel's worker exited while starting: %s", p.describeLocked())
		close(p.ready)
	}
	// Died between cells (a goroutine that a cell left running crashed it): say so under the
	// last cell, as no cell's error will.
	idle := len(p.outs) == 0 && p.lastOut != nil && !p.client.isClosed()
	last := p.lastOut
	p.mu.Unlock()
	close(p.dead)
	if idle {
		name, what := p.report.classify(p.killNote, p.exitErr)
		last.Stream("stderr", fmt.Sprintf("%s: %s: the kernel's worker process died after this cell ended "+
			"and was restarted; the session's state (variables, declarations, imports) was lost "+
			"(the Go runtime's report is in %s)\n", name, what, p.client.opts.LogName))
	}
	p.client.replace(p)
}

func (p *proc) dispatch(m *msg) {
	switch m.Op {
	case "ready":
		p.mu.Lock()
		if m.Status != "ok" {
			p.readyErr = fmt.Errorf("the kernel's worker failed to start: %s", m.Text)
		}
		p.isReady = true
		p.mu.Unlock()
		close(p.ready)
	case "stream", "display", "clear":
		p.mu.Lock()
		o := p.outs[m.ID]
		if o == nil {
			o = p.lastOut
		}
		p.mu.Unlock()
		if o == nil {
			return
		}
		switch m.Op {
		case "stream":
			o.Stream(m.Name, m.Text)
		case "display":
			if m.Bundle != nil {
				o.Display(*m.Bundle, m.DisplayID, m.Update)
			}
		case "clear":
			o.Clear(m.Wait)
		}
	case "input_request":
		go func() {
			reply := &msg{Op: "input_reply"}
			in := p.client.opts.Input
			if in == nil {
				reply.InputErr = "no input"
			} else if v, err := in(m.Prompt, m.Password); err != nil {
				reply.InputErr = err.Error()
			} else {
				reply.Input = v
			}
			p.c.send(reply)
		}()
	default: // result and replies
		p.mu.Lock()
		ch := p.waiters[m.ID]
		p.mu.Unlock()
		if ch != nil {
			select {
			case ch <- m:
			default:
			}
		}
	}
}

func (p *proc) waitReady(ctx context.Context) error {
	select {
	case <-p.ready:
	case <-ctx.Done():
		return ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.readyErr
}

func (p *proc) wasReady() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.isReady && p.readyErr == nil
}

func (p *proc) isDead() bool {
	select {
	case <-p.dead:
		return true
	default:
		return false
	}
}

// expect registers a reply channel for request id (and, for a cell, its output).
func (p *proc) expect(id int64, out kernel.Output, cell bool) chan *msg {
	ch := make(chan *msg, 1)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.waiters[id] = ch
	if cell {
		p.outs[id] = out
		p.lastOut = out
	}
	return ch
}

func (p *proc) forget(id int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.waiters, id)
	delete(p.outs, id)
}

// kill ends the worker with SIGKILL; note says why, for the cell's error.
// awaitExit waits for a worker that announced its exit, killing it if it lingers, so that the
// next request starts a fresh worker.
func (p *proc) awaitExit() {
	select {
	case <-p.dead:
	case <-time.After(5 * time.Second):
		p.kill("the worker announced its exit but did not exit")
		<-p.dead
	}
}

func (p *proc) kill(note string) {
	p.mu.Lock()
	if p.killNote == "" {
		p.killNote = note
	}
	p.mu.Unlock()
	if p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
	}
}

// deathResult is the error of a cell whose worker died under it.
func (p *proc) deathResult() kernel.Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	name, what := p.report.classify(p.killNote, p.exitErr)
	value := what + ": the kernel's worker process died and was restarted; the session's state (variables, declarations, imports) was lost"
	tb := []string{name + ": " + value}
	tb = append(tb, p.report.excerpt()...)
	tb = append(tb, "(the Go runtime's full report is in "+p.client.opts.LogName+")")
	return kernel.Result{Err: &kernel.Error{Name: name, Value: value, Traceback: tb}}
}

func (p *proc) describeLocked() string {
	_, what := p.report.classify(p.killNote, p.exitErr)
	return what
}

// crashReport drains a worker's standard output and error into the log without ever
// blocking the worker, and keeps what names a crash.
type crashReport struct {
	log   io.Writer
	lines chan string

	mu    sync.Mutex
	fatal []string // the first fatal line and the lines after it (bounded)
	tail  []string // the last lines
}

func newCrashReport(log io.Writer) *crashReport {
	r := &crashReport{log: log, lines: make(chan string, 1<<16)}
	go func() {
		for l := range r.lines {
			io.WriteString(r.log, l)
		}
	}()
	return r
}

// drain reads the worker's output until it closes.
func (r *crashReport) drain(f *os.File) {
	defer f.Close()
	defer close(r.lines)
	br := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			r.note(line)
			select {
			case r.lines <- "adjoint worker: " + line:
			default: // the log is not keeping up: drop rather than block the worker
			}
		}
		if err != nil {
			return
		}
	}
}

// crashStart matches the first line of a Go runtime crash report.
func crashStart(l string) bool {
	for _, p := range []string{"fatal error: ", "panic: ", "runtime: goroutine stack exceeds", "runtime: out of memory",
		"SIGSEGV", "SIGBUS", "unexpected fault address", "fatal: morestack on g0"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

func (r *crashReport) note(line string) {
	l := strings.TrimRight(line, "\n")
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case len(r.fatal) == 0 && crashStart(l):
		r.fatal = append(r.fatal, l)
	case len(r.fatal) > 0 && len(r.fatal) < 12:
		r.fatal = append(r.fatal, l)
	}
	r.tail = append(r.tail, l)
	if len(r.tail) > 20 {
		r.tail = r.tail[1:]
	}
}

// classify names what ended the worker: an error name and a short description.
func (r *crashReport) classify(killNote string, exitErr error) (string, string) {
	r.mu.Lock()
	text := strings.Join(r.fatal, "\n")
	r.mu.Unlock()
	switch {
	case strings.Contains(text, "stack overflow") || strings.Contains(text, "goroutine stack exceeds"):
		return "StackOverflow", "stack overflow (unbounded recursion?): a goroutine's stack passed its limit"
	case strings.Contains(text, "out of memory"):
		return "OutOfMemory", "out of memory: the Go runtime could not allocate"
	case strings.Contains(text, "concurrent map"):
		_, what, _ := strings.Cut(r.fatal[0], "fatal error: ")
		return "ConcurrentMapAccess", what + " (maps need a sync.Mutex when goroutines share them)"
	case strings.Contains(text, "deadlock"):
		return "Deadlock", "deadlock: all goroutines are asleep"
	case killNote != "":
		return "Restarted", killNote
	case strings.HasPrefix(text, "fatal error: "):
		return "FatalError", r.fatal[0]
	case strings.HasPrefix(text, "panic: "):
		return "Panic", "a goroutine panicked outside the cell: " + strings.TrimPrefix(r.fatal[0], "panic: ")
	case text != "":
		return "FatalError", r.fatal[0]
	}
	var ee *exec.ExitError
	if errors.As(exitErr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			what := "the worker was killed by " + ws.Signal().String()
			if ws.Signal() == syscall.SIGKILL {
				what += " (by the system's out-of-memory killer?)"
			}
			return "Killed", what
		}
		return "WorkerExited", fmt.Sprintf("the worker exited with status %d", ee.ExitCode())
	}
	return "WorkerExited", "the worker exited"
}

// excerpt is the start of the crash report, for the traceback.
func (r *crashReport) excerpt() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := min(len(r.fatal), 6)
	out := make([]string, 0, n)
	for _, l := range r.fatal[:n] {
		out = append(out, "  "+l)
	}
	return out
}

// SetInput sets Options.Input; call it before Start.
func (c *Client) SetInput(in func(prompt string, password bool) (string, error)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opts.Input = in
}

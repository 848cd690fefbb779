package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"syscall"
	"time"

	"adjoint/kernel"
	"adjoint/lib/display"
)

// ServeOptions are the in-process guards of a worker. Zero values mean defaults.
type ServeOptions struct {
	// MaxStack caps one goroutine's stack (debug.SetMaxStack): unbounded recursion then fails
	// fast, at this depth, instead of after a gigabyte. Default 64 MiB (some 100 000 levels of
	// interpreted calls).
	MaxStack int
	// MemoryLimit is the worker's memory budget in bytes: the Go runtime collects harder as it
	// nears it (debug.SetMemoryLimit) and a watchdog interrupts a cell that goes past it while
	// allocating (by more than 64 MiB since it started), with an OutOfMemory error, keeping the
	// session. ≤ 0 disables both.
	MemoryLimit int64
	// WatchInterval is how often the watchdog samples memory; default 50 ms.
	WatchInterval time.Duration
	// DeadlockAfter is how long every goroutine of a running cell must have been blocked, with
	// nothing that could wake it, before the cell is stopped as deadlocked; default 3 s.
	DeadlockAfter time.Duration
	// Exit ends the process after a deadlock that an interrupt could not break (the
	// supervisor then starts a fresh worker); default os.Exit.
	Exit func(code int)
}

// optional methods of an executor that the watchdogs use (the interpreter has them).
type (
	wakeupReporter interface{ WakeupPending() bool }
	busyReporter   interface{ Busy() bool }
)

// Serve runs the worker side of the protocol on r and w until the supervisor closes the
// connection or sends close. start creates the executor; its argument is the cells' standard
// input, which asks the supervisor (and through it the front end) for each line.
func Serve(r io.Reader, w io.Writer, start func(stdin io.Reader) (kernel.Executor, error), opts ServeOptions) error {
	c := newConn(r, w)
	if opts.MaxStack <= 0 {
		opts.MaxStack = 64 << 20
	}
	if opts.WatchInterval <= 0 {
		opts.WatchInterval = 50 * time.Millisecond
	}
	if opts.DeadlockAfter <= 0 {
		opts.DeadlockAfter = 3 * time.Second
	}
	if opts.Exit == nil {
		opts.Exit = os.Exit
	}
	debug.SetMaxStack(opts.MaxStack)
	if opts.MemoryLimit > 0 {
		debug.SetMemoryLimit(opts.MemoryLimit)
	}
	s := &server{c: c, opts: opts, input: make(chan *msg, 1)}
	exec, err := start(&stdinReader{s: s})
	if err != nil {
		c.send(&msg{Op: "ready", Status: "error", Text: err.Error()})
		return fmt.Errorf("worker: start executor: %w", err)
	}
	defer exec.Close()
	s.exec = exec
	s.epoch, s.epochCancel = context.WithCancel(context.Background())
	if err := c.send(&msg{Op: "ready", Status: "ok"}); err != nil {
		return err
	}
	stop := make(chan struct{})
	defer close(stop)
	if opts.MemoryLimit > 0 {
		go s.watchMemory(stop)
	}
	go s.watchDeadlock(stop, newDeadlockWatch())
	for {
		m, err := c.recv()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil
			}
			return err
		}
		switch m.Op {
		case "execute":
			go s.execute(m)
		case "complete":
			go func() {
				matches, start, end := exec.Complete(m.Code, m.Cursor)
				c.send(&msg{Op: "complete_reply", ID: m.ID, Matches: matches, Start: start, End: end})
			}()
		case "inspect":
			go func() {
				b, found := exec.Inspect(m.Code, m.Cursor, m.Detail)
				c.send(&msg{Op: "inspect_reply", ID: m.ID, Bundle: &b, Found: found})
			}()
		case "is_complete":
			go func() {
				st, indent := exec.IsComplete(m.Code)
				c.send(&msg{Op: "is_complete_reply", ID: m.ID, Status: st, Indent: indent})
			}()
		case "interrupt":
			s.interrupt()
		case "input_reply":
			select {
			case s.input <- m:
			default:
			}
		case "close":
			return nil
		}
	}
}

type server struct {
	c     *conn
	opts  ServeOptions
	exec  kernel.Executor
	input chan *msg

	mu          sync.Mutex
	epoch       context.Context
	epochCancel context.CancelFunc
	cellCancel  context.CancelFunc // of the running cell; nil between cells
	cellID      int64
	cellBase    int64  // bytes in use when the running cell started
	overMemory  int64  // bytes in use when the watchdog stopped the running cell; 0 if it did not
	deadlock    string // why the deadlock watchdog stopped the running cell; "" if it did not
	inputs      int    // input requests waiting for the front end (a cell reading stdin is not deadlocked)
}

// interrupt cancels the running cell and the context of goroutines that earlier cells left.
func (s *server) interrupt() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.epochCancel()
	s.epoch, s.epochCancel = context.WithCancel(context.Background())
}

func (s *server) execute(m *msg) {
	s.mu.Lock()
	ctx, cancel := context.WithCancel(s.epoch)
	s.cellCancel, s.cellID, s.overMemory, s.cellBase, s.deadlock = cancel, m.ID, 0, memoryInUse(), ""
	if s.opts.MemoryLimit > 0 {
		// When variables already hold more than the limit, a soft limit below it would make
		// the collector run without pause: keep it a quarter above what is in use.
		debug.SetMemoryLimit(max(s.opts.MemoryLimit, s.cellBase/4*5))
	}
	s.mu.Unlock()
	res := s.exec.Execute(ctx, m.Code, &output{c: s.c, id: m.ID})
	s.mu.Lock()
	over, deadlock := s.overMemory, s.deadlock
	s.cellCancel = nil
	s.mu.Unlock()
	cancel()
	if deadlock != "" {
		// An interrupt ends interpreted waits; compiled ones (sync.Mutex.Lock) stay blocked,
		// and then only a fresh process helps.
		stuck := false
		if b, ok := s.exec.(busyReporter); ok {
			for k := 0; k < 20 && b.Busy(); k++ {
				time.Sleep(50 * time.Millisecond)
			}
			stuck = b.Busy()
		}
		value := deadlock + "; the cell was stopped (variables are kept)"
		if stuck {
			value = deadlock + "; the blocked goroutines cannot be stopped, so the kernel's worker " +
				"process restarts and the session's state (variables, declarations, imports) is lost"
		}
		s.c.send(&msg{Op: "result", ID: m.ID, Exiting: stuck, Err: &kernel.Error{Name: "Deadlock", Value: value,
			Traceback: []string{"Deadlock: " + value}}})
		if stuck {
			s.opts.Exit(3)
		}
		return
	}
	if over > 0 {
		runtime.GC()
		debug.FreeOSMemory()
		res.Value = nil
		res.Err = &kernel.Error{Name: "OutOfMemory", Value: fmt.Sprintf(
			"out of memory: the cell reached %d MiB, over the kernel's limit of %d MiB, and was stopped "+
				"(variables are kept; memory they hold stays in use until they are set to nil; "+
				"$ADJOINT_MEMORY_LIMIT sets the limit)",
			over>>20, s.opts.MemoryLimit>>20)}
		res.Err.Traceback = []string{res.Err.Name + ": " + res.Err.Value}
	}
	s.c.send(&msg{Op: "result", ID: m.ID, Value: res.Value, Err: res.Err})
}

// watchDeadlock stops the running cell when all its goroutines are blocked for good.
func (s *server) watchDeadlock(stop chan struct{}, w *deadlockWatch) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	var cell int64
	lastCPU := cpuTime()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		// A deadlocked process does not compute. Dumping all stacks stops the world and walks
		// every frame (slow for deep recursion), so it is done only when the process was idle.
		// The collector's own work (heavy when the heap is near its limit) does not count.
		cpu := cpuTime() - gcCPUTime()
		busy := cpu-lastCPU > 20*time.Millisecond
		lastCPU = cpu
		s.mu.Lock()
		running, id, flagged, waiting := s.cellCancel != nil, s.cellID, s.deadlock != "", s.inputs > 0
		s.mu.Unlock()
		if !running || flagged || busy || waiting {
			w.reset()
			continue
		}
		if id != cell {
			cell = id
			w.reset()
		}
		pending := false
		if wr, ok := s.exec.(wakeupReporter); ok {
			pending = wr.WakeupPending()
		}
		what := w.check(time.Now(), s.opts.DeadlockAfter, pending)
		if what == "" {
			continue
		}
		s.mu.Lock()
		if s.cellCancel != nil && s.cellID == id && s.deadlock == "" {
			s.deadlock = what
			s.cellCancel()
		}
		s.mu.Unlock()
	}
}

// watchMemory stops the running cell when the process's memory passes the limit.
func (s *server) watchMemory(stop chan struct{}) {
	t := time.NewTicker(s.opts.WatchInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		used := memoryInUse()
		if used <= s.opts.MemoryLimit {
			continue
		}
		s.mu.Lock()
		if s.cellCancel != nil && s.overMemory == 0 && used-s.cellBase > 64<<20 {
			s.overMemory = used
			s.cellCancel()
		}
		s.mu.Unlock()
	}
}

// output forwards a cell's output to the supervisor.
type output struct {
	c  *conn
	id int64
}

func (o *output) Stream(name, text string) {
	o.c.send(&msg{Op: "stream", ID: o.id, Name: name, Text: text})
}

func (o *output) Display(b display.Bundle, id string, update bool) {
	o.c.send(&msg{Op: "display", ID: o.id, Bundle: &b, DisplayID: id, Update: update})
}

func (o *output) Clear(wait bool) { o.c.send(&msg{Op: "clear", ID: o.id, Wait: wait}) }

// stdinReader is the cells' standard input: each time its buffer is empty, a read asks the
// supervisor for a line. A refusal (the front end does not accept input) reads as end of file.
type stdinReader struct {
	s   *server
	mu  sync.Mutex
	buf []byte
}

func (r *stdinReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.buf) == 0 {
		select { // a stale reply
		case <-r.s.input:
		default:
		}
		r.s.mu.Lock()
		r.s.inputs++
		r.s.mu.Unlock()
		defer func() {
			r.s.mu.Lock()
			r.s.inputs--
			r.s.mu.Unlock()
		}()
		if err := r.s.c.send(&msg{Op: "input_request"}); err != nil {
			return 0, io.EOF
		}
		m, ok := <-r.s.input
		if !ok || m.InputErr != "" {
			return 0, io.EOF
		}
		r.buf = append(r.buf, m.Input...)
		r.buf = append(r.buf, '\n')
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// memoryInUse is the memory the Go runtime holds from the system, less what it returned.
func memoryInUse() int64 {
	samples := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(samples)
	if samples[0].Value.Kind() != metrics.KindUint64 || samples[1].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(samples[0].Value.Uint64() - samples[1].Value.Uint64())
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) - gcCPU()
}

// gcCPUTime is the runtime's estimate of the CPU time its garbage collector used.
func gcCPUTime() time.Duration {
	samples := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(samples)
	if samples[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return time.Duration(samples[0].Value.Float64() * float64(time.Second))
}

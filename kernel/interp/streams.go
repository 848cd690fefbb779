package interp

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"os"
	"regexp"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"
)

// The streams of cells are process-wide: file descriptors 1 and 2 are redirected into pipes once,
// when the first interpreter is created (unless Options.NoRedirect), so that output written by
// interpreted code, by compiled library code and by goroutines all arrives in one place. A reader
// goroutine per stream forwards what arrives to the Output of the running cell; between cells
// (a goroutine that outlived its cell) to the Output of the last cell, as ipykernel does, or
// with Options.LateOutputToLog to the original descriptors (the kernel's terminal or log).

// flushMark is written into a pipe to learn when everything written before it has been forwarded.
var flushMark = []byte("\x00\x01adjoint-flush\x01\x00")

type stream struct {
	name    string
	w       *os.File  // write end of the pipe
	orig    io.Writer // where text goes when no cell has run yet
	flushed chan struct{}
}

type capture struct {
	mu       sync.Mutex
	cur      Output // Output of the running (or last) cell
	out, err *stream
	logw     io.Writer
	flushMu  sync.Mutex // one flush at a time: each waits for its own mark
}

var (
	capOnce sync.Once
	capt    *capture
	capErr  error
	captPtr atomic.Pointer[capture] // capt, for readers outside getCapture
)

// getCapture sets up the process-wide stream capture on first use.
func getCapture(noRedirect, keepFD2 bool) (*capture, error) {
	capOnce.Do(func() {
		capt, capErr = newCapture(noRedirect, keepFD2)
		if capErr == nil {
			captPtr.Store(capt)
		}
	})
	return capt, capErr
}

func newCapture(noRedirect, keepFD2 bool) (*capture, error) {
	c := &capture{logw: os.Stderr}
	origOut, origErr := io.Writer(os.Stdout), io.Writer(os.Stderr)
	if !noRedirect && keepFD2 {
		// Descriptor 2 stays where it is: the runtime writes fatal errors there, and a pipe
		// that this process reads itself would fill and block the crash report. Compiled code
		// writing to os.Stderr is captured by pointing the variable at the capture instead.
		o, err := syscall.Dup(1)
		if err != nil {
			return nil, fmt.Errorf("interp: dup stdout: %w", err)
		}
		origOut = os.NewFile(uintptr(o), "stdout-orig")
		log.SetOutput(os.Stderr)
	}
	if !noRedirect && !keepFD2 {
		// Keep duplicates of the original descriptors: the kernel's own logs go there.
		o, err := syscall.Dup(1)
		if err != nil {
			return nil, fmt.Errorf("interp: dup stdout: %w", err)
		}
		e, err := syscall.Dup(2)
		if err != nil {
			return nil, fmt.Errorf("interp: dup stderr: %w", err)
		}
		origOut = os.NewFile(uintptr(o), "stdout-orig")
		ef := os.NewFile(uintptr(e), "stderr-orig")
		origErr = ef
		c.logw = ef
		// The standard logger (the kernel's own logs, yaegi's internal panics) keeps writing to
		// the original standard error; cells get loggers of their own that write to the cell.
		log.SetOutput(ef)
		// A crash of the process must stay readable too.
		debug.SetCrashOutput(ef, debug.CrashOptions{})
	}
	mk := func(name string, fd int, orig io.Writer) (*stream, error) {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("interp: pipe for %s: %w", name, err)
		}
		if !noRedirect && (fd == 1 || !keepFD2) {
			if err := syscall.Dup2(int(w.Fd()), fd); err != nil {
				return nil, fmt.Errorf("interp: redirect %s: %w", name, err)
			}
		}
		s := &stream{name: name, w: w, orig: orig, flushed: make(chan struct{}, 1)}
		go c.pump(s, r)
		return s, nil
	}
	var err error
	if c.out, err = mk("stdout", 1, origOut); err != nil {
		return nil, err
	}
	if c.err, err = mk("stderr", 2, origErr); err != nil {
		return nil, err
	}
	if !noRedirect && keepFD2 {
		os.Stderr = c.err.w
	}
	return c, nil
}

func (c *capture) setOutput(o Output) {
	c.mu.Lock()
	c.cur = o
	c.mu.Unlock()
}

func (c *capture) emit(s *stream, b []byte) {
	if len(b) == 0 {
		return
	}
	c.mu.Lock()
	o := c.cur
	c.mu.Unlock()
	if o == nil {
		s.orig.Write(b)
		return
	}
	o.Stream(s.name, string(b))
}

// pump forwards what arrives on r, keeping flush marks and incomplete UTF-8 sequences back.
func (c *capture) pump(s *stream, r *os.File) {
	buf := make([]byte, 64<<10)
	var pending []byte
	for {
		n, err := r.Read(buf)
		pending = append(pending, buf[:n]...)
		for {
			i := bytes.Index(pending, flushMark)
			if i < 0 {
				break
			}
			c.emit(s, pending[:i])
			pending = pending[i+len(flushMark):]
			select {
			case s.flushed <- struct{}{}:
			default:
			}
		}
		keep := 0
		// A partial flush mark at the end.
		if j := bytes.LastIndexByte(pending, 0); j >= 0 && len(pending)-j < len(flushMark) && bytes.HasPrefix(flushMark, pending[j:]) {
			keep = len(pending) - j
		}
		body := pending[:len(pending)-keep]
		// An incomplete UTF-8 sequence at the end.
		for k := 1; k <= 3 && k <= len(body); k++ {
			b := body[len(body)-k]
			if utf8.RuneStart(b) {
				if !utf8.FullRune(body[len(body)-k:]) {
					keep += k
					body = body[:len(body)-k]
				}
				break
			}
		}
		c.emit(s, body)
		pending = append(pending[:0:0], pending[len(pending)-keep:]...)
		if err != nil {
			return
		}
	}
}

// flush waits (at most a second) until everything written to the streams so far was forwarded.
func (c *capture) flush() {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	for _, s := range []*stream{c.out, c.err} {
		select {
		case <-s.flushed:
		default:
		}
		if _, err := s.w.Write(flushMark); err != nil {
			continue
		}
		select {
		case <-s.flushed:
		case <-time.After(time.Second):
		}
	}
}

// panicLine matches the position lines yaegi prints for every interpreted frame a panic unwinds.
var panicLine = regexp.MustCompile(`^(\d+):(\d+): panic: (.*\(\.\.\.\))\n?$`)

// stderrFilter is the interpreter's standard error: it drops yaegi's own panic position lines
// (the cell's traceback reports them instead) and forwards everything else.
type stderrFilter struct {
	w     io.Writer
	mu    sync.Mutex
	lines []string
}

func (f *stderrFilter) Write(b []byte) (int, error) {
	if panicLine.Match(b) {
		f.mu.Lock()
		if len(f.lines) < 64 {
			f.lines = append(f.lines, string(bytes.TrimRight(b, "\n")))
		}
		f.mu.Unlock()
		return len(b), nil
	}
	return f.w.Write(b)
}

// take returns and clears the recorded panic lines.
func (f *stderrFilter) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.lines
	f.lines = nil
	return l
}

// cellStdio is what cells see as os.Stdout and os.Stderr: duplicates of the capture pipes,
// held in variables of the interpreter. A cell may close them or assign other files to them;
// before each cell they are put back, so that later cells' output still arrives.
type cellStdio struct {
	out, err       *os.File // the variables cells see
	ownOut, ownErr *os.File // what this interpreter put there last
}

// restore puts fresh duplicates of the capture pipes back where a cell closed or replaced them.
func (s *cellStdio) restore(c *capture) error {
	fix := func(v, own **os.File, w *os.File) error {
		if *own != nil {
			if _, err := (*own).Write(nil); err == nil {
				*v = *own // still open: undo a replacement, if any
				return nil
			}
		}
		fd, err := syscall.Dup(int(w.Fd()))
		if err != nil {
			return fmt.Errorf("interp: restore %s: %w", w.Name(), err)
		}
		f := os.NewFile(uintptr(fd), w.Name())
		*v, *own = f, f
		return nil
	}
	if err := fix(&s.out, &s.ownOut, c.out.w); err != nil {
		return err
	}
	return fix(&s.err, &s.ownErr, c.err.w)
}

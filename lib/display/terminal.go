package display

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
)

// Pacing of the terminal views.
const (
	// TerminalInterval is the shortest time between two redraws of the one-line bar.
	TerminalInterval = 200 * time.Millisecond
	// LogInterval is the longest time between two lines of the plain (non-terminal) view, which
	// also writes a line at every further tenth of the task.
	LogInterval = 10 * time.Second
)

// NewTerminalSink returns a WriterSink on f that draws progress as a redrawn bar when f is an
// interactive terminal, and as plain periodic lines otherwise (pipes, logs, CI).
func NewTerminalSink(f *os.File) *WriterSink {
	return NewWriterSink(f, term.IsTerminal(int(f.Fd())))
}

// NewReporter returns the progress view of the sink: a one-line bar redrawn in place with a
// carriage return when the sink is a terminal, plain lines (at most one per LogInterval or tenth
// of the task, plus the first and the final report) otherwise.
func (s *WriterSink) NewReporter(task string) Reporter {
	if s.Terminal {
		return &barReporter{sink: s, task: task}
	}
	return &lineReporter{sink: s, task: task}
}

// width returns the terminal's width in columns, 80 when it cannot be known.
func (s *WriterSink) width() int {
	if f, ok := s.w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 10 {
			return w
		}
	}
	return 80
}

func (s *WriterSink) write(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	io.WriteString(s.w, text)
}

// barReporter redraws one line in place.
type barReporter struct {
	mu       sync.Mutex
	sink     *WriterSink
	task     string
	last     time.Time
	draws    int
	finished bool
}

func (r *barReporter) Report(p Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished || (r.draws > 0 && now().Sub(r.last) < TerminalInterval) {
		return
	}
	r.draw(p, "")
}

func (r *barReporter) Finish(p Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return
	}
	r.finished = true
	p.Done = true
	r.draw(p, "\n")
}

func (r *barReporter) draw(p Progress, end string) {
	if p.Task == "" {
		p.Task = r.task
	}
	r.sink.write("\r" + BarLine(p, r.sink.width()) + end)
	r.draws++
	r.last = now()
}

// BarLine renders a report as a one-line bar exactly width-1 columns wide (padded with spaces,
// so that a redraw over a longer line leaves nothing behind; cut when the numbers do not fit).
func BarLine(p Progress, width int) string {
	width = max(width-1, 20)
	task := p.Task
	p.Task = ""
	rest := strings.TrimSpace(FormatProgress(p))
	var b strings.Builder
	b.WriteString(task)
	if f, ok := fraction(p); ok {
		bw := min(30, max(10, width/4))
		fill := int(f*float64(bw) + 0.5)
		fmt.Fprintf(&b, " [%s%s] %3.0f%%", strings.Repeat("#", fill), strings.Repeat(".", bw-fill), 100*f)
	}
	if rest != "" {
		b.WriteString(" " + rest)
	}
	line := b.String()
	if n := utf8.RuneCountInString(line); n > width {
		r := []rune(line)
		line = string(r[:width-1]) + "…"
	} else {
		line += strings.Repeat(" ", width-n)
	}
	return line
}

// lineReporter writes plain lines for logs.
type lineReporter struct {
	mu       sync.Mutex
	sink     *WriterSink
	task     string
	last     time.Time
	lastFrac float64
	lines    int
	finished bool
}

func (r *lineReporter) Report(p Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return
	}
	f, known := fraction(p)
	due := r.lines == 0 || now().Sub(r.last) >= LogInterval || (known && f >= r.lastFrac+0.1)
	if !due {
		return
	}
	r.emit(p)
}

func (r *lineReporter) Finish(p Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return
	}
	r.finished = true
	p.Done = true
	r.emit(p)
}

func (r *lineReporter) emit(p Progress) {
	if p.Task == "" {
		p.Task = r.task
	}
	line := FormatProgress(p)
	if f, ok := fraction(p); ok {
		r.lastFrac = f
		line = fmt.Sprintf("%s (%.0f%%)", line, 100*f)
	}
	r.sink.write(line + "\n")
	r.lines++
	r.last = now()
}

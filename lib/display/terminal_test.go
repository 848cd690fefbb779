package display

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestPlainLinesWhenNotATerminal(t *testing.T) {
	clk := useFakeClock(t)
	var buf bytes.Buffer
	s := NewWriterSink(&buf, false)
	r := s.NewReporter("mcmc")
	// 1000 steps, one per 20 ms (20 s in all): the first line, one per tenth and the 10-s mark.
	for i := range 1000 {
		r.Report(Progress{Step: i + 1, Steps: 1000, Loss: 1})
		clk.advance(20 * time.Millisecond)
	}
	r.Finish(Progress{Step: 1000, Steps: 1000, Loss: 1})
	out := buf.String()
	if strings.Contains(out, "\r") {
		t.Fatalf("carriage return in non-terminal output: %q", out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) < 10 || len(lines) > 13 {
		t.Fatalf("got %d lines, want about 11 (first, every tenth, final):\n%s", len(lines), out)
	}
	if !strings.HasPrefix(lines[0], "mcmc step 1/1000") {
		t.Errorf("first line %q", lines[0])
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, "step 1000/1000") || !strings.Contains(last, "done") {
		t.Errorf("final line %q", last)
	}
}

func TestPlainLinesByTime(t *testing.T) {
	clk := useFakeClock(t)
	var buf bytes.Buffer
	r := NewWriterSink(&buf, false).NewReporter("train")
	// Unknown total: only time paces the lines, one per 10 s.
	for i := range 300 {
		r.Report(Progress{Step: i + 1, Loss: 2})
		clk.advance(100 * time.Millisecond)
	}
	n := strings.Count(buf.String(), "\n")
	if n != 3 { // t = 0, 10 s, 20 s
		t.Fatalf("got %d lines over 30 s, want 3:\n%s", n, buf.String())
	}
	r.Finish(Progress{Step: 300, Loss: 2})
	r.Finish(Progress{Step: 300, Loss: 2})
	if got := strings.Count(buf.String(), "\n"); got != 4 || !strings.HasSuffix(buf.String(), "done\n") {
		t.Fatalf("final line missing or repeated:\n%s", buf.String())
	}
}

func TestTerminalBar(t *testing.T) {
	clk := useFakeClock(t)
	var buf bytes.Buffer
	s := NewWriterSink(&buf, true)
	var _ ProgressSink = s
	r := s.NewReporter("train lj13")
	for i := range 50 {
		r.Report(Progress{Epoch: i + 1, Epochs: 50, Loss: 3, Device: "cpu"})
		clk.advance(50 * time.Millisecond)
	}
	r.Finish(Progress{Epoch: 50, Epochs: 50, Loss: 2})
	out := buf.String()
	frames := strings.Split(out, "\r")[1:]
	// 2.5 s at one redraw per 200 ms: 13 redraws, plus the final one.
	if len(frames) != 14 {
		t.Fatalf("got %d redraws, want 14", len(frames))
	}
	for i, f := range frames {
		body := strings.TrimSuffix(f, "\n")
		if n := utf8.RuneCountInString(body); n != 79 {
			t.Errorf("frame %d is %d columns, want 79: %q", i, n, body)
		}
		if strings.HasSuffix(f, "\n") != (i == len(frames)-1) {
			t.Errorf("frame %d: newline only after the final frame: %q", i, f)
		}
	}
	last := frames[len(frames)-1]
	if !strings.Contains(last, "100%") || !strings.Contains(last, "done") || !strings.Contains(last, "[##########") {
		t.Errorf("final frame %q", last)
	}
}

func TestBarLineWidth(t *testing.T) {
	p := Progress{Task: "a long task name", Step: 5, Steps: 10, Loss: 1.5, SamplesPerSec: 1e6,
		Extra: map[string]float64{"energy_w2": 0.25, "geometric_w2": 1.5}, Device: "cuda:0 (NVIDIA H100)"}
	for _, w := range []int{30, 80, 200} {
		got := BarLine(p, w)
		if n := utf8.RuneCountInString(got); n != w-1 {
			t.Errorf("width %d: line has %d columns: %q", w, n, got)
		}
		if !strings.HasPrefix(got, "a long task name [") {
			t.Errorf("width %d: %q", w, got)
		}
	}
}

func TestNewTerminalSinkOnFile(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := NewTerminalSink(f)
	if s.Terminal {
		t.Fatal("a regular file detected as a terminal")
	}
	if s.width() != 80 {
		t.Errorf("width of a non-terminal: %d, want 80", s.width())
	}
	defer SetSink(s)()
	r := NewReporter("x")
	r.Report(Progress{Step: 1, Steps: 2})
	r.Finish(Progress{Step: 2, Steps: 2})
	b, _ := os.ReadFile(f.Name())
	if got := string(b); got != "x step 1/2 (50%)\nx step 2/2 done (100%)\n" {
		t.Errorf("file got %q", got)
	}
}

func ExampleWriterSink_NewReporter() {
	s := NewWriterSink(os.Stdout, false) // a log, not a terminal: plain lines
	r := s.NewReporter("train dw4")
	r.Report(Progress{Epoch: 1, Epochs: 4, Loss: 2.5})
	r.Finish(Progress{Epoch: 4, Epochs: 4, Loss: 0.75})
	// Output:
	// train dw4 epoch 1/4 loss 2.5 (25%)
	// train dw4 epoch 4/4 loss 0.75 done (100%)
}

package display

import (
	"encoding/xml"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock replaces the views' clock for a test.
type fakeClock struct{ t time.Time }

func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func useFakeClock(t *testing.T) *fakeClock {
	c := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	old := now
	now = func() time.Time { return c.t }
	t.Cleanup(func() { now = old })
	return c
}

func TestNotebookReporterThrottleAndIDs(t *testing.T) {
	clk := useFakeClock(t)
	s := &recSink{}
	defer SetSink(s)()
	r := NewReporter("train dw4")
	// 10 reports 100 ms apart: drawn at t=0 and t=500ms only (at most twice a second).
	for i := range 10 {
		r.Report(Progress{Step: i + 1, Steps: 100, Loss: 10 / float64(i+1)})
		clk.advance(100 * time.Millisecond)
	}
	if len(s.got) != 2 {
		t.Fatalf("got %d displays after 10 reports over 1 s, want 2", len(s.got))
	}
	// The final report is always drawn, even right after a redraw.
	r.Finish(Progress{Step: 100, Steps: 100, Loss: 0.5})
	r.Report(Progress{Step: 101}) // after Finish: ignored
	if len(s.got) != 3 {
		t.Fatalf("got %d displays, want 3 (final drawn, later reports ignored)", len(s.got))
	}
	id := s.got[0].id
	if id == "" {
		t.Fatal("progress display has no id")
	}
	for i, g := range s.got {
		if g.id != id {
			t.Errorf("display %d id %q, want %q", i, g.id, id)
		}
		if g.update != (i > 0) {
			t.Errorf("display %d update=%v, want %v", i, g.update, i > 0)
		}
		h, _ := g.b.Data[MIMEHTML].(string)
		txt, _ := g.b.Data[MIMEText].(string)
		if h == "" || txt == "" {
			t.Fatalf("display %d lacks html or text: %v", i, g.b.Data)
		}
		if !strings.Contains(txt, "train dw4") {
			t.Errorf("display %d text %q lacks the task", i, txt)
		}
	}
	final := s.got[2].b.Data[MIMEHTML].(string)
	for _, want := range []string{"done", "100%", "<svg", "polyline", "0.5"} {
		if !strings.Contains(final, want) {
			t.Errorf("final html lacks %q: %s", want, final)
		}
	}
	if !strings.HasSuffix(s.got[2].b.Data[MIMEText].(string), "done") {
		t.Errorf("final text: %q", s.got[2].b.Data[MIMEText])
	}
	// The HTML is well-formed XML (a fragment inside one root element).
	if err := xml.Unmarshal([]byte(final), new(struct{})); err != nil {
		t.Errorf("final html is not well formed: %v", err)
	}
}

func TestProgressHTMLFields(t *testing.T) {
	p := Progress{Task: "mcmc <lj13>", Device: "cuda:0", Epoch: 3, Epochs: 10, Loss: 1.25,
		EvalsPerStep: 64, SamplesPerSec: 1234, ETA: 90 * time.Second, Extra: map[string]float64{"w2": 0.5}}
	h := ProgressHTML(p, "")
	for _, want := range []string{"mcmc &lt;lj13&gt;", "3/10", "1.25", "64", "1234", "1m30s", "cuda:0", "w2", "30%"} {
		if !strings.Contains(h, want) {
			t.Errorf("html lacks %q: %s", want, h)
		}
	}
	if strings.Contains(h, "<lj13>") {
		t.Error("task name not escaped")
	}
	// A final report short of the total reads as stopped, a complete one as done.
	p.Done = true
	if h := ProgressHTML(p, ""); !strings.Contains(h, "stopped") || strings.Contains(h, "done") {
		t.Errorf("interrupted run: %s", h)
	}
	p.Epoch = 10
	if h := ProgressHTML(p, ""); strings.Contains(h, "stopped") || !strings.Contains(h, "done") {
		t.Errorf("complete run: %s", h)
	}
}

func TestLossHistoryBounded(t *testing.T) {
	tests := []struct{ n, limit int }{{10, 16}, {1000, 16}, {100000, 256}}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			h := newLossHistory(tc.limit)
			for i := range tc.n {
				h.add(float64(i), 1/float64(i+1))
			}
			if len(h.xs) >= tc.limit || len(h.xs) != len(h.ys) {
				t.Fatalf("kept %d points, limit %d", len(h.xs), tc.limit)
			}
			if tc.n > tc.limit && len(h.xs) < tc.limit/2-1 {
				t.Fatalf("kept only %d points of %d, limit %d", len(h.xs), tc.n, tc.limit)
			}
			if h.xs[0] != 0 {
				t.Errorf("first point %g, want 0", h.xs[0])
			}
			// Points stay ordered and span most of the run.
			for i := 1; i < len(h.xs); i++ {
				if h.xs[i] <= h.xs[i-1] {
					t.Fatalf("points out of order at %d: %v", i, h.xs)
				}
			}
			if last := h.xs[len(h.xs)-1]; last < 0.5*float64(tc.n-1) {
				t.Errorf("last kept point %g of %d reports", last, tc.n)
			}
			svg := h.sparkline(100, 30)
			if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
				t.Fatalf("sparkline is not XML: %v\n%s", err, svg)
			}
			pts := svg[strings.Index(svg, `points="`):]
			want := len(h.xs)
			if h.xs[len(h.xs)-1] != float64(tc.n-1) {
				want++ // the latest loss is always drawn
			}
			if got := strings.Count(pts, ","); got != want {
				t.Errorf("sparkline has %d points, want %d", got, want)
			}
			if last := fmt.Sprintf("→ %.3g<", 1/float64(tc.n)); !strings.Contains(svg, last) {
				t.Errorf("sparkline label lacks the latest loss %q: %s", last, svg)
			}
		})
	}
}

func TestReportersConcurrent(t *testing.T) {
	s := &recSink{}
	defer SetSink(s)()
	var buf strings.Builder
	ws := NewWriterSink(&lockedWriter{b: &buf}, true)
	for _, r := range []Reporter{NewReporter("nb"), ws.NewReporter("bar"), NewWriterSink(&lockedWriter{b: &buf}, false).NewReporter("log")} {
		done := make(chan bool)
		for g := range 4 {
			go func() {
				for i := range 200 {
					r.Report(Progress{Step: g*200 + i, Steps: 800, Loss: float64(i + 1)})
				}
				done <- true
			}()
		}
		for range 4 {
			<-done
		}
		r.Finish(Progress{Step: 800, Steps: 800, Loss: 1})
	}
	if len(s.got) == 0 || !s.got[len(s.got)-1].update {
		t.Fatalf("notebook view: %d displays", len(s.got))
	}
	if !strings.Contains(buf.String(), "bar [") || !strings.Contains(buf.String(), "log step 800/800 loss 1 done") {
		t.Errorf("terminal output: %q", buf.String())
	}
}

type lockedWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

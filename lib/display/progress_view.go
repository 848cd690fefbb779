package display

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// defaultReporter shows progress as one updatable display, redrawn at most twice a second.
type defaultReporter struct {
	mu   sync.Mutex
	sink Sink
	id   string
	last time.Time
	task string
	n    int
}

func newDefaultReporter(s Sink, task string) *defaultReporter {
	return &defaultReporter{sink: s, id: NewID(), task: task}
}

func (r *defaultReporter) Report(p Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.last) < 500*time.Millisecond && r.n > 0 {
		return
	}
	r.draw(p)
}

func (r *defaultReporter) Finish(p Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p.Done = true
	r.draw(p)
}

func (r *defaultReporter) draw(p Progress) {
	if p.Task == "" {
		p.Task = r.task
	}
	r.sink.Display(Text(FormatProgress(p)), r.id, r.n > 0)
	r.n++
	r.last = time.Now()
}

// FormatProgress renders a report as one line of text.
func FormatProgress(p Progress) string {
	var b strings.Builder
	b.WriteString(p.Task)
	if p.Epochs > 0 {
		fmt.Fprintf(&b, " epoch %d/%d", p.Epoch, p.Epochs)
	} else if p.Epoch > 0 {
		fmt.Fprintf(&b, " epoch %d", p.Epoch)
	}
	if p.Steps > 0 {
		fmt.Fprintf(&b, " step %d/%d", p.Step, p.Steps)
	} else if p.Step > 0 {
		fmt.Fprintf(&b, " step %d", p.Step)
	}
	if p.Loss != 0 {
		fmt.Fprintf(&b, " loss %.4g", p.Loss)
	}
	if p.EvalsPerStep != 0 {
		fmt.Fprintf(&b, " evals/step %.3g", p.EvalsPerStep)
	}
	if p.SamplesPerSec != 0 {
		fmt.Fprintf(&b, " %.0f samples/s", p.SamplesPerSec)
	}
	keys := make([]string, 0, len(p.Extra))
	for k := range p.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s %.4g", k, p.Extra[k])
	}
	if p.Elapsed > 0 {
		fmt.Fprintf(&b, " elapsed %s", p.Elapsed.Round(time.Second))
	}
	if p.ETA > 0 && !p.Done {
		fmt.Fprintf(&b, " ETA %s", p.ETA.Round(time.Second))
	}
	if p.Device != "" {
		fmt.Fprintf(&b, " [%s]", p.Device)
	}
	if p.Done {
		b.WriteString(" done")
	}
	return b.String()
}

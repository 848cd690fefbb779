package display

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
)

// now is the clock of the progress views (tests replace it).
var now = time.Now

// NotebookInterval is the shortest time between two redraws of the notebook progress view.
const NotebookInterval = 500 * time.Millisecond

// fraction returns how far the task is, in [0, 1], and whether that is known.
func fraction(p Progress) (float64, bool) {
	switch {
	case p.Steps > 0:
		return math.Min(1, math.Max(0, float64(p.Step)/float64(p.Steps))), true
	case p.Epochs > 0:
		return math.Min(1, math.Max(0, float64(p.Epoch)/float64(p.Epochs))), true
	}
	return 0, false
}

// lossHistory keeps a bounded, evenly thinned history of the loss: when it is full, every other
// point is dropped and only every stride-th later report is kept.
type lossHistory struct {
	xs, ys []float64
	stride int // keep one report in stride
	seen   int // reports offered
	limit  int // maximal number of points kept
	// the latest point, drawn even when thinning skipped it
	lastX, lastY float64
}

func newLossHistory(limit int) *lossHistory { return &lossHistory{stride: 1, limit: limit} }

func (h *lossHistory) add(x, y float64) {
	if math.IsNaN(y) || math.IsInf(y, 0) {
		return
	}
	h.seen++
	h.lastX, h.lastY = x, y
	if (h.seen-1)%h.stride != 0 {
		return
	}
	h.xs = append(h.xs, x)
	h.ys = append(h.ys, y)
	if len(h.xs) >= h.limit {
		n := 0
		for i := 0; i < len(h.xs); i += 2 {
			h.xs[n], h.ys[n] = h.xs[i], h.ys[i]
			n++
		}
		h.xs, h.ys = h.xs[:n], h.ys[:n]
		h.stride *= 2
	}
}

// sparkline draws the history as a small inline SVG line chart (log axis when every loss is
// positive), labelled with the last and the lowest value.
func (h *lossHistory) sparkline(width, height int) string {
	xs, ys := h.xs, h.ys
	if n := len(xs); n > 0 && xs[n-1] != h.lastX {
		xs = append(xs[:n:n], h.lastX)
		ys = append(ys[:n:n], h.lastY)
	}
	if len(ys) < 2 {
		return ""
	}
	logY := true
	for _, y := range ys {
		if y <= 0 {
			logY = false
			break
		}
	}
	tf := func(y float64) float64 {
		if logY {
			return math.Log10(y)
		}
		return y
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, y := range ys {
		lo, hi = math.Min(lo, tf(y)), math.Max(hi, tf(y))
	}
	if hi == lo {
		hi, lo = hi+0.5, lo-0.5
	}
	x0, x1 := xs[0], xs[len(xs)-1]
	if x1 == x0 {
		x1 = x0 + 1
	}
	const pad = 3
	w, ht := float64(width-2*pad), float64(height-2*pad)
	var pts strings.Builder
	for i := range xs {
		px := pad + (xs[i]-x0)/(x1-x0)*w
		py := pad + (hi-tf(ys[i]))/(hi-lo)*ht
		fmt.Fprintf(&pts, "%.1f,%.1f ", px, py)
	}
	minY := ys[0]
	for _, y := range ys {
		minY = math.Min(minY, y)
	}
	scale := "linear"
	if logY {
		scale = "log"
	}
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" style="background:#fafafa;border:1px solid #ddd">`+
		`<title>loss (%s axis): last %.4g, min %.4g</title>`+
		`<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="%s"/>`+
		`<text x="%d" y="12" text-anchor="end" font-family="sans-serif" font-size="10" fill="#555">loss (%s) %.3g → %.3g</text></svg>`,
		width, height, width, height, scale, ys[len(ys)-1], minY, strings.TrimSpace(pts.String()),
		width-4, scale, ys[0], ys[len(ys)-1])
}

// notebookReporter shows progress as one updatable display (an HTML bar, the numbers and a loss
// sparkline, with a plain-text fallback), redrawn at most every NotebookInterval; the final
// report is always drawn.
type notebookReporter struct {
	mu       sync.Mutex
	sink     Sink
	id       string
	task     string
	last     time.Time
	draws    int
	finished bool
	hist     *lossHistory
	reports  int
}

func newDefaultReporter(s Sink, task string) *notebookReporter {
	return &notebookReporter{sink: s, id: NewID(), task: task, hist: newLossHistory(256)}
}

func (r *notebookReporter) record(p Progress) {
	r.reports++
	x := float64(r.reports)
	if p.Step > 0 {
		x = float64(p.Step)
	}
	if p.Loss != 0 {
		r.hist.add(x, p.Loss)
	}
}

// Report records p and redraws unless the last redraw is younger than NotebookInterval.
func (r *notebookReporter) Report(p Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return
	}
	r.record(p)
	if r.draws > 0 && now().Sub(r.last) < NotebookInterval {
		return
	}
	r.draw(p)
}

// Finish draws the final report.
func (r *notebookReporter) Finish(p Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return
	}
	r.finished = true
	p.Done = true
	r.record(p)
	r.draw(p)
}

func (r *notebookReporter) draw(p Progress) {
	if p.Task == "" {
		p.Task = r.task
	}
	r.sink.Display(HTMLBundle(ProgressHTML(p, r.hist.sparkline(320, 64)), FormatProgress(p)), r.id, r.draws > 0)
	r.draws++
	r.last = now()
}

// ProgressHTML renders a report as an HTML fragment: a title line, a progress bar and the
// numbers; extra, when not empty, is appended (the notebook view passes a loss sparkline).
func ProgressHTML(p Progress, extra string) string {
	var b strings.Builder
	b.WriteString(`<div style="font-family:sans-serif;font-size:13px;line-height:1.5;max-width:640px">`)
	f, known := fraction(p)
	stopped := p.Done && known && f < 1 // finished early: interrupted or stopped
	status := ""
	switch {
	case stopped:
		status = " — stopped"
	case p.Done:
		status = " — done"
	}
	fmt.Fprintf(&b, `<div><b>%s</b>%s</div>`, html.EscapeString(p.Task), status)
	if known {
		col := "#1f77b4"
		switch {
		case stopped:
			col = "#ff7f0e"
		case p.Done:
			col = "#2ca02c"
		}
		fmt.Fprintf(&b, `<div style="display:flex;align-items:center;gap:8px">`+
			`<div style="width:320px;height:12px;background:#e6e6e6;border-radius:3px;overflow:hidden">`+
			`<div style="width:%.1f%%;height:100%%;background:%s"></div></div><span>%.0f%%</span></div>`,
			100*f, col, 100*f)
	}
	var cells []string
	add := func(name, value string) {
		cells = append(cells, fmt.Sprintf(`<span style="margin-right:14px"><span style="color:#666">%s</span> %s</span>`,
			html.EscapeString(name), html.EscapeString(value)))
	}
	switch {
	case p.Epochs > 0:
		add("epoch", fmt.Sprintf("%d/%d", p.Epoch, p.Epochs))
	case p.Epoch > 0:
		add("epoch", fmt.Sprint(p.Epoch))
	}
	switch {
	case p.Steps > 0:
		add("step", fmt.Sprintf("%d/%d", p.Step, p.Steps))
	case p.Step > 0:
		add("step", fmt.Sprint(p.Step))
	}
	if p.Loss != 0 {
		add("loss", fmt.Sprintf("%.4g", p.Loss))
	}
	if p.EvalsPerStep != 0 {
		add("evals/step", fmt.Sprintf("%.3g", p.EvalsPerStep))
	}
	if p.SamplesPerSec != 0 {
		add("samples/s", fmt.Sprintf("%.0f", p.SamplesPerSec))
	}
	keys := make([]string, 0, len(p.Extra))
	for k := range p.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		add(k, fmt.Sprintf("%.4g", p.Extra[k]))
	}
	if p.Elapsed > 0 {
		add("elapsed", p.Elapsed.Round(time.Second).String())
	}
	if p.ETA > 0 && !p.Done {
		add("ETA", p.ETA.Round(time.Second).String())
	}
	if p.Device != "" {
		add("device", p.Device)
	}
	if len(cells) > 0 {
		fmt.Fprintf(&b, `<div>%s</div>`, strings.Join(cells, ""))
	}
	if extra != "" {
		fmt.Fprintf(&b, `<div>%s</div>`, extra)
	}
	b.WriteString(`</div>`)
	return b.String()
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

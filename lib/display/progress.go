package display

import (
	"time"
)

// Progress is one report of a long-running library task (training, MCMC, evaluation).
// Zero fields are unknown and left out of the views.
type Progress struct {
	Task          string             // what runs, e.g. "train dw4"
	Device        string             // compute device, e.g. "cpu (2 threads)"
	Epoch, Epochs int                // current epoch (1-based) and total (0: unknown)
	Step, Steps   int                // gradient steps done and total (0: unknown)
	Loss          float64            // latest training loss
	EvalsPerStep  float64            // energy evaluations per gradient step so far
	SamplesPerSec float64            // throughput
	Elapsed       time.Duration      // wall time so far
	ETA           time.Duration      // estimated time left (0: unknown)
	Extra         map[string]float64 // further named values (shown in name order)
	Done          bool               // the final report
}

// Reporter receives progress reports. Report may be called as often as the task likes: views
// throttle their redraws. Finish is called once with the final report.
type Reporter interface {
	Report(p Progress)
	Finish(p Progress)
}

// ProgressSink is implemented by sinks that choose their own progress view (a terminal bar, a
// notebook widget). Sinks without it get the default view of NewReporter.
type ProgressSink interface {
	NewReporter(task string) Reporter
}

// NewNotebookReporter returns the default progress view on s, whatever s is: one updatable
// display (an HTML bar with the numbers and a loss sparkline, and a plain-text line), redrawn at
// most every NotebookInterval. Sinks that choose their own view may combine it with others.
func NewNotebookReporter(s Sink, task string) Reporter { return newDefaultReporter(s, task) }

// NewReporter returns a progress view for a task on the current sink.
func NewReporter(task string) Reporter {
	s := Current()
	if ps, ok := s.(ProgressSink); ok {
		return ps.NewReporter(task)
	}
	return newDefaultReporter(s, task)
}

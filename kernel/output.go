package kernel

import (
	"encoding/json"
	"strings"
	"sync"
	"time"

	"adjoint/lib/display"
)

// cellOutput publishes one cell's output on iopub with the cell's request as parent, also for
// goroutines of the cell that write after it ended. Stream text is coalesced: it is held until
// StreamFlushInterval passes, StreamFlushBytes accumulate, the other stream is written, or
// something else is displayed, so that the order of everything published is kept.
type cellOutput struct {
	k      *Kernel
	parent json.RawMessage

	mu      sync.Mutex
	name    string // stream of the pending text
	pending strings.Builder
	timer   *time.Timer
}

func newCellOutput(k *Kernel, parent json.RawMessage) *cellOutput {
	return &cellOutput{k: k, parent: parent}
}

// Stream implements Output.
func (o *cellOutput) Stream(name, text string) {
	if text == "" {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.pending.Len() > 0 && name != o.name {
		o.flushLocked()
	}
	o.name = name
	o.pending.WriteString(text)
	if o.pending.Len() >= o.k.opts.StreamFlushBytes {
		o.flushLocked()
		return
	}
	if o.timer == nil {
		o.timer = time.AfterFunc(o.k.opts.StreamFlushInterval, o.Flush)
	}
}

// Display implements Output.
func (o *cellOutput) Display(b display.Bundle, id string, update bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flushLocked()
	data, md := b.Data, b.Metadata
	if data == nil {
		data = map[string]any{}
	}
	if md == nil {
		md = map[string]any{}
	}
	content := map[string]any{"data": data, "metadata": md, "transient": map[string]any{}}
	if id != "" {
		content["transient"] = map[string]any{"display_id": id}
	}
	msgType := "display_data"
	if update && id != "" {
		msgType = "update_display_data"
	}
	o.k.publish(o.parent, msgType, content)
}

// Clear implements Output.
func (o *cellOutput) Clear(wait bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flushLocked()
	o.k.publish(o.parent, "clear_output", map[string]any{"wait": wait})
}

// Flush publishes pending stream text now.
func (o *cellOutput) Flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flushLocked()
}

func (o *cellOutput) flushLocked() {
	if o.timer != nil {
		o.timer.Stop()
		o.timer = nil
	}
	if o.pending.Len() == 0 {
		return
	}
	o.k.publish(o.parent, "stream", map[string]any{"name": o.name, "text": o.pending.String()})
	o.pending.Reset()
}

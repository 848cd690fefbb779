package worker

import (
	"bytes"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The Go runtime reports "all goroutines are asleep" only when no goroutine of the process
// could ever run again; a worker always has goroutines waiting on its pipes, so it never does.
// The watchdog here finds the same condition among the goroutines of cells instead: every
// goroutine that was not there when the worker became ready is blocked on a channel, a select
// or a sync primitive, at least one of them runs cell code, none of them changed for a while,
// and no timer that a cell set is pending (so the clock cannot wake them either).

// blockedStates are the goroutine states that only another goroutine (or a timer) can end.
var blockedStates = map[string]bool{
	"chan receive": true, "chan send": true, "select": true, "select (no cases)": true,
	"chan receive (nil chan)": true, "chan send (nil chan)": true,
	"sync.Mutex.Lock": true, "sync.RWMutex.Lock": true, "sync.RWMutex.RLock": true,
	"sync.WaitGroup.Wait": true, "sync.Cond.Wait": true, "semacquire": true,
}

// goroutine is one entry of a full stack dump.
type goroutine struct {
	id    int
	state string
	cell  bool   // runs interpreted code
	where string // the first frame
}

// dumpGoroutines parses runtime.Stack(all).
func dumpGoroutines() []goroutine {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) || len(buf) >= 64<<20 {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var gs []goroutine
	for _, block := range bytes.Split(buf, []byte("\n\n")) {
		head, rest, _ := bytes.Cut(block, []byte("\n"))
		h := string(head)
		if !strings.HasPrefix(h, "goroutine ") {
			continue
		}
		idStr, st, ok := strings.Cut(strings.TrimPrefix(h, "goroutine "), " [")
		if !ok {
			continue
		}
		id, err := strconv.Atoi(idStr)
		if err != nil {
			continue
		}
		st = strings.TrimSuffix(st, "]:")
		if k := strings.Index(st, ", "); k >= 0 {
			st = st[:k]
		}
		first, _, _ := bytes.Cut(rest, []byte("\n"))
		gs = append(gs, goroutine{id: id, state: st, where: string(first),
			cell: bytes.Contains(rest, []byte("github.com/traefik/yaegi/interp."))})
	}
	return gs
}

// deadlockWatch samples the goroutines while a cell runs.
type deadlockWatch struct {
	baseline map[int]bool
	sig      string
	since    time.Time
}

func newDeadlockWatch() *deadlockWatch {
	w := &deadlockWatch{baseline: map[int]bool{}}
	for _, g := range dumpGoroutines() {
		w.baseline[g.id] = true
	}
	return w
}

// reset forgets the last sample (a new cell started).
func (w *deadlockWatch) reset() { w.sig = "" }

// check takes a sample; it returns a description of the deadlock once the same deadlocked
// picture has lasted for the given time.
func (w *deadlockWatch) check(now time.Time, after time.Duration, wakeupPending bool) string {
	var parts []string
	states := map[string]int{}
	cells := 0
	deadlocked := !wakeupPending
	for _, g := range dumpGoroutines() {
		if w.baseline[g.id] || g.state == "running" && !g.cell {
			continue // the worker's own goroutines, and this one
		}
		if !blockedStates[g.state] {
			deadlocked = false
			break
		}
		if g.cell {
			cells++
			states[g.state]++
		}
		parts = append(parts, fmt.Sprintf("%d %s %s", g.id, g.state, g.where))
	}
	if !deadlocked || cells == 0 {
		w.sig = ""
		return ""
	}
	sort.Strings(parts)
	sig := strings.Join(parts, "\n")
	if sig != w.sig {
		w.sig, w.since = sig, now
		return ""
	}
	if now.Sub(w.since) < after {
		return ""
	}
	names := make([]string, 0, len(states))
	for st, n := range states {
		names = append(names, fmt.Sprintf("%d in %s", n, st))
	}
	sort.Strings(names)
	return fmt.Sprintf("deadlock: all goroutines of the cell are blocked (%s) and nothing can wake them",
		strings.Join(names, ", "))
}

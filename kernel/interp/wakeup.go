package interp

import (
	"context"
	"reflect"
	"sync"
	"time"

	yaegi "github.com/traefik/yaegi/interp"
)

// wakeups records the timers that cells set (time.After, time.NewTimer, time.AfterFunc,
// context.WithTimeout, context.WithDeadline) and whether they started tickers, so that a
// watchdog can tell a cell that waits for the clock from one that waits for nothing.
type wakeups struct {
	mu       sync.Mutex
	deadline time.Time
	ticking  bool
}

func (w *wakeups) at(t time.Time) {
	w.mu.Lock()
	if t.After(w.deadline) {
		w.deadline = t
	}
	w.mu.Unlock()
}

func (w *wakeups) tick() {
	w.mu.Lock()
	w.ticking = true
	w.mu.Unlock()
}

// WakeupPending reports whether a timer or ticker that a cell set may still fire, so that
// goroutines blocked on channels may yet be woken by the clock.
func (i *Interp) WakeupPending() bool {
	i.wake.mu.Lock()
	defer i.wake.mu.Unlock()
	return i.wake.ticking || time.Now().Before(i.wake.deadline)
}

// Busy reports whether code of a cell is still running (for example compiled code that an
// interrupt could not stop).
func (i *Interp) Busy() bool { return len(i.sem) > 0 }

// timeExports wrap the functions of time and context that set timers, to record them.
func (i *Interp) timeExports() yaegi.Exports {
	w := &i.wake
	return yaegi.Exports{
		"time/time": {
			"After": reflect.ValueOf(func(d time.Duration) <-chan time.Time {
				w.at(time.Now().Add(d))
				return time.After(d)
			}),
			"NewTimer": reflect.ValueOf(func(d time.Duration) *time.Timer {
				w.at(time.Now().Add(d))
				return time.NewTimer(d)
			}),
			"AfterFunc": reflect.ValueOf(func(d time.Duration, f func()) *time.Timer {
				w.at(time.Now().Add(d))
				return time.AfterFunc(d, f)
			}),
			"Tick": reflect.ValueOf(func(d time.Duration) <-chan time.Time {
				w.tick()
				return time.Tick(d)
			}),
			"NewTicker": reflect.ValueOf(func(d time.Duration) *time.Ticker {
				w.tick()
				return time.NewTicker(d)
			}),
		},
		"context/context": {
			"WithTimeout": reflect.ValueOf(func(p context.Context, d time.Duration) (context.Context, context.CancelFunc) {
				w.at(time.Now().Add(d))
				return context.WithTimeout(p, d)
			}),
			"WithDeadline": reflect.ValueOf(func(p context.Context, t time.Time) (context.Context, context.CancelFunc) {
				w.at(t)
				return context.WithDeadline(p, t)
			}),
		},
	}
}

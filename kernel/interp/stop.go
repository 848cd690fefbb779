package interp

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	yaegi "github.com/traefik/yaegi/interp"
)

// yaegi (v0.16.1, pinned in go.mod) cancels running code by advancing a run id that every
// interpreted step compares, and by closing a channel that blocking channel operations select
// on. Both happen only when the context given to ExecuteWithContext is cancelled, and then
// ExecuteWithContext returns at once, while the code may still run. To both stop a cell and know
// when it has really stopped, cells run under ExecuteWithContext with a context that is never
// cancelled, and an interrupt performs yaegi's stop directly through the interpreter's fields.
// Should the fields ever be missing (another yaegi version), a fallback triggers the stop by
// cancelling a short program; it cannot wake a cell blocked on a channel.

// stopper holds pointers to the interpreter's run id, its lock and its cancellation channel.
type stopper struct {
	id    *uint64
	mutex *sync.RWMutex
	done  *chan struct{}
}

func newStopper(yi *yaegi.Interpreter) *stopper {
	v := reflect.ValueOf(yi).Elem()
	id := v.FieldByName("id")
	mu := v.FieldByName("mutex")
	done := v.FieldByName("done")
	if !id.IsValid() || id.Kind() != reflect.Uint64 ||
		!mu.IsValid() || mu.Type() != reflect.TypeOf(sync.RWMutex{}) ||
		!done.IsValid() || done.Type() != reflect.TypeOf(make(chan struct{})) {
		return nil
	}
	return &stopper{
		id:    (*uint64)(unsafe.Pointer(id.UnsafeAddr())),
		mutex: (*sync.RWMutex)(unsafe.Pointer(mu.UnsafeAddr())),
		done:  (*chan struct{})(unsafe.Pointer(done.UnsafeAddr())),
	}
}

// stop does what yaegi's own stop does: advance the run id, close the cancellation channel.
func (s *stopper) stop() {
	atomic.AddUint64(s.id, 1)
	s.mutex.RLock()
	c := *s.done
	s.mutex.RUnlock()
	defer func() { recover() }() // already closed
	if c != nil {
		close(c)
	}
}

// stop makes the running cell stop at its next interpreted step or blocking channel operation.
func (i *Interp) stop() {
	if i.stopper != nil {
		i.stopper.stop()
		return
	}
	i.stopByNap()
}

// stopByNap is the fallback: it runs a short program (a sleep) under a context that it cancels
// while the program sleeps; the sleep has then reset the run id of the global frame, on which
// the cell runs, before the stop advances it.
func (i *Interp) stopByNap() {
	c, cancel := context.WithCancel(context.Background())
	i.napDone = make(chan struct{})
	napDone := i.napDone
	go func() {
		defer func() { recover() }()
		i.yi.ExecuteWithContext(c, i.napper)
	}()
	time.Sleep(40 * time.Millisecond)
	cancel()
	select {
	case <-napDone:
	case <-time.After(300 * time.Millisecond):
	}
}

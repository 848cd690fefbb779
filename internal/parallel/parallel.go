// Package parallel runs work over contiguous ranges of items on a pool of long-lived
// goroutines: the one parallel-for of the module (batched energies, Markov chains, tensor
// kernels).
//
// Work is split into p ranges [w·n/p, (w+1)·n/p); the calling goroutine runs range 0 and, while
// it waits for the others, any queued range, so calls may nest without deadlock. Results that
// depend only on the range (not on which goroutine runs it) are independent of scheduling.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Job is work over a range of items; part numbers the range (0 ≤ part < p), for per-range
// partial results.
type Job interface {
	Run(part, lo, hi int)
}

type task struct {
	job          Job
	part, lo, hi int
	wg           *sync.WaitGroup
}

func (t task) run() {
	t.job.Run(t.part, t.lo, t.hi)
	t.wg.Done()
}

// The pool: goroutines that run queued ranges.
var pool struct {
	mu      sync.Mutex
	started atomic.Int32
	tasks   chan task
}

func ensurePool(n int) {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	if pool.tasks == nil {
		pool.tasks = make(chan task, 256)
	}
	for int(pool.started.Load()) < n {
		pool.started.Add(1)
		go func() {
			for t := range pool.tasks {
				t.run()
			}
		}()
	}
}

// Run splits [0, n) into p contiguous ranges (at most n) and runs job on them concurrently,
// returning when all are done. wg is the caller's wait group, idle on entry and on return
// (callers that reuse one dispatch without allocating).
func Run(n, p int, job Job, wg *sync.WaitGroup) {
	p = min(p, n)
	if p <= 1 {
		if n > 0 {
			job.Run(0, 0, n)
		}
		return
	}
	if int(pool.started.Load()) < p-1 {
		ensurePool(p - 1)
	}
	wg.Add(p - 1)
	for w := 1; w < p; w++ {
		t := task{job: job, part: w, lo: w * n / p, hi: (w + 1) * n / p, wg: wg}
		select {
		case pool.tasks <- t:
		default:
			t.run() // queue full: run it here
		}
	}
	job.Run(0, 0, n/p)
	// Run queued ranges (this call's or others') until the queue is empty: the ranges of this
	// call are then all running, so waiting for them cannot deadlock.
	for {
		select {
		case t := <-pool.tasks:
			t.run()
			continue
		default:
		}
		break
	}
	wg.Wait()
}

type funcJob func(lo, hi int)

func (f funcJob) Run(_, lo, hi int) { f(lo, hi) }

// For calls fn(lo, hi) over p contiguous ranges covering [0, n), concurrently (p ≤ 1: one call
// on the calling goroutine).
func For(n, p int, fn func(lo, hi int)) {
	if p <= 1 || n < 2 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	Run(n, p, funcJob(fn), &wg)
}

// Ranges is how many ranges to split n items of cost work each into: one when n·work is below
// minWork (a goroutine would cost more than it saves), otherwise min(GOMAXPROCS, n).
func Ranges(n, work, minWork int) int {
	if n < 2 || n*work < minWork {
		return 1
	}
	return min(runtime.GOMAXPROCS(0), n)
}

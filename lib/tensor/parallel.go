package tensor

import (
	"runtime"
	"sync"
	"sync/atomic"
)

var workers atomic.Int32

// SetWorkers sets how many goroutines the operations split their work over (n < 1 restores
// the default, GOMAXPROCS).
func SetWorkers(n int) {
	if n < 1 {
		n = 0
	}
	workers.Store(int32(n))
}

// Workers is the number of goroutines the operations split their work over.
func Workers() int {
	if w := int(workers.Load()); w > 0 {
		return w
	}
	return runtime.GOMAXPROCS(0)
}

// chunks is how many pieces to split n items of cost work each into.
func chunks(n, work int) int {
	w := Workers()
	if w > n {
		w = n
	}
	// Below ~32k scalar operations a goroutine costs more than it saves.
	if n*work < 32768 || w < 1 {
		return 1
	}
	return w
}

// parallelFor splits [0, n) into at most Workers() contiguous ranges and calls fn(part, lo, hi)
// for each, concurrently; part is the index of the range (for per-worker partial sums).
// work is a rough cost per item used to decide whether splitting pays.
func parallelFor(n, work int, fn func(part, lo, hi int)) int {
	p := chunks(n, work)
	if p <= 1 {
		if n > 0 {
			fn(0, 0, n)
		}
		return 1
	}
	var wg sync.WaitGroup
	wg.Add(p - 1)
	for w := 1; w < p; w++ {
		lo, hi := w*n/p, (w+1)*n/p
		go func() {
			defer wg.Done()
			fn(w, lo, hi)
		}()
	}
	fn(0, 0, n/p)
	wg.Wait()
	return p
}

package energy

import (
	"runtime"
	"sync"
)

// parallelMinWork is the number of pair interactions below which a batch runs on one goroutine.
const parallelMinWork = 1 << 14

// forBatch calls fn(lo, hi) over disjoint ranges covering [0, b). When b·work is large it splits
// the range over GOMAXPROCS goroutines; every configuration is computed by the same code on its
// own slice of the output, so the results do not depend on scheduling.
func forBatch(b, work int, fn func(lo, hi int)) {
	p := runtime.GOMAXPROCS(0)
	if p < 2 || b < 2 || b*work < parallelMinWork {
		fn(0, b)
		return
	}
	p = min(p, b)
	var wg sync.WaitGroup
	chunk := (b + p - 1) / p
	for lo := 0; lo < b; lo += chunk {
		hi := min(lo+chunk, b)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

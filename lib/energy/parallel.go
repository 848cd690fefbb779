package energy

import "adjoint/internal/parallel"

// parallelMinWork is the number of pair interactions below which a batch runs on one goroutine.
const parallelMinWork = 1 << 14

// forBatch calls fn(lo, hi) over disjoint ranges covering [0, b). When b·work is large it splits
// the range over the cores; every configuration is computed by the same code on its own slice
// of the output, so the results do not depend on scheduling.
func forBatch(b, work int, fn func(lo, hi int)) {
	parallel.For(b, parallel.Ranges(b, work, parallelMinWork), fn)
}

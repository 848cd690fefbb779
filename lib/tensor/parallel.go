package tensor

import (
	"runtime"
	"sync/atomic"
	"unsafe"

	"adjoint/internal/parallel"
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

// rangeJob is one operation's kernel over a range of rows; part numbers the range (for
// per-range partial sums). Jobs live in their Tape and are reused, so dispatching one
// allocates nothing.
type rangeJob = parallel.Job

// par splits [0, n) into at most Workers() contiguous ranges and runs j on them concurrently
// (the calling goroutine takes the first range). work is a rough cost per item used to decide
// whether splitting pays; chunks(n, work) is the number of ranges.
func (tp *Tape) par(n, work int, j rangeJob) {
	parallel.Run(n, chunks(n, work), j, &tp.wg)
}

// jobSet holds one reusable job per parallel kernel.
type jobSet[T float] struct {
	linFwd  linFwdJob[T]
	linBwd  linBwdJob[T]
	actFwd  actFwdJob[T]
	actBwd  actBwdJob[T]
	ecFwd   ecFwdJob[T]
	ecBwd   ecBwdJob[T]
	gateFwd gateFwdJob[T]
	gateBwd gateBwdJob[T]
	dtFwd   dtFwdJob[T]
	dtBwd   dtBwdJob[T]
	spFwd   spFwdJob[T]
	spBwd   spBwdJob[T]
}

// jobsFor returns the tape's jobs in the element type T.
func jobsFor[T float](tp *Tape) *jobSet[T] {
	var z T
	if unsafe.Sizeof(z) == 4 {
		if tp.j32 == nil {
			tp.j32 = new(jobSet[float32])
		}
		return (*jobSet[T])(unsafe.Pointer(tp.j32))
	}
	if tp.j64 == nil {
		tp.j64 = new(jobSet[float64])
	}
	return (*jobSet[T])(unsafe.Pointer(tp.j64))
}

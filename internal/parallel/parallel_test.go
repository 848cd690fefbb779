package parallel

import (
	"sync"
	"sync/atomic"
	"testing"
)

type countJob struct {
	hits  []atomic.Int32
	parts []atomic.Int32
}

func (j *countJob) Run(part, lo, hi int) {
	j.parts[part].Add(1)
	for i := lo; i < hi; i++ {
		j.hits[i].Add(1)
	}
}

// TestRunCoversOnce: every item is visited exactly once and every part runs once.
func TestRunCoversOnce(t *testing.T) {
	for _, c := range []struct{ n, p int }{{0, 4}, {1, 4}, {5, 1}, {5, 3}, {7, 7}, {3, 9}, {1000, 16}} {
		j := &countJob{hits: make([]atomic.Int32, c.n), parts: make([]atomic.Int32, max(c.p, 1))}
		var wg sync.WaitGroup
		Run(c.n, c.p, j, &wg)
		for i := range j.hits {
			if v := j.hits[i].Load(); v != 1 {
				t.Fatalf("n %d p %d: item %d visited %d times", c.n, c.p, i, v)
			}
		}
		used := max(min(c.n, c.p), 1) // ranges that run when there is work
		for w := range j.parts {
			want := int32(0)
			if c.n > 0 && w < used {
				want = 1
			}
			if v := j.parts[w].Load(); v != want {
				t.Fatalf("n %d p %d: part %d ran %d times, want %d", c.n, c.p, w, v, want)
			}
		}
	}
}

// TestNestedFor: calls nested three deep, with more ranges than the pool's queue holds, finish
// (a pool that waited without helping could deadlock here) and cover every item once.
func TestNestedFor(t *testing.T) {
	const a, b, c = 40, 30, 20
	var hits [a * b * c]atomic.Int32
	For(a, 40, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			For(b, 30, func(lo, hi int) {
				for j := lo; j < hi; j++ {
					For(c, 20, func(lo, hi int) {
						for k := lo; k < hi; k++ {
							hits[(i*b+j)*c+k].Add(1)
						}
					})
				}
			})
		}
	})
	for i := range hits {
		if v := hits[i].Load(); v != 1 {
			t.Fatalf("item %d visited %d times", i, v)
		}
	}
}

func TestRanges(t *testing.T) {
	for _, c := range []struct{ n, work, min, want int }{{1, 100, 0, 1}, {10, 1, 100, 1}, {0, 1, 0, 1}} {
		if got := Ranges(c.n, c.work, c.min); got != c.want {
			t.Errorf("Ranges(%d, %d, %d) = %d, want %d", c.n, c.work, c.min, got, c.want)
		}
	}
	if got := Ranges(1000, 1000, 10); got < 1 || got > 1000 {
		t.Errorf("Ranges(1000, 1000, 10) = %d", got)
	}
}

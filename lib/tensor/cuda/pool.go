package cuda

import (
	"errors"
	"fmt"
	"sort"
)

// allocator is the raw device allocator behind a pool (cuMemAlloc/cuMemFree on a GPU).
type allocator interface {
	alloc(bytes uint64) (uint64, error)
	free(ptr uint64) error
}

// PoolStats describes a device memory pool.
type PoolStats struct {
	// Gets counts requests; Hits were served from a free list, Misses called the allocator.
	Gets, Hits, Misses int
	// Reserved is the number of bytes obtained from the allocator and not released; InUse the
	// part handed out; Cached the part waiting in free lists.
	Reserved, InUse, Cached uint64
}

// minClass is the smallest block handed out (cuMemAlloc aligns to 256 bytes anyway).
const minClass = 512

// sizeClass rounds a request up to its class: powers of two up to 1 MiB, then quarter steps
// between powers of two (at most 25% waste for large tensors).
func sizeClass(bytes uint64) uint64 {
	if bytes <= minClass {
		return minClass
	}
	p := uint64(1)
	for p < bytes {
		p <<= 1
	}
	if p <= 1<<20 {
		return p
	}
	q := p / 8 // p/2 ≤ bytes' power of two below; steps of (p/2)/4
	return (bytes + q - 1) / q * q
}

// pool keeps freed device blocks in per-class free lists and reuses them. It is used from the
// device's own goroutine only.
type pool struct {
	a     allocator
	free  map[uint64][]uint64 // class → blocks
	live  map[uint64]uint64   // block → class, for blocks handed out
	stats PoolStats
}

func newPool(a allocator) *pool {
	return &pool{a: a, free: map[uint64][]uint64{}, live: map[uint64]uint64{}}
}

// get returns a block of at least bytes bytes and its class size. When the allocator fails,
// the cached blocks are released and the allocation is tried once more.
func (p *pool) get(bytes uint64) (uint64, uint64, error) {
	if bytes == 0 {
		bytes = 1
	}
	c := sizeClass(bytes)
	p.stats.Gets++
	if l := p.free[c]; len(l) > 0 {
		ptr := l[len(l)-1]
		p.free[c] = l[:len(l)-1]
		p.live[ptr] = c
		p.stats.Hits++
		p.stats.Cached -= c
		p.stats.InUse += c
		return ptr, c, nil
	}
	ptr, err := p.a.alloc(c)
	if err != nil && p.stats.Cached > 0 {
		if terr := p.trim(); terr != nil {
			return 0, 0, errors.Join(err, terr)
		}
		ptr, err = p.a.alloc(c)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("cuda: allocate %d bytes (pool: %d reserved, %d in use): %w", c, p.stats.Reserved, p.stats.InUse, err)
	}
	p.stats.Misses++
	p.live[ptr] = c
	p.stats.Reserved += c
	p.stats.InUse += c
	return ptr, c, nil
}

// put returns a block to its free list.
func (p *pool) put(ptr uint64) error {
	c, ok := p.live[ptr]
	if !ok {
		return fmt.Errorf("cuda: free of %#x, which the pool did not hand out (double free?)", ptr)
	}
	delete(p.live, ptr)
	p.free[c] = append(p.free[c], ptr)
	p.stats.InUse -= c
	p.stats.Cached += c
	return nil
}

// trim releases every cached block to the allocator.
func (p *pool) trim() error {
	var errs []error
	classes := make([]uint64, 0, len(p.free))
	for c := range p.free {
		classes = append(classes, c)
	}
	sort.Slice(classes, func(i, j int) bool { return classes[i] < classes[j] })
	for _, c := range classes {
		for _, ptr := range p.free[c] {
			if err := p.a.free(ptr); err != nil {
				errs = append(errs, err)
			}
			p.stats.Reserved -= c
			p.stats.Cached -= c
		}
		delete(p.free, c)
	}
	return errors.Join(errs...)
}

// release frees everything, cached and live (the device is closing).
func (p *pool) release() error {
	err := p.trim()
	var errs []error
	for ptr, c := range p.live {
		if e := p.a.free(ptr); e != nil {
			errs = append(errs, e)
		}
		p.stats.Reserved -= c
		p.stats.InUse -= c
	}
	clear(p.live)
	return errors.Join(err, errors.Join(errs...))
}

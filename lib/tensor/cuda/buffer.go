package cuda

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// Buffer is an array of float32 in device memory. A Buffer from Alloc owns its block until
// Free; Slice makes views that own nothing.
type Buffer struct {
	ptr   uint64
	n     int
	owned bool
	dev   *Device
}

// Ptr is the device address (CUdeviceptr).
func (b *Buffer) Ptr() uint64 { return ptrOf(b) }

// Len is the number of float32 elements (0 for nil).
func (b *Buffer) Len() int {
	if b == nil {
		return 0
	}
	return b.n
}

// Slice is a view of n elements starting at element off.
func (b *Buffer) Slice(off, n int) (*Buffer, error) {
	if b == nil || off < 0 || n < 0 || off+n > b.n {
		return nil, fmt.Errorf("cuda: slice [%d:%d] of a buffer of %d", off, off+n, b.Len())
	}
	return &Buffer{ptr: b.ptr + 4*uint64(off), n: n, dev: b.dev}, nil
}

// Alloc returns an uninitialised buffer of n float32 from the pool.
func (d *Device) Alloc(n int) (*Buffer, error) {
	if n < 0 {
		return nil, fmt.Errorf("cuda: Alloc(%d)", n)
	}
	var b *Buffer
	err := d.Do(func() error {
		p, _, err := d.pool.get(4 * uint64(n))
		if err != nil {
			return err
		}
		b = &Buffer{ptr: p, n: n, owned: true, dev: d}
		return nil
	})
	return b, err
}

// Zeros returns a buffer of n zeros.
func (d *Device) Zeros(n int) (*Buffer, error) {
	b, err := d.Alloc(n)
	if err != nil {
		return nil, err
	}
	if err := d.Zero(b); err != nil {
		_ = d.Free(b)
		return nil, err
	}
	return b, nil
}

// Upload copies host data into a new buffer.
func (d *Device) Upload(src []float32) (*Buffer, error) {
	b, err := d.Alloc(len(src))
	if err != nil {
		return nil, err
	}
	if err := d.CopyHtoD(b, src); err != nil {
		_ = d.Free(b)
		return nil, err
	}
	return b, nil
}

// Free returns a buffer's block to the pool (views are ignored). Work already queued on the
// stream that uses the block finishes before any later reuse, because reuse is queued after it.
func (d *Device) Free(b *Buffer) error {
	if b == nil {
		return nil
	}
	return d.release(&b.owned, b.dev, b.ptr)
}

// release returns an owned block at ptr of a buffer made on dev to the pool, once.
func (d *Device) release(owned *bool, dev *Device, ptr uint64) error {
	if !*owned {
		return nil
	}
	if dev != d {
		return errors.New("cuda: buffer freed on another device")
	}
	return d.Do(func() error {
		if !*owned {
			return nil
		}
		*owned = false
		return d.pool.put(ptr)
	})
}

// Zero sets every element of b to 0.
func (d *Device) Zero(b *Buffer) error {
	if b.Len() == 0 {
		return nil
	}
	return d.Do(func() error {
		if d.emu != nil {
			return d.emu.memset32(b.ptr, 0, b.n)
		}
		return d.drv.cuErr("cuMemsetD32_v2", sys(d.drv.cuMemsetD32, uintptr(b.ptr), 0, uintptr(b.n)))
	})
}

// CopyHtoD copies src into the first len(src) elements of dst.
func (d *Device) CopyHtoD(dst *Buffer, src []float32) error {
	if len(src) > dst.Len() {
		return fmt.Errorf("cuda: copy of %d floats into a buffer of %d", len(src), dst.n)
	}
	if len(src) == 0 {
		return nil
	}
	return d.Do(func() error {
		if d.emu != nil {
			return d.emu.htod(dst.ptr, src)
		}
		err := d.drv.cuErr("cuMemcpyHtoD_v2", sys(d.drv.cuMemcpyHtoD, uintptr(dst.ptr), uintptr(unsafe.Pointer(&src[0])), uintptr(4*len(src))))
		runtime.KeepAlive(src)
		return err
	})
}

// CopyDtoH waits for the stream and copies the first len(dst) elements of src into dst.
func (d *Device) CopyDtoH(dst []float32, src *Buffer) error {
	if len(dst) > src.Len() {
		return fmt.Errorf("cuda: copy of %d floats from a buffer of %d", len(dst), src.n)
	}
	if len(dst) == 0 {
		return nil
	}
	return d.Do(func() error {
		if d.emu != nil {
			return d.emu.dtoh(dst, src.ptr)
		}
		if err := d.drv.cuErr("cuStreamSynchronize", sys(d.drv.cuStreamSynchronize, d.stream)); err != nil {
			return err
		}
		err := d.drv.cuErr("cuMemcpyDtoH_v2", sys(d.drv.cuMemcpyDtoH, uintptr(unsafe.Pointer(&dst[0])), uintptr(src.ptr), uintptr(4*len(dst))))
		runtime.KeepAlive(dst)
		return err
	})
}

// CopyDtoD copies n elements from src to dst.
func (d *Device) CopyDtoD(dst, src *Buffer, n int) error {
	if n > dst.Len() || n > src.Len() || n < 0 {
		return fmt.Errorf("cuda: device copy of %d floats between buffers of %d and %d", n, src.Len(), dst.Len())
	}
	if n == 0 {
		return nil
	}
	return d.Do(func() error {
		if d.emu != nil {
			return d.emu.dtod(dst.ptr, src.ptr, n)
		}
		return d.drv.cuErr("cuMemcpyDtoD_v2", sys(d.drv.cuMemcpyDtoD, uintptr(dst.ptr), uintptr(src.ptr), uintptr(4*n)))
	})
}

// Download copies a whole buffer to a new host slice.
func (d *Device) Download(src *Buffer) ([]float32, error) {
	out := make([]float32, src.Len())
	return out, d.CopyDtoH(out, src)
}

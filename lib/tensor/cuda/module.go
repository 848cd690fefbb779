package cuda

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"unsafe"
)

// Module is a user-supplied CUDA C source compiled by NVRTC for one device and loaded into
// its context. Kernels are its extern "C" __global__ functions. Compiled images are cached
// by the hash of the source and the NVRTC options (for the process), loaded modules by
// device and source hash, so compiling the same source twice costs a map lookup. A module
// stays loaded until its device closes.
type Module struct {
	dev    *Device
	name   string
	key    string
	handle uintptr // CUmodule (emulator: its own handle)
	funcs  map[string]uintptr
	note   string
}

// Kernel is one __global__ function of a Module.
type Kernel struct {
	mod  *Module
	name string
	fn   uintptr
}

// moduleEmulator runs user modules on the host in tests (see emulator).
type moduleEmulator interface {
	// loadModule builds src and returns a handle for it.
	loadModule(src string) (uintptr, error)
	// moduleFunction returns the entry of kernel name of a module.
	moduleFunction(mod uintptr, name string) (uintptr, error)
	// launchFunction runs a kernel with its launch shape.
	launchFunction(fn uintptr, grid, block [3]uint32, shared uint32, params unsafe.Pointer) error
}

var (
	modulesMu sync.Mutex
	modules   = map[*Device]map[string]*Module{}
)

// maxModuleArgs bounds the arguments of one Launch (the device's argument block size).
const maxModuleArgs = maxKernelArgs

// CompileModule compiles src (CUDA C; kernels declared extern "C" __global__) with NVRTC for
// this device, loads it and resolves every kernel. name appears in NVRTC's messages. The
// options are those of the embedded kernels (--std=c++14, CUBIN for the device's sm_XY, PTX
// as a fallback), and ADJOINT_CUDA=1 is defined. Errors carry NVRTC's log.
func (d *Device) CompileModule(src, name string) (*Module, error) {
	if d == nil {
		return nil, errors.New("cuda: CompileModule on a nil device")
	}
	if name == "" {
		name = "module.cu"
	}
	names := kernelNames(src)
	if len(names) == 0 {
		return nil, fmt.Errorf("cuda: module %s declares no extern \"C\" __global__ kernel", name)
	}
	key := sourceKey(src, nil)
	modulesMu.Lock()
	m, ok := modules[d][key]
	modulesMu.Unlock()
	if ok {
		return m, nil
	}
	m = &Module{dev: d, name: name, key: key, funcs: map[string]uintptr{}}
	err := d.Do(func() error {
		if me, ok := d.emu.(moduleEmulator); ok {
			h, err := me.loadModule(src)
			if err != nil {
				return fmt.Errorf("cuda: module %s: %w", name, err)
			}
			m.handle, m.note = h, "emulator"
			for _, k := range names {
				f, err := me.moduleFunction(h, k)
				if err != nil {
					return fmt.Errorf("cuda: module %s: %w", name, err)
				}
				m.funcs[k] = f
			}
			return nil
		}
		if d.emu != nil {
			return errors.New("cuda: this emulated device runs no user modules")
		}
		if d.drv.nvrtcLoadErr != nil {
			return fmt.Errorf("cuda: module %s: NVRTC unavailable: %w", name, d.drv.nvrtcLoadErr)
		}
		targets, err := nvrtcTargets(d.major, d.minor)
		if err != nil {
			return err
		}
		img, note, err := d.drv.compile(src, name, targets)
		if err != nil {
			return fmt.Errorf("cuda: compile module %s: %w", name, err)
		}
		m.note = note
		if err := d.drv.cuErr("cuModuleLoadData", sys(d.drv.cuModuleLoadData, uintptr(unsafe.Pointer(&m.handle)), uintptr(unsafe.Pointer(&img[0])))); err != nil {
			return fmt.Errorf("cuda: load module %s: %w (image from %s)", name, err, note)
		}
		runtime.KeepAlive(img)
		for _, k := range names {
			cname := cString(k)
			var f uintptr
			if err := d.drv.cuErr("cuModuleGetFunction("+k+")", sys(d.drv.cuModuleGetFunction, uintptr(unsafe.Pointer(&f)), m.handle, uintptr(unsafe.Pointer(&cname[0])))); err != nil {
				sys(d.drv.cuModuleUnload, m.handle)
				return fmt.Errorf("cuda: module %s: %w", name, err)
			}
			m.funcs[k] = f
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	modulesMu.Lock()
	defer modulesMu.Unlock()
	if prev, ok := modules[d][key]; ok {
		// compiled concurrently: keep the first (the duplicate stays loaded until the context goes)
		return prev, nil
	}
	if modules[d] == nil {
		modules[d] = map[string]*Module{}
	}
	modules[d][key] = m
	return m, nil
}

// Name is the name given to CompileModule.
func (m *Module) Name() string { return m.name }

// CompileNote says how the module was compiled (the NVRTC options, "(cached)" for an image
// compiled before in this process, "emulator" in tests).
func (m *Module) CompileNote() string { return m.note }

// Kernels lists the module's kernel names, sorted.
func (m *Module) Kernels() []string {
	out := make([]string, 0, len(m.funcs))
	for k := range m.funcs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Kernel returns the kernel called name.
func (m *Module) Kernel(name string) (*Kernel, error) {
	if m == nil {
		return nil, errors.New("cuda: Kernel of a nil module")
	}
	f, ok := m.funcs[name]
	if !ok {
		return nil, fmt.Errorf("cuda: module %s has no kernel %q (it has %v)", m.name, name, m.Kernels())
	}
	return &Kernel{mod: m, name: name, fn: f}, nil
}

// Name is the kernel's name.
func (k *Kernel) Name() string { return k.name }

// Launch queues the kernel on the device's stream with a grid of grid[0]×grid[1]×grid[2]
// blocks of block[0]×block[1]×block[2] threads and shared bytes of dynamic shared memory.
// Arguments are packed in order, each as the kernel's parameter of the same position expects:
//
//	*Buffer, *Buffer64, uint64 (a device address)  a pointer (8 bytes)
//	int (checked to fit), int32                   int
//	uint32                                        unsigned int
//	float32                                       float
//	float64                                       double
//
// Any other type is an error. Launch returns when the launch is queued (with ADJOINT_CUDA_SYNC
// or Options.Sync, when it has finished); the copies back to the host wait for it.
func (k *Kernel) Launch(grid, block [3]int, shared int, args ...any) error {
	if k == nil || k.mod == nil {
		return errors.New("cuda: Launch of a nil kernel")
	}
	d := k.mod.dev
	var g, b [3]uint32
	threads := 1
	for i := 0; i < 3; i++ {
		if grid[i] < 0 || grid[i] > math.MaxInt32 || block[i] < 1 || block[i] > 1024 {
			return fmt.Errorf("cuda: %s: launch shape grid %v block %v out of range", k.name, grid, block)
		}
		g[i], b[i] = uint32(grid[i]), uint32(block[i])
		threads *= block[i]
	}
	if threads > 1024 {
		return fmt.Errorf("cuda: %s: %d threads per block (at most 1024)", k.name, threads)
	}
	if shared < 0 || shared > math.MaxInt32 {
		return fmt.Errorf("cuda: %s: %d bytes of shared memory", k.name, shared)
	}
	if len(args) > maxModuleArgs {
		return fmt.Errorf("cuda: %s: %d arguments (at most %d)", k.name, len(args), maxModuleArgs)
	}
	return d.Do(func() error {
		d.args.reset()
		for i, a := range args {
			switch v := a.(type) {
			case *Buffer:
				if v != nil && v.dev != d {
					return fmt.Errorf("cuda: %s: argument %d is a buffer of another device", k.name, i)
				}
				d.args.ptr(ptrOf(v))
			case *Buffer64:
				if v != nil && v.dev != d {
					return fmt.Errorf("cuda: %s: argument %d is a buffer of another device", k.name, i)
				}
				d.args.ptr(v.Ptr())
			case uint64:
				d.args.ptr(v)
			case int:
				d.args.int(v)
			case int32:
				d.args.i32(v)
			case uint32:
				d.args.put(uint64(v), 4)
			case float32:
				d.args.f32(v)
			case float64:
				d.args.put(math.Float64bits(v), 8)
			default:
				return fmt.Errorf("cuda: %s: argument %d has type %T (want *Buffer, *Buffer64, uint64, int, int32, uint32, float32 or float64)", k.name, i, a)
			}
		}
		if d.args.err != nil {
			return fmt.Errorf("cuda: %s: %w", k.name, d.args.err)
		}
		if g[0] == 0 || g[1] == 0 || g[2] == 0 {
			return nil
		}
		if d.emu != nil {
			me, ok := d.emu.(moduleEmulator)
			if !ok {
				return errors.New("cuda: this emulated device runs no user modules")
			}
			return me.launchFunction(k.fn, g, b, uint32(shared), d.args.params())
		}
		r := sys(d.drv.cuLaunchKernel, k.fn, uintptr(g[0]), uintptr(g[1]), uintptr(g[2]),
			uintptr(b[0]), uintptr(b[1]), uintptr(b[2]), uintptr(shared), d.stream, uintptr(d.args.params()), 0)
		if status(r) != 0 {
			return d.drv.cuErr("cuLaunchKernel("+k.name+")", r)
		}
		if d.syncAll {
			if r := sys(d.drv.cuStreamSynchronize, d.stream); status(r) != 0 {
				return d.drv.cuErr("cuStreamSynchronize after "+k.name, r)
			}
		}
		return nil
	})
}

// Buffer64 is an array of float64 in device memory, for kernels that compute in double
// precision (Buffer holds float32). It comes from the same pool as Buffer.
type Buffer64 struct {
	ptr   uint64
	n     int
	owned bool
	dev   *Device
}

// Ptr is the device address (CUdeviceptr).
func (b *Buffer64) Ptr() uint64 {
	if b == nil {
		return 0
	}
	return b.ptr
}

// Len is the number of float64 elements (0 for nil).
func (b *Buffer64) Len() int {
	if b == nil {
		return 0
	}
	return b.n
}

// Alloc64 returns an uninitialised buffer of n float64 from the pool.
func (d *Device) Alloc64(n int) (*Buffer64, error) {
	if n < 0 || n > math.MaxInt/16 {
		return nil, fmt.Errorf("cuda: Alloc64(%d)", n)
	}
	if d == nil {
		return nil, errors.New("cuda: Alloc64 on a nil device")
	}
	var b *Buffer64
	err := d.Do(func() error {
		p, _, err := d.pool.get(8 * uint64(n))
		if err != nil {
			return err
		}
		b = &Buffer64{ptr: p, n: n, owned: true, dev: d}
		return nil
	})
	return b, err
}

// Upload64 copies host data into a new float64 buffer.
func (d *Device) Upload64(src []float64) (*Buffer64, error) {
	b, err := d.Alloc64(len(src))
	if err != nil {
		return nil, err
	}
	if err := d.CopyHtoD64(b, src); err != nil {
		_ = d.Free64(b)
		return nil, err
	}
	return b, nil
}

// Free64 returns a float64 buffer's block to the pool.
func (d *Device) Free64(b *Buffer64) error {
	if b == nil {
		return nil
	}
	return d.release(&b.owned, b.dev, b.ptr)
}

// asFloat32 views float64 data as twice as many float32 words (for the byte copies).
func asFloat32(s []float64) []float32 {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), 2*len(s))
}

// Zero64 sets every element of b to 0.
func (d *Device) Zero64(b *Buffer64) error {
	if b.Len() == 0 {
		return nil
	}
	return d.Do(func() error {
		if d.emu != nil {
			return d.emu.memset32(b.ptr, 0, 2*b.n)
		}
		return d.drv.cuErr("cuMemsetD32_v2", sys(d.drv.cuMemsetD32, uintptr(b.ptr), 0, uintptr(2*b.n)))
	})
}

// CopyHtoD64 copies src into the first len(src) elements of dst.
func (d *Device) CopyHtoD64(dst *Buffer64, src []float64) error {
	if len(src) > dst.Len() {
		return fmt.Errorf("cuda: copy of %d float64 into a buffer of %d", len(src), dst.Len())
	}
	if len(src) == 0 {
		return nil
	}
	return d.Do(func() error {
		if d.emu != nil {
			return d.emu.htod(dst.ptr, asFloat32(src))
		}
		err := d.drv.cuErr("cuMemcpyHtoD_v2", sys(d.drv.cuMemcpyHtoD, uintptr(dst.ptr), uintptr(unsafe.Pointer(&src[0])), uintptr(8*len(src))))
		runtime.KeepAlive(src)
		return err
	})
}

// CopyDtoH64 waits for the stream and copies the first len(dst) elements of src into dst.
func (d *Device) CopyDtoH64(dst []float64, src *Buffer64) error {
	if len(dst) > src.Len() {
		return fmt.Errorf("cuda: copy of %d float64 from a buffer of %d", len(dst), src.Len())
	}
	if len(dst) == 0 {
		return nil
	}
	return d.Do(func() error {
		if d.emu != nil {
			return d.emu.dtoh(asFloat32(dst), src.ptr)
		}
		if err := d.drv.cuErr("cuStreamSynchronize", sys(d.drv.cuStreamSynchronize, d.stream)); err != nil {
			return err
		}
		err := d.drv.cuErr("cuMemcpyDtoH_v2", sys(d.drv.cuMemcpyDtoH, uintptr(unsafe.Pointer(&dst[0])), uintptr(src.ptr), uintptr(8*len(dst))))
		runtime.KeepAlive(dst)
		return err
	})
}

package cuda

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// CUdevice_attribute values used here.
const (
	attrComputeCapabilityMajor = 75
	attrComputeCapabilityMinor = 76
	attrMultiprocessorCount    = 16
)

// Device is one GPU with its primary context, a stream, a cuBLAS handle, the compiled kernels
// and a memory pool. All CUDA work runs on one goroutine locked to its OS thread; the methods
// may be called from any goroutine and are serialised through it.
type Device struct {
	drv     *driver
	ordinal int
	name    string
	major   int
	minor   int
	sms     int
	total   uint64
	tf32    bool
	syncAll bool

	ctx, stream, blas, mod uintptr
	funcs                  map[string]uintptr
	kernelErr              error // why kernels are unavailable (NVRTC missing or compile failure)
	blasErr                error // why cuBLAS is unavailable
	compileNote            string

	emu emulator // tests only: runs kernels and copies on the host instead of the driver

	args   *kernelArgs
	pinner runtime.Pinner
	pool   *pool

	tid    int
	work   chan job
	mu     sync.Mutex
	closed bool
	done   chan struct{}
}

type job struct {
	fn  func() error
	res chan error
}

// Options configure Open. The zero value reads ADJOINT_TF32 and ADJOINT_CUDA_SYNC.
type Options struct {
	// Ordinal selects the GPU (0 is the first).
	Ordinal int
	// TF32 lets cuBLAS use TF32 tensor cores for float32 products (also ADJOINT_TF32=1).
	TF32 bool
	// Sync synchronises and checks errors after every launch (also ADJOINT_CUDA_SYNC=1).
	Sync bool
}

func envOn(name string) bool {
	v := os.Getenv(name)
	return v != "" && v != "0" && v != "false"
}

// Open initialises the driver, retains the primary context of the selected GPU, creates a
// stream and a cuBLAS handle and compiles the kernels. A device without NVRTC or cuBLAS still
// opens; the operations that need them then return the reason.
func Open(opt Options) (*Device, error) {
	drv, err := loadDriver()
	if drv == nil || drv.cudaErr != nil || drv.cuInit == 0 {
		if drv != nil && drv.cudaErr != nil {
			err = drv.cudaErr
		}
		if err == nil {
			err = errors.New("cuda: driver not loaded")
		}
		return nil, err
	}
	d := &Device{drv: drv, ordinal: opt.Ordinal, tf32: opt.TF32 || envOn("ADJOINT_TF32"),
		syncAll: opt.Sync || envOn("ADJOINT_CUDA_SYNC"), funcs: map[string]uintptr{}, args: newKernelArgs(),
		work: make(chan job), done: make(chan struct{})}
	// libcuda loaded; NVRTC or cuBLAS may not have: keep going, remember why.
	d.kernelErr, d.blasErr = drv.nvrtcLoadErr, drv.blasLoadErr
	d.pool = newPool(devAlloc{d})
	ready := make(chan error, 1)
	go d.loop(ready)
	if err := <-ready; err != nil {
		<-d.done
		return nil, err
	}
	return d, nil
}

func (d *Device) loop(ready chan<- error) {
	runtime.LockOSThread()
	defer close(d.done)
	defer runtime.UnlockOSThread()
	d.tid = gettid()
	d.pinner.Pin(d.args)
	defer d.pinner.Unpin()
	if d.emu != nil {
		ready <- nil
		for j := range d.work {
			j.res <- d.run(j.fn)
		}
		return
	}
	if err := d.run(d.init); err != nil {
		d.teardown()
		ready <- err
		return
	}
	ready <- nil
	for j := range d.work {
		j.res <- d.run(j.fn)
	}
	d.teardown()
}

func (d *Device) run(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cuda: panic in device work: %v", r)
		}
	}()
	return fn()
}

func (d *Device) init() error {
	drv := d.drv
	if err := drv.cuErr("cuInit", sys(drv.cuInit, 0)); err != nil {
		return err
	}
	var count int32
	if err := drv.cuErr("cuDeviceGetCount", sys(drv.cuDeviceGetCount, uintptr(unsafe.Pointer(&count)))); err != nil {
		return err
	}
	if count == 0 {
		return errors.New("cuda: the driver reports no GPU")
	}
	if d.ordinal < 0 || d.ordinal >= int(count) {
		return fmt.Errorf("cuda: GPU %d requested, %d present", d.ordinal, count)
	}
	var dev int32
	if err := drv.cuErr("cuDeviceGet", sys(drv.cuDeviceGet, uintptr(unsafe.Pointer(&dev)), uintptr(d.ordinal))); err != nil {
		return err
	}
	var nameBuf [256]byte
	if err := drv.cuErr("cuDeviceGetName", sys(drv.cuDeviceGetName, uintptr(unsafe.Pointer(&nameBuf[0])), uintptr(len(nameBuf)-1), uintptr(dev))); err != nil {
		return err
	}
	d.name = goString(&nameBuf[0])
	attr := func(a int) (int, error) {
		var v int32
		err := drv.cuErr("cuDeviceGetAttribute", sys(drv.cuDeviceGetAttribute, uintptr(unsafe.Pointer(&v)), uintptr(a), uintptr(dev)))
		return int(v), err
	}
	var err error
	if d.major, err = attr(attrComputeCapabilityMajor); err != nil {
		return err
	}
	if d.minor, err = attr(attrComputeCapabilityMinor); err != nil {
		return err
	}
	if d.sms, err = attr(attrMultiprocessorCount); err != nil {
		return err
	}
	var total uint64
	if err := drv.cuErr("cuDeviceTotalMem_v2", sys(drv.cuDeviceTotalMem, uintptr(unsafe.Pointer(&total)), uintptr(dev))); err != nil {
		return err
	}
	d.total = total
	if err := drv.cuErr("cuDevicePrimaryCtxRetain", sys(drv.cuDevicePrimaryCtxRetain, uintptr(unsafe.Pointer(&d.ctx)), uintptr(dev))); err != nil {
		return err
	}
	if err := drv.cuErr("cuCtxSetCurrent", sys(drv.cuCtxSetCurrent, d.ctx)); err != nil {
		return err
	}
	// A blocking stream (flags 0): it synchronises with the legacy default stream that the
	// synchronous copies and memsets use, so their order with the kernels is kept.
	if err := drv.cuErr("cuStreamCreate", sys(drv.cuStreamCreate, uintptr(unsafe.Pointer(&d.stream)), 0)); err != nil {
		return err
	}
	if d.blasErr == nil {
		d.blasErr = d.initBLAS()
	}
	if d.kernelErr == nil {
		d.kernelErr = d.loadKernels()
	}
	return nil
}

func (d *Device) initBLAS() error {
	drv := d.drv
	var h uintptr
	if err := cublasErr("cublasCreate_v2", sys(drv.cublasCreate, uintptr(unsafe.Pointer(&h)))); err != nil {
		return err
	}
	d.blas = h
	if err := cublasErr("cublasSetStream_v2", sys(drv.cublasSetStream, h, d.stream)); err != nil {
		return err
	}
	mode := uintptr(cublasDefaultMath)
	if d.tf32 {
		mode = cublasTF32TensorMath
	}
	return cublasErr("cublasSetMathMode", sys(drv.cublasSetMathMode, h, mode))
}

func (d *Device) teardown() {
	drv := d.drv
	if d.pool != nil && d.ctx != 0 {
		sys(drv.cuCtxSynchronize)
		_ = d.pool.release()
	}
	if d.blas != 0 {
		sys(drv.cublasDestroy, d.blas)
		d.blas = 0
	}
	if d.mod != 0 {
		sys(drv.cuModuleUnload, d.mod)
		d.mod = 0
	}
	if d.stream != 0 {
		sys(drv.cuStreamDestroy, d.stream)
		d.stream = 0
	}
	if d.ctx != 0 {
		var dev int32
		if status(sys(drv.cuDeviceGet, uintptr(unsafe.Pointer(&dev)), uintptr(d.ordinal))) == 0 {
			sys(drv.cuDevicePrimaryCtxRelease, uintptr(dev))
		}
		d.ctx = 0
	}
}

// sys calls a C function whose arguments are all integers or pointers and returns r1.
//
//go:uintptrescapes
func sys(fn uintptr, args ...uintptr) uintptr {
	r1, _, _ := purego.SyscallN(fn, args...)
	return r1
}

// Do runs fn on the device's thread, with the context current, and returns its error. Calls
// of Do (and of the Device's methods) from inside fn run inline.
func (d *Device) Do(fn func() error) error {
	if d == nil {
		return errors.New("cuda: nil device")
	}
	if gettid() == d.tid {
		return d.run(fn)
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return errors.New("cuda: device closed")
	}
	res := make(chan error, 1)
	d.work <- job{fn: fn, res: res}
	d.mu.Unlock()
	return <-res
}

// Close releases the device's memory, kernels, cuBLAS handle, stream and context reference.
func (d *Device) Close() error {
	if d == nil {
		return nil
	}
	if gettid() == d.tid {
		return errors.New("cuda: Close called from device work")
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	close(d.work)
	d.mu.Unlock()
	<-d.done
	return nil
}

// Name is the GPU's name as the driver reports it.
func (d *Device) Name() string {
	if d == nil {
		return ""
	}
	return d.name
}

// ComputeCapability is the device's compute capability (major, minor).
func (d *Device) ComputeCapability() (int, int) {
	if d == nil {
		return 0, 0
	}
	return d.major, d.minor
}

// TotalMemory is the device memory in bytes.
func (d *Device) TotalMemory() uint64 {
	if d == nil {
		return 0
	}
	return d.total
}

// TF32 reports whether cuBLAS may use TF32 tensor cores.
func (d *Device) TF32() bool { return d != nil && d.tf32 }

// Libraries maps "cuda", "nvrtc", "cublas" to the files that were loaded.
func (d *Device) Libraries() map[string]string {
	if d == nil || d.drv == nil {
		return map[string]string{}
	}
	m := make(map[string]string, len(d.drv.libs))
	for k, v := range d.drv.libs {
		m[k] = v
	}
	return m
}

// KernelsErr is why the embedded kernels cannot run (nil when they can).
func (d *Device) KernelsErr() error {
	if d == nil {
		return errors.New("cuda: nil device")
	}
	return d.kernelErr
}

// BLASErr is why cuBLAS cannot run (nil when it can).
func (d *Device) BLASErr() error {
	if d == nil {
		return errors.New("cuda: nil device")
	}
	return d.blasErr
}

// String describes the device, e.g. "cuda: NVIDIA H100 80GB HBM3 (sm_90)".
func (d *Device) String() string {
	if d == nil {
		return "cpu"
	}
	return fmt.Sprintf("cuda: %s (sm_%d%d)", d.name, d.major, d.minor)
}

// Sync waits for all queued work on the device's stream and reports its errors.
func (d *Device) Sync() error {
	return d.Do(func() error {
		if d.emu != nil {
			return nil
		}
		return d.drv.cuErr("cuStreamSynchronize", sys(d.drv.cuStreamSynchronize, d.stream))
	})
}

// MemInfo returns the free and total device memory in bytes.
func (d *Device) MemInfo() (free, total uint64, err error) {
	err = d.Do(func() error {
		return d.drv.cuErr("cuMemGetInfo_v2", sys(d.drv.cuMemGetInfo, uintptr(unsafe.Pointer(&free)), uintptr(unsafe.Pointer(&total))))
	})
	return free, total, err
}

// PoolStats describes the device's memory pool.
func (d *Device) PoolStats() PoolStats {
	var s PoolStats
	_ = d.Do(func() error { s = d.pool.stats; return nil })
	return s
}

// TrimPool returns the pool's cached blocks to the driver.
func (d *Device) TrimPool() error {
	return d.Do(func() error {
		if err := d.drv.cuErr("cuCtxSynchronize", sys(d.drv.cuCtxSynchronize)); err != nil {
			return err
		}
		return d.pool.trim()
	})
}

// emulator stands in for the driver in tests on machines without a GPU: kernels run on the
// host (compiled by a host C++ compiler), device memory is host memory.
type emulator interface {
	launch(name string, grid, block [3]uint32, params unsafe.Pointer) error
	htod(dst uint64, src []float32) error
	dtoh(dst []float32, src uint64) error
	dtod(dst, src uint64, n int) error
	memset32(dst uint64, v uint32, n int) error
	// sgemm is cublasSgemmStridedBatched's computation, a and b being cuBLAS's operands.
	sgemm(g colGemm, alpha float32, a uint64, strideA int, b uint64, strideB int, beta float32, c uint64, strideC, batch int) error
}

// devAlloc is the pool's allocator on a real device.
type devAlloc struct{ d *Device }

func (a devAlloc) alloc(bytes uint64) (uint64, error) {
	var p uint64
	err := a.d.drv.cuErr("cuMemAlloc_v2", sys(a.d.drv.cuMemAlloc, uintptr(unsafe.Pointer(&p)), uintptr(bytes)))
	return p, err
}

func (a devAlloc) free(ptr uint64) error {
	return a.d.drv.cuErr("cuMemFree_v2", sys(a.d.drv.cuMemFree, uintptr(ptr)))
}

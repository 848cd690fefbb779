package cuda

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"sort"
	"strings"
	"sync"
	"unsafe"
)

//go:embed kernels/*.cu
var kernelFS embed.FS

// kernelSource is the embedded kernels, concatenated in file-name order.
func kernelSource() (string, error) {
	names, err := fs.Glob(kernelFS, "kernels/*.cu")
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		src, err := kernelFS.ReadFile(n)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "// ---- %s\n", n)
		b.Write(src)
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// kernelNames lists the extern "C" __global__ functions of a source.
func kernelNames(src string) []string {
	var out []string
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, `extern "C" __global__ void `) {
			continue
		}
		rest := strings.TrimPrefix(line, `extern "C" __global__ void `)
		if i := strings.IndexByte(rest, '('); i > 0 {
			out = append(out, strings.TrimSpace(rest[:i]))
		}
	}
	return out
}

var (
	imageMu    sync.Mutex
	imageCache = map[string][]byte{} // sourceKey → CUBIN or NUL-terminated PTX
)

// compile runs NVRTC on src with each target's options in turn and returns the first image.
func (drv *driver) compile(src, name string, targets []compileTarget) ([]byte, string, error) {
	var errs []error
	for _, t := range targets {
		key := sourceKey(src, t.opts)
		imageMu.Lock()
		img, ok := imageCache[key]
		imageMu.Unlock()
		if ok {
			return img, strings.Join(t.opts, " ") + " (cached)", nil
		}
		img, err := drv.compileOnce(src, name, t)
		if err == nil {
			imageMu.Lock()
			imageCache[key] = img
			imageMu.Unlock()
			return img, strings.Join(t.opts, " "), nil
		}
		errs = append(errs, err)
	}
	return nil, "", errors.Join(errs...)
}

func (drv *driver) compileOnce(src, name string, t compileTarget) ([]byte, error) {
	csrc, cname := cString(src), cString(name)
	var prog uintptr
	if err := drv.nvrtcErr("nvrtcCreateProgram", sys(drv.nvrtcCreateProgram, uintptr(unsafe.Pointer(&prog)),
		uintptr(unsafe.Pointer(&csrc[0])), uintptr(unsafe.Pointer(&cname[0])), 0, 0, 0)); err != nil {
		return nil, err
	}
	defer func() { sys(drv.nvrtcDestroyProgram, uintptr(unsafe.Pointer(&prog))) }()
	bufs, ptrs := cStringArray(t.opts)
	var pin runtime.Pinner
	for _, b := range bufs {
		pin.Pin(&b[0])
	}
	var optp uintptr
	if len(ptrs) > 0 {
		pin.Pin(&ptrs[0])
		optp = uintptr(unsafe.Pointer(&ptrs[0]))
	}
	r := sys(drv.nvrtcCompileProgram, prog, uintptr(len(ptrs)), optp)
	pin.Unpin()
	runtime.KeepAlive(bufs)
	runtime.KeepAlive(ptrs)
	if err := drv.nvrtcErr("nvrtcCompileProgram", r); err != nil {
		return nil, fmt.Errorf("%w (options %s)%s", err, strings.Join(t.opts, " "), drv.programLog(prog))
	}
	sizeFn, getFn, what := drv.nvrtcGetPTXSize, drv.nvrtcGetPTX, "PTX"
	if t.cubin {
		sizeFn, getFn, what = drv.nvrtcGetCUBINSize, drv.nvrtcGetCUBIN, "CUBIN"
	}
	var size uint64
	if err := drv.nvrtcErr("nvrtcGet"+what+"Size", sys(sizeFn, prog, uintptr(unsafe.Pointer(&size)))); err != nil {
		return nil, err
	}
	if size == 0 || size > 1<<30 {
		return nil, fmt.Errorf("cuda: NVRTC %s of %d bytes", what, size)
	}
	img := make([]byte, size+1) // +1: PTX must end in NUL; CUBIN ignores the extra byte
	if err := drv.nvrtcErr("nvrtcGet"+what, sys(getFn, prog, uintptr(unsafe.Pointer(&img[0])))); err != nil {
		return nil, err
	}
	return img, nil
}

// programLog is NVRTC's compile log, prefixed with a newline, or "".
func (drv *driver) programLog(prog uintptr) string {
	var n uint64
	if status(sys(drv.nvrtcGetProgramLogSize, prog, uintptr(unsafe.Pointer(&n)))) != 0 || n <= 1 || n > 1<<24 {
		return ""
	}
	buf := make([]byte, n)
	if status(sys(drv.nvrtcGetProgramLog, prog, uintptr(unsafe.Pointer(&buf[0])))) != 0 {
		return ""
	}
	return "\n" + strings.TrimRight(string(buf[:n-1]), "\x00\n")
}

// NVRTCVersion is the NVRTC version loaded (0, 0 when none).
func (d *Device) NVRTCVersion() (int, int) {
	if d == nil || d.drv == nil || d.drv.nvrtcVersion == 0 {
		return 0, 0
	}
	var major, minor int32
	if status(sys(d.drv.nvrtcVersion, uintptr(unsafe.Pointer(&major)), uintptr(unsafe.Pointer(&minor)))) != 0 {
		return 0, 0
	}
	return int(major), int(minor)
}

// CompileNote says how the kernels were compiled (the NVRTC options used).
func (d *Device) CompileNote() string {
	if d == nil {
		return ""
	}
	return d.compileNote
}

// loadKernels compiles the embedded kernels for this device and resolves every function.
// It runs on the device thread.
func (d *Device) loadKernels() error {
	src, err := kernelSource()
	if err != nil {
		return fmt.Errorf("cuda: read embedded kernels: %w", err)
	}
	targets, err := nvrtcTargets(d.major, d.minor)
	if err != nil {
		return err
	}
	img, note, err := d.drv.compile(src, "adjoint_kernels.cu", targets)
	if err != nil {
		return fmt.Errorf("cuda: compile kernels: %w", err)
	}
	d.compileNote = note
	if err := d.drv.cuErr("cuModuleLoadData", sys(d.drv.cuModuleLoadData, uintptr(unsafe.Pointer(&d.mod)), uintptr(unsafe.Pointer(&img[0])))); err != nil {
		return fmt.Errorf("%w (image from %s)", err, note)
	}
	runtime.KeepAlive(img)
	for _, name := range kernelNames(src) {
		cname := cString(name)
		var f uintptr
		if err := d.drv.cuErr("cuModuleGetFunction("+name+")", sys(d.drv.cuModuleGetFunction, uintptr(unsafe.Pointer(&f)), d.mod, uintptr(unsafe.Pointer(&cname[0])))); err != nil {
			return err
		}
		d.funcs[name] = f
	}
	return nil
}

// launch runs kernel name with the arguments packed in d.args; it runs on the device thread.
func (d *Device) launch(name string, grid, block [3]uint32, shared uint32) error {
	if d.kernelErr != nil {
		return fmt.Errorf("cuda: kernels unavailable: %w", d.kernelErr)
	}
	if d.args.err != nil {
		return fmt.Errorf("cuda: %s: %w", name, d.args.err)
	}
	if d.emu != nil {
		if grid[0] == 0 || grid[1] == 0 || grid[2] == 0 {
			return nil
		}
		return d.emu.launch(name, grid, block, d.args.params())
	}
	f, ok := d.funcs[name]
	if !ok {
		return fmt.Errorf("cuda: no kernel %q", name)
	}
	if grid[0] == 0 || grid[1] == 0 || grid[2] == 0 {
		return nil // nothing to do
	}
	r := sys(d.drv.cuLaunchKernel, f, uintptr(grid[0]), uintptr(grid[1]), uintptr(grid[2]),
		uintptr(block[0]), uintptr(block[1]), uintptr(block[2]), uintptr(shared), d.stream,
		uintptr(d.args.params()), 0)
	if status(r) != 0 {
		return d.drv.cuErr("cuLaunchKernel("+name+")", r)
	}
	if d.syncAll {
		if r := sys(d.drv.cuStreamSynchronize, d.stream); status(r) != 0 {
			return d.drv.cuErr("cuStreamSynchronize after "+name, r)
		}
	}
	return nil
}

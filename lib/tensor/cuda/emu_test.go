package cuda

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

// The emulator runs the embedded kernels on the host through the same Go wrappers, argument
// packing and memory pool as a GPU. Grid-stride kernels run in one host thread (blockDim =
// gridDim = 1, so each loop covers every item); the kernels that need real warps and thread
// blocks (shuffles, shared memory, barriers) run their actual launch shape with one host
// thread per CUDA thread, blocks one after another, shuffles and __syncthreads emulated with
// barriers.

var warpKernels = map[string]bool{
	"adj_col_sum": true, "adj_row_dot": true, "adj_sqdiff_sum": true,
	"adj_gate_fwd": true, "adj_gate_bwd": true, "adj_dot_tanh_fwd": true,
}

const emuShim = `#include <cmath>
#include <barrier>
#include <mutex>
#include <thread>
#include <vector>
#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
struct adj_dim3 { unsigned x, y, z; };
static thread_local adj_dim3 blockIdx = {0, 0, 0}, threadIdx = {0, 0, 0};
static adj_dim3 blockDim = {1, 1, 1}, gridDim = {1, 1, 1};
static std::barrier<>* emu_block_bar;
static std::vector<std::barrier<>*> emu_warp_bars;
static float emu_slots[32][32];
static std::mutex emu_atomic_mu;
inline int emu_tid() { return threadIdx.x + threadIdx.y * blockDim.x; }
inline float emu_shfl(float v, int from) {
    int w = emu_tid() >> 5, l = emu_tid() & 31;
    emu_slots[w][l] = v;
    emu_warp_bars[w]->arrive_and_wait();
    float r = from >= 0 && from < 32 ? emu_slots[w][from] : v;
    emu_warp_bars[w]->arrive_and_wait();
    return r;
}
inline float __shfl_down_sync(unsigned, float v, int o) { return emu_shfl(v, (emu_tid() & 31) + o); }
inline float __shfl_sync(unsigned, float v, int src) { return emu_shfl(v, src); }
inline float atomicAdd(float* p, float v) { std::lock_guard<std::mutex> g(emu_atomic_mu); float o = *p; *p += v; return o; }
inline void __syncthreads() { emu_block_bar->arrive_and_wait(); }
typedef void (*emu_kernel)(void**);
extern "C" void emu_single(emu_kernel k, void** p) {
    blockDim = {1, 1, 1}; gridDim = {1, 1, 1}; blockIdx = {0, 0, 0}; threadIdx = {0, 0, 0};
    k(p);
}
// emu_launch runs a block of bx*by threads (a multiple of 32, at most 1024) at a time.
extern "C" int emu_launch(emu_kernel k, void** p, unsigned gx, unsigned gy, unsigned bx, unsigned by) {
    unsigned nt = bx * by;
    if (nt == 0 || nt % 32 != 0 || nt > 1024) return 1;
    gridDim = {gx, gy, 1}; blockDim = {bx, by, 1};
    for (unsigned yb = 0; yb < gy; yb++) {
        for (unsigned xb = 0; xb < gx; xb++) {
            std::barrier<> block(nt);
            emu_block_bar = &block;
            std::vector<std::barrier<>*> warps;
            for (unsigned w = 0; w < nt / 32; w++) warps.push_back(new std::barrier<>(32));
            emu_warp_bars = warps;
            std::vector<std::thread> ts;
            for (unsigned t = 0; t < nt; t++) {
                ts.emplace_back([=] {
                    blockIdx = {xb, yb, 0};
                    threadIdx = {t % bx, t / bx, 0};
                    k(p);
                });
            }
            for (auto& th : ts) th.join();
            for (auto* w : warps) delete w;
        }
    }
    return 0;
}
`

var sigRe = regexp.MustCompile(`extern "C" __global__ void (\w+)\(([^)]*)\)`)

// emuWrappers generates, for every kernel, extern "C" void emu_NAME(void** p) calling it with
// its arguments read from a kernelParams array, as cuLaunchKernel does.
func emuWrappers(src string) (string, []string, error) {
	var b strings.Builder
	var names []string
	for _, m := range sigRe.FindAllStringSubmatch(src, -1) {
		name, params := m[1], strings.Fields(strings.ReplaceAll(m[2], ",", " , "))
		var args []string
		var cur []string
		flush := func() error {
			if len(cur) < 2 {
				return fmt.Errorf("kernel %s: cannot parse parameter %q", name, strings.Join(cur, " "))
			}
			typ := strings.Join(cur[:len(cur)-1], " ")
			if strings.HasPrefix(cur[len(cur)-1], "*") { // "float *x"
				typ += "*"
			}
			args = append(args, fmt.Sprintf("*(%s*)p[%d]", typ, len(args)))
			cur = cur[:0]
			return nil
		}
		for _, tok := range params {
			if tok == "," {
				if err := flush(); err != nil {
					return "", nil, err
				}
				continue
			}
			cur = append(cur, tok)
		}
		if len(cur) > 0 {
			if err := flush(); err != nil {
				return "", nil, err
			}
		}
		fmt.Fprintf(&b, "extern \"C\" void emu_%s(void** p) { %s(%s); }\n", name, name, strings.Join(args, ", "))
		names = append(names, name)
	}
	return b.String(), names, nil
}

// hostMem is device memory emulated by Go byte slices (the Go heap does not move them).
type hostMem struct{ blocks map[uint64][]byte }

func (h *hostMem) alloc(bytes uint64) (uint64, error) {
	b := make([]byte, bytes)
	p := uint64(uintptr(unsafe.Pointer(&b[0])))
	h.blocks[p] = b
	return p, nil
}

func (h *hostMem) free(p uint64) error {
	if _, ok := h.blocks[p]; !ok {
		return fmt.Errorf("emulator: free of unknown block %#x", p)
	}
	delete(h.blocks, p)
	return nil
}

// at is the memory from address p to the end of its block.
func (h *hostMem) at(p uint64, bytes int) ([]byte, error) {
	for base, b := range h.blocks {
		if p >= base && p+uint64(bytes) <= base+uint64(len(b)) {
			return b[p-base:], nil
		}
	}
	return nil, fmt.Errorf("emulator: %d bytes at %#x are outside every block", bytes, p)
}

type emu struct {
	mem                   *hostMem
	funcs                 map[string]uintptr
	single, launchThreads uintptr
}

func (e *emu) launch(name string, grid, block [3]uint32, params unsafe.Pointer) error {
	fn, ok := e.funcs[name]
	if !ok {
		return fmt.Errorf("emulator: no kernel %s", name)
	}
	if !warpKernels[name] {
		sys(e.single, fn, uintptr(params))
		return nil
	}
	if grid[2] != 1 || block[2] != 1 {
		return fmt.Errorf("emulator: %s: 3-D launch %v %v", name, grid, block)
	}
	if r := status(sys(e.launchThreads, fn, uintptr(params), uintptr(grid[0]), uintptr(grid[1]), uintptr(block[0]), uintptr(block[1]))); r != 0 {
		return fmt.Errorf("emulator: %s: block %v not emulated", name, block)
	}
	return nil
}

func f32bytes(s []float32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), 4*len(s))
}

func (e *emu) htod(dst uint64, src []float32) error {
	b, err := e.mem.at(dst, 4*len(src))
	if err == nil {
		copy(b, f32bytes(src))
	}
	return err
}

func (e *emu) dtoh(dst []float32, src uint64) error {
	b, err := e.mem.at(src, 4*len(dst))
	if err == nil {
		copy(f32bytes(dst), b)
	}
	return err
}

func (e *emu) dtod(dst, src uint64, n int) error {
	s, err := e.mem.at(src, 4*n)
	if err != nil {
		return err
	}
	d, err := e.mem.at(dst, 4*n)
	if err == nil {
		copy(d[:4*n], s[:4*n])
	}
	return err
}

func (e *emu) memset32(dst uint64, v uint32, n int) error {
	b, err := e.mem.at(dst, 4*n)
	if err == nil {
		for i := 0; i < n; i++ {
			*(*uint32)(unsafe.Pointer(&b[4*i])) = v
		}
	}
	return err
}

func (e *emu) floats(p uint64, n int) ([]float32, error) {
	if n == 0 {
		return nil, nil
	}
	b, err := e.mem.at(p, 4*n)
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n), nil
}

// sgemm computes what cuBLAS would, from BLAS's column-major definition (colSgemm).
func (e *emu) sgemm(g colGemm, alpha float32, a uint64, strideA int, b uint64, strideB int, beta float32, c uint64, strideC, batch int) error {
	colLen := func(rows, cols, ld int) int { // a column-major rows×cols matrix
		if rows == 0 || cols == 0 {
			return 0
		}
		return (cols-1)*ld + rows
	}
	ar, ac := g.m, g.k
	if g.transa == cublasOpT {
		ar, ac = g.k, g.m
	}
	br, bc := g.k, g.n
	if g.transb == cublasOpT {
		br, bc = g.n, g.k
	}
	for i := 0; i < batch; i++ {
		A, err := e.floats(a+4*uint64(i*strideA), colLen(ar, ac, g.lda))
		if err != nil {
			return err
		}
		B, err := e.floats(b+4*uint64(i*strideB), colLen(br, bc, g.ldb))
		if err != nil {
			return err
		}
		C, err := e.floats(c+4*uint64(i*strideC), colLen(g.m, g.n, g.ldc))
		if err != nil {
			return err
		}
		colSgemm(g.transa, g.transb, g.m, g.n, g.k, alpha, A, g.lda, B, g.ldb, beta, C, g.ldc)
	}
	return nil
}

// emulatorCompiler returns the g++ that builds the emulator libraries, or skips the test with
// the reason where the emulator cannot run.
func emulatorCompiler(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		t.Skip("the kernel emulator runs on linux/amd64 and linux/arm64")
	}
	cxx, err := exec.LookPath("g++")
	if err != nil {
		t.Skip("no g++ to build the kernel emulator")
	}
	return cxx
}

// newEmulator builds the kernels into a host shared library and returns a Device that runs them.
//
// The library is built with hidden symbol visibility (only the emu_* entry points exported):
// every emulator library is loaded RTLD_GLOBAL, so without it the kernels and the inline shim
// functions (__syncthreads, shuffles) of a library loaded later bind to those of the first one
// and use its launch state, which crashes the warp kernels.
func newEmulator(t *testing.T) *Device {
	t.Helper()
	cxx := emulatorCompiler(t)
	src, err := kernelSource()
	if err != nil {
		t.Fatal(err)
	}
	wrappers, names, err := emuWrappers(src)
	if err != nil {
		t.Fatal(err)
	}
	const vis = `extern "C" __attribute__((visibility("default")))`
	shim := strings.NewReplacer(`extern "C" void emu_single`, vis+` void emu_single`,
		`extern "C" int emu_launch`, vis+` int emu_launch`).Replace(emuShim)
	wrappers = strings.ReplaceAll(wrappers, `extern "C" void emu_`, vis+` void emu_`)
	dir := t.TempDir()
	cpp, so := filepath.Join(dir, "emu.cpp"), filepath.Join(dir, "libemu.so")
	if err := os.WriteFile(cpp, []byte(shim+src+wrappers), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(cxx, "-std=c++20", "-O1", "-shared", "-fPIC", "-pthread", "-fvisibility=hidden",
		"-fvisibility-inlines-hidden", "-o", so, cpp).CombinedOutput(); err != nil {
		t.Fatalf("build emulator: %v\n%s", err, out)
	}
	h, err := dlopen(so)
	if err != nil {
		t.Fatalf("load emulator: %v", err)
	}
	e := &emu{mem: &hostMem{blocks: map[uint64][]byte{}}, funcs: map[string]uintptr{}}
	for _, n := range names {
		if e.funcs[n] = dlsym(h, "emu_"+n); e.funcs[n] == 0 {
			t.Fatalf("emulator lacks emu_%s", n)
		}
	}
	if e.single, e.launchThreads = dlsym(h, "emu_single"), dlsym(h, "emu_launch"); e.single == 0 || e.launchThreads == 0 {
		t.Fatal("emulator lacks emu_single/emu_launch")
	}
	return startEmulated(t, e, e.mem)
}

// startEmulated starts a Device whose kernels and copies run on the emulator e over host
// memory mem; it is closed when the test ends.
func startEmulated(t *testing.T, e emulator, mem *hostMem) *Device {
	t.Helper()
	d := &Device{name: "emulator", funcs: map[string]uintptr{}, args: newKernelArgs(), emu: e,
		work: make(chan job), done: make(chan struct{}), drv: &driver{libs: map[string]string{}}}
	d.pool = newPool(mem)
	ready := make(chan error, 1)
	go d.loop(ready)
	if err := <-ready; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// TestEmulatedKernels runs the device parity tests on the host emulator, through the Go
// wrappers: it checks each kernel's indexing, launch shape and argument order against the
// references without a GPU.
func TestEmulatedKernels(t *testing.T) {
	d := newEmulator(t)
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *gpuT)
	}{
		{"elementwise", testElementwise}, {"activations", testActivations}, {"bias_concat_repeat", testBiasActConcatRepeat},
		{"reductions_loss_adam", testReductionsLossAdam}, {"pair_ops", testPairOps}, {"edge_ops", testEdgeOps},
		{"sgemm", testSgemmParity}, {"linear", testLinear},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, &gpuT{t: t, d: d, r: rand.New(rand.NewPCG(21, 22)), emulated: true})
		})
	}
}

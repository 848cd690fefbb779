package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// modEmu extends the kernel emulator with user modules: each source is built by g++ with the
// emulator's shim into its own shared library, and every launch runs its real shape (one host
// thread per CUDA thread, blocks one after another).
type modEmu struct {
	*emu
	cxx     string
	dir     string
	mu      sync.Mutex
	n       int
	entries map[uintptr]uintptr // kernel entry → its library's emu_launch
}

func (m *modEmu) loadModule(src string) (uintptr, error) {
	wrappers, _, err := emuWrappers(src)
	if err != nil {
		return 0, err
	}
	m.mu.Lock()
	m.n++
	base := filepath.Join(m.dir, fmt.Sprintf("mod%d", m.n))
	m.mu.Unlock()
	// Hidden symbols but for the emu_ entry points, and -Bsymbolic: each module keeps its own
	// shim state, and binds none of the other emulator libraries in the process to it.
	const vis = `extern "C" __attribute__((visibility("default")))`
	text := emuShim + src + wrappers
	text = strings.ReplaceAll(text, `extern "C" void emu_`, vis+` void emu_`)
	text = strings.ReplaceAll(text, `extern "C" int emu_launch`, vis+` int emu_launch`)
	if err := os.WriteFile(base+".cpp", []byte(text), 0o644); err != nil {
		return 0, err
	}
	if out, err := exec.Command(m.cxx, "-std=c++20", "-O1", "-shared", "-fPIC", "-pthread", "-fvisibility=hidden",
		"-fvisibility-inlines-hidden", "-Wl,-Bsymbolic", "-o", base+".so", base+".cpp").CombinedOutput(); err != nil {
		return 0, fmt.Errorf("g++: %v\n%s", err, out)
	}
	return dlopen(base + ".so")
}

func (m *modEmu) moduleFunction(h uintptr, name string) (uintptr, error) {
	f, l := dlsym(h, "emu_"+name), dlsym(h, "emu_launch")
	if f == 0 || l == 0 {
		return 0, fmt.Errorf("emulator: no kernel %s", name)
	}
	m.mu.Lock()
	m.entries[f] = l
	m.mu.Unlock()
	return f, nil
}

func (m *modEmu) launchFunction(fn uintptr, grid, block [3]uint32, shared uint32, params unsafe.Pointer) error {
	m.mu.Lock()
	l := m.entries[fn]
	m.mu.Unlock()
	if grid[2] != 1 || block[2] != 1 || shared != 0 {
		return fmt.Errorf("emulator: launch %v %v with %d shared bytes not emulated", grid, block, shared)
	}
	if status(sys(l, fn, uintptr(params), uintptr(grid[0]), uintptr(grid[1]), uintptr(block[0]), uintptr(block[1]))) != 0 {
		return fmt.Errorf("emulator: block %v not emulated", block)
	}
	return nil
}

// newModuleEmulator returns a Device whose modules run on the host (no embedded kernels).
func newModuleEmulator(t *testing.T) *Device {
	t.Helper()
	cxx := emulatorCompiler(t)
	e := &modEmu{emu: &emu{mem: &hostMem{blocks: map[uint64][]byte{}}, funcs: map[string]uintptr{}},
		cxx: cxx, dir: t.TempDir(), entries: map[uintptr]uintptr{}}
	return startEmulated(t, e, e.mem)
}

const testModuleSrc = `
extern "C" __global__ void mod_axpy(double* y, const double* x, double a, int n, float b, unsigned int skip)
{
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) {
        if ((unsigned int)i != skip) y[i] = a * x[i] + y[i] + (double)b;
    }
}

extern "C" __global__ void mod_row_sum(double* out, const double* x, int cols)
{
    __shared__ double buf[64];
    double s = 0;
    for (int i = threadIdx.x; i < cols; i += blockDim.x) s += x[blockIdx.x * cols + i];
    buf[threadIdx.x] = s;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w >>= 1) {
        if (threadIdx.x < w) buf[threadIdx.x] += buf[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0) out[blockIdx.x] = buf[0];
}
`

// testModule compiles a module, launches its kernels with every argument kind and checks the
// float64 results against the host.
func testModule(t *testing.T, d *Device) {
	m, err := d.CompileModule(testModuleSrc, "test_module.cu")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.Kernels(), ","); got != "mod_axpy,mod_row_sum" {
		t.Fatalf("kernels %q", got)
	}
	again, err := d.CompileModule(testModuleSrc, "other_name.cu")
	if err != nil || again != m {
		t.Fatalf("the same source compiled again gave %p (%v), want the cached %p", again, err, m)
	}
	if _, err := m.Kernel("nope"); err == nil || !strings.Contains(err.Error(), "mod_axpy") {
		t.Errorf("unknown kernel: error %v should list the kernels", err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	const rows, cols = 5, 77
	n := rows * cols
	x, y := make([]float64, n), make([]float64, n)
	for i := range x {
		x[i], y[i] = r.NormFloat64(), r.NormFloat64()
	}
	bx, err := d.Upload64(x)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Free64(bx)
	by, err := d.Upload64(y)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Free64(by)
	axpy, err := m.Kernel("mod_axpy")
	if err != nil {
		t.Fatal(err)
	}
	const a, b, skip = 1.0 / 3, float32(0.25), 7
	if err := axpy.Launch([3]int{2, 1, 1}, [3]int{64, 1, 1}, 0, by, bx, a, n, b, uint32(skip)); err != nil {
		t.Fatal(err)
	}
	got := make([]float64, n)
	if err := d.CopyDtoH64(got, by); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		want := a*x[i] + y[i] + float64(b)
		if i == skip {
			want = y[i]
		}
		// The device may contract a·x + y into one fused multiply-add, which rounds once
		// instead of twice: allow a few units in the last place.
		if math.Abs(got[i]-want) > 4e-16*math.Max(1, math.Abs(want)) {
			t.Fatalf("axpy[%d] = %v, want %v", i, got[i], want)
		}
	}
	sum, err := m.Kernel("mod_row_sum")
	if err != nil {
		t.Fatal(err)
	}
	out, err := d.Alloc64(rows)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Free64(out)
	if err := d.Zero64(out); err != nil {
		t.Fatal(err)
	}
	if err := sum.Launch([3]int{rows, 1, 1}, [3]int{64, 1, 1}, 0, out, bx, int32(cols)); err != nil {
		t.Fatal(err)
	}
	sums := make([]float64, rows)
	if err := d.CopyDtoH64(sums, out); err != nil {
		t.Fatal(err)
	}
	for i := range sums {
		want := 0.0
		for _, v := range x[i*cols : (i+1)*cols] {
			want += v
		}
		if math.Abs(sums[i]-want) > 1e-12*(1+math.Abs(want)) {
			t.Errorf("row %d: sum %v, want %v", i, sums[i], want)
		}
	}
	// argument errors are reported, not launched
	for _, tc := range []struct {
		name string
		args []any
	}{{"type", []any{out, bx, "x"}}, {"int range", []any{out, bx, 1 << 40}}} {
		if err := sum.Launch([3]int{1, 1, 1}, [3]int{64, 1, 1}, 0, tc.args...); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if err := sum.Launch([3]int{1, 1, 1}, [3]int{2048, 1, 1}, 0, out, bx, cols); err == nil {
		t.Error("2048 threads per block: no error")
	}
	if _, err := d.CompileModule("int main() { return 0; }", "empty.cu"); err == nil {
		t.Error("a source without kernels compiled")
	}
}

// TestModuleEmulated runs the module API on the host emulator.
func TestModuleEmulated(t *testing.T) {
	testModule(t, newModuleEmulator(t))
}

// TestModuleDevice runs the module API on a GPU (skipped without one).
func TestModuleDevice(t *testing.T) {
	testModule(t, gpu(t))
}

// TestModuleCompileError checks that NVRTC's complaint reaches the caller (GPU only).
func TestModuleCompileError(t *testing.T) {
	d := gpu(t)
	_, err := d.CompileModule(`extern "C" __global__ void broken(double* y) { y[0] = undefined_name; }`, "broken.cu")
	if err == nil || !strings.Contains(err.Error(), "undefined_name") {
		t.Fatalf("compile error %v does not carry NVRTC's log", err)
	}
}

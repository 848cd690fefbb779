package cuda

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// EmulatorDevice exposes the host kernel emulator to the external tests (package cuda_test):
// a Device whose kernels run on the CPU, or a skip saying why it cannot be built.
//
// Its library is built with hidden symbol visibility (only the emu_* entry points exported):
// every emulator library is loaded RTLD_GLOBAL, so without it the kernels and the inline shim
// functions (__syncthreads, shuffles) of a library loaded later bind to those of the first one
// and use its launch state, which crashes the warp kernels.
func EmulatorDevice(t *testing.T) *Device {
	t.Helper()
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		t.Skip("the kernel emulator runs on linux/amd64 and linux/arm64")
	}
	cxx, err := exec.LookPath("g++")
	if err != nil {
		t.Skip("no g++ to build the kernel emulator")
	}
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
	d := &Device{name: "emulator", funcs: map[string]uintptr{}, args: newKernelArgs(), emu: e,
		work: make(chan job), done: make(chan struct{}), drv: &driver{libs: map[string]string{}}}
	d.pool = newPool(e.mem)
	ready := make(chan error, 1)
	go d.loop(ready)
	if err := <-ready; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// GPUDevice exposes the real test device (every launch synchronised) to the external tests, or
// skips saying why there is none.
func GPUDevice(t *testing.T) *Device { return gpu(t) }

package cuda

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// cudaShim lets a host C++ compiler parse the kernels: the CUDA keywords, built-in variables and
// intrinsics they use, declared with their CUDA signatures.
const cudaShim = `#include <cmath>
#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
struct adj_dim3 { unsigned x, y, z; };
static adj_dim3 blockIdx, blockDim, threadIdx, gridDim;
inline float __shfl_down_sync(unsigned, float v, int) { return v; }
inline float __shfl_sync(unsigned, float v, int) { return v; }
inline float atomicAdd(float* p, float v) { float o = *p; *p += v; return o; }
inline void __syncthreads() {}
`

// TestKernelSourcesParse compiles the embedded CUDA sources with the host C++ compiler
// (syntax and types only), so that a typo surfaces without a GPU. NVRTC compiles them for
// real in the device tests.
func TestKernelSourcesParse(t *testing.T) {
	cxx, err := exec.LookPath("g++")
	if err != nil {
		if cxx, err = exec.LookPath("clang++"); err != nil {
			t.Skip("no host C++ compiler (g++ or clang++) to parse the kernels")
		}
	}
	src, err := kernelSource()
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "kernels.cpp")
	if err := os.WriteFile(f, []byte(cudaShim+src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(cxx, "-std=c++14", "-fsyntax-only", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Werror", f).CombinedOutput()
	if err != nil {
		t.Fatalf("%s rejects the kernels: %v\n%s", cxx, err, out)
	}
}

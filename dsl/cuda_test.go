package dsl

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The generated CUDA C is checked on the host: g++ compiles it with a small shim that stands
// in for the CUDA runtime (one host thread per CUDA thread, blocks one after another,
// __syncthreads as a barrier, shared arrays as statics, atomicAdd under a mutex), and a
// runner evaluates batches that are compared with the CPU evaluation.

// cudaQualifiers turns CUDA's qualifiers into host C++ and declares the launch-index type;
// both shims start with it.
const cudaQualifiers = `#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __shared__ static
struct adj_dim3 { unsigned x, y, z; };
`

const cudaHostShim = `#include <math.h>
#include <barrier>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>
` + cudaQualifiers + `static thread_local adj_dim3 blockIdx = {0, 0, 0}, threadIdx = {0, 0, 0};
static adj_dim3 blockDim = {1, 1, 1}, gridDim = {1, 1, 1};
static std::barrier<>* host_bar;
static std::mutex host_atomic_mu;
inline void __syncthreads() { host_bar->arrive_and_wait(); }
inline double atomicAdd(double* p, double v) { std::lock_guard<std::mutex> g(host_atomic_mu); double o = *p; *p += v; return o; }
inline double __longlong_as_double(long long v) { double d; memcpy(&d, &v, 8); return d; }
inline long long __double_as_longlong(double v) { long long d; memcpy(&d, &v, 8); return d; }
typedef void (*host_kernel)(const double*, double*, double*, int);
struct host_entry { const char* name; host_kernel e, eg; int threads, nd; };
`

const cudaHostRunner = `
static void host_launch(host_kernel k, int grid, int threads, const double* x, double* e, double* g, int B) {
    gridDim = {(unsigned)grid, 1, 1};
    blockDim = {(unsigned)threads, 1, 1};
    for (int b = 0; b < grid; b++) {
        std::barrier<> bar(threads);
        host_bar = &bar;
        std::vector<std::thread> ts;
        for (int t = 0; t < threads; t++) ts.emplace_back([=] { blockIdx = {(unsigned)b, 0, 0}; threadIdx = {(unsigned)t, 0, 0}; k(x, e, g, B); });
        for (auto& th : ts) th.join();
    }
}
// usage: runner NAME GRID B IN OUT; IN holds B*nd doubles, OUT receives e (B), grad (B*nd) and
// e from the energy-only kernel (B).
int main(int argc, char** argv) {
    if (argc != 6) return 2;
    const host_entry* en = nullptr;
    for (const host_entry& h : host_entries) if (strcmp(h.name, argv[1]) == 0) en = &h;
    if (!en) return 3;
    int grid = atoi(argv[2]), B = atoi(argv[3]);
    std::vector<double> x((size_t)B * en->nd), e(B, NAN), g((size_t)B * en->nd, NAN), e2(B, NAN);
    FILE* f = fopen(argv[4], "rb");
    if (!f || fread(x.data(), 8, x.size(), f) != x.size()) return 4;
    fclose(f);
    host_launch(en->eg, grid, en->threads, x.data(), e.data(), g.data(), B);
    host_launch(en->e, grid, en->threads, x.data(), e2.data(), nullptr, B);
    f = fopen(argv[5], "wb");
    if (!f) return 5;
    fwrite(e.data(), 8, e.size(), f);
    fwrite(g.data(), 8, g.size(), f);
    fwrite(e2.data(), 8, e2.size(), f);
    fclose(f);
    return 0;
}
`

// cudaCase is one energy checked through the generated source.
type cudaCase struct {
	name, src string
	data      string // reference configurations in lib/refdata ("" for random ones)
	opt       CUDAOptions
	grid      int // at most this many blocks (fewer than the batch needs: blocks stride over it)
}

var cudaCases = []cudaCase{
	{name: "dw4", src: dw4Src, data: "test_split_DW4.npy", grid: 3},
	{name: "lj13_per_thread", src: lj13Src, data: "test_split_LJ13-1000.npy", opt: CUDAOptions{Threads: 32, ThreadsPerConfig: 1}, grid: 1},
	{name: "centred_tc2", src: `system s { particles 4 in 3d
		energy = sum pairs i<j: dot(x[i] - com, x[j] - com) * r[i,j] + (x[0].y - com.y)^3 + sum i: exp(0.1*(x[i].z - com.z)) }`,
		opt: CUDAOptions{Threads: 32, ThreadsPerConfig: 2}},
	{name: "lj13", src: lj13Src, data: "test_split_LJ13-1000.npy", opt: CUDAOptions{Threads: 32}, grid: 3},
	{name: "lj13_global", src: lj13Src, data: "test_split_LJ13-1000.npy", opt: CUDAOptions{GlobalScratch: true}, grid: 2},
	{name: "pairs_ne_asym", src: `system s { particles 3 in 3d
		energy = sum pairs i≠j: exp(-r2[i,j]) * (x[i].x - 0.3*x[j].y) + dr[i,j].z^3 }`},
	{name: "fixed_particles", src: `system s { particles 3 in 2d
		energy = r[0,1]^2 + x[2].y * x[0][0] + tanh(com.x) - log(1 + r2[1,2]) }`},
	{name: "nonlinear_top", src: `system s { particles 3 in 2d
		energy = log(sum pairs i<j: exp(-r[i,j])) + sqrt(1 + (sum i: x[i].x)^2) }`},
	{name: "functions", src: `system s { particles 2 in 2d
		energy = sin(x[0].x)*cos(x[1].y) + abs(x[0].y - 5) + pow(2 + x[1].x^2, 1.5) + sinh(x[0].x)/cosh(x[1].x)
		  + min(x[0].x, x[1].x) + max(x[0].y, 0.5, x[1].y) + smin(x[0].x, x[1].y, 0.3) + smax(x[0].x, x[1].y, 0.7)
		  + softplus(x[1].y) + sigmoid(x[0].x) + where(x[0].x > x[1].x, x[0].x^2, -x[1].x) + dot(x[0], x[1]) + norm(x[0]-x[1]) }`},
	{name: "soft_reductions", src: `system s { particles 3 in 2d
		energy = sum pairs i<j: -logsumexp(-8*(r[i,j] - 1)^2, -3*(r[i,j] - 2)^2, -r[i,j])
		  + smin(x[0].x, x[1].x, x[2].x, 0.4) + smax(x[0].y, x[1].y, x[2].y, 0.6) + logsumexp(x[0].x) + softmin(x[0].y, x[1].y, 0.2) }`},
	{name: "more_ops", src: `system s { particles 2 in 3d
		energy = tan(0.2*x[0].x) + where(x[0].x <= x[1].x, 1, 2)*x[0].y + where(x[0].y == 0.5, 3, x[1].y)
		  + where(x[1].x != x[0].y, x[0].z, 0) + where(x[1].z >= 0, x[1].z^2, 1) + pow(1 + x[0].z^2, 0.3 + 0.1*x[1].y^2)
		  + (1 + x[1].x^2)^2.5 + 3/(2 + x[0].x^2) - 1.5/x[1].z^3 + abs(x[0].x)*x[1].y }`},
	{name: "periodic", src: `system s { particles 3 in 2d; box 3 x 4 periodic
		energy = sum pairs i<j: exp(-r2[i,j]) + 0.1*dr[i,j].x^2 + r[0,2]^3 }`},
	{name: "ring", src: `system ring { particles 1 in 2d; box 6.283 x 6.283 periodic
		energy = -cos(x[0].x) - cos(x[0].y) + 0.5*cos(x[0].x - x[0].y) }`},
	{name: "particle_sum_ref", src: `system s { particles 4 in 3d
		energy = sum i: r[i, 0]^2 * where(x[i].z < 0, 1, 2) + x[i].z * com.y }`},
	{name: "centred", src: `system s { particles 4 in 3d
		energy = sum pairs i<j: dot(x[i] - com, x[j] - com) * r[i,j] + (x[0].y - com.y)^3 + sum i: exp(0.1*(x[i].z - com.z)) }`},
	{name: "radial_particle", src: `system s { particles 4 in 3d
		energy = sum i: norm(x[i])^-2 + 3*norm2(x[i]) + sum i: norm(x[i] - com)^3 + 0.5*sum i: norm2(x[i] - com) }`,
		opt: CUDAOptions{Threads: 64}},
	{name: "radial_tape", src: `system s { particles 4 in 2d
		energy = sum i: exp(-norm2(x[i] - com)) + log(1 + sum i: norm2(x[i] - com)) + log(2 + sum i: norm(x[i])) }`},
	{name: "soften_where", src: `system s { particles 4 in 3d; soften 0.01
		energy = sum pairs i<j: where(r[i,j] < 1.5, (1.5 - r[i,j])^2, 0) + 1/r[i,j] }`},
	{name: "pairs_ne_1d", src: `system s { particles 40 in 1d
		energy = sum pairs i!=j: exp(-abs(dr[i,j].x)) * x[i].x + 0.01*sum i: x[i].x^4 }`, grid: 2},
}

// hostCxx returns the g++ that builds generated CUDA C for the host, or skips the test.
func hostCxx(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the host build of the generated CUDA C runs on linux")
	}
	cxx, err := exec.LookPath("g++")
	if err != nil {
		t.Skip("no g++ to build the generated CUDA C on the host")
	}
	return cxx
}

// buildHost writes src to a temporary NAME.cpp, compiles it with cxx (C++20, threads, the
// optimisation flag opt) and returns the program and its folder.
func buildHost(t *testing.T, cxx, name, src, opt string) (bin, dir string) {
	t.Helper()
	dir = t.TempDir()
	cpp := filepath.Join(dir, name+".cpp")
	bin = filepath.Join(dir, name)
	if err := os.WriteFile(cpp, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(cxx, "-std=c++20", opt, "-pthread", "-o", bin, cpp).CombinedOutput(); err != nil {
		t.Fatalf("g++ on the generated %s source: %v\n%s", name, err, out)
	}
	return bin, dir
}

// hostCUDA is a runner built from the generated sources of some energies.
type hostCUDA struct {
	bin string
	dir string
}

func buildHostCUDA(t *testing.T, ens []*Energy, cases []cudaCase) *hostCUDA {
	t.Helper()
	cxx := hostCxx(t)
	var src strings.Builder
	src.WriteString(cudaHostShim)
	var entries []string
	for i, en := range ens {
		opt := cases[i].opt
		opt.Name = "k_" + cases[i].name
		p, err := en.cudaProgram(opt)
		if err != nil {
			t.Fatalf("%s: %v", cases[i].name, err)
		}
		src.WriteString(p.src)
		entries = append(entries, fmt.Sprintf("{%q, %s_e, %s_eg, %d, %d}", cases[i].name, opt.Name, opt.Name,
			p.layout.T, en.n*en.d))
	}
	src.WriteString("static const host_entry host_entries[] = {" + strings.Join(entries, ", ") + "};\n")
	src.WriteString(cudaHostRunner)
	bin, dir := buildHost(t, cxx, "energies", src.String(), "-O1")
	return &hostCUDA{bin: bin, dir: dir}
}

func writeF64(path string, v []float64) error {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return os.WriteFile(path, b, 0o644)
}

func readF64(path string, n int) ([]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) != 8*n {
		return nil, fmt.Errorf("%s: %d bytes, want %d", path, len(b), 8*n)
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v, nil
}

// run evaluates B configurations with the kernels of name: energies and gradients, and the
// energies of the energy-only kernel.
func (h *hostCUDA) run(t *testing.T, name string, grid int, x []float64, B, nd int) (e, g, e2 []float64) {
	t.Helper()
	in, out := filepath.Join(h.dir, name+".in"), filepath.Join(h.dir, name+".out")
	if err := writeF64(in, x[:B*nd]); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(h.bin, name, fmt.Sprint(grid), fmt.Sprint(B), in, out).CombinedOutput(); err != nil {
		t.Fatalf("run %s: %v\n%s", name, err, out)
	}
	v, err := readF64(out, 2*B+B*nd)
	if err != nil {
		t.Fatal(err)
	}
	return v[:B], v[B : B+B*nd], v[B+B*nd:]
}

// closeTo reports whether got agrees with want to rel relative to max(1, |want|) (NaN
// agrees with NaN).
func closeTo(got, want, rel float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	if math.IsInf(want, 0) {
		return got == want
	}
	return math.Abs(got-want) <= rel*max(1, math.Abs(want))
}

// cudaInputs returns the configurations of a case: rows of the reference data or random ones.
func cudaInputs(t *testing.T, c cudaCase, en *Energy, rng *rand.Rand) ([]float64, int) {
	if c.data != "" {
		return loadRows(t, c.data, 64)
	}
	const B = 9
	x := make([]float64, B*en.n*en.d)
	for i := range x {
		x[i] = 1.7 * rng.NormFloat64()
	}
	return x, B
}

// TestCUDASourceOnHost builds the generated CUDA C of DW-4, LJ-13 and energies that use every
// operation of the expression graph, runs it on the host and compares energies and gradients
// with the CPU evaluation (to 1e-10 relative), on the reference data for DW-4 and LJ-13.
func TestCUDASourceOnHost(t *testing.T) {
	ens := make([]*Energy, len(cudaCases))
	seen := map[op]bool{}
	for i, c := range cudaCases {
		ens[i] = compileOne(t, c.src).Energy.(*Energy)
		for _, cc := range append([]*compiledCtx{ens[i].top}, ens[i].kernels...) {
			for _, tp := range []*tape{cc.val, cc.full} {
				for _, in := range tp.code {
					seen[in.op] = true
				}
			}
		}
	}
	// the cases exercise every operation a tape can hold, elementary functions included
	// (opCopy and opMulAdd are never scheduled; TestCUDAOps covers them)
	for o := opAdd; o < numOps(); o++ {
		if !seen[o] && o != opCopy && o != opMulAdd {
			t.Errorf("no test energy uses operation %d", o)
		}
	}
	h := buildHostCUDA(t, ens, cudaCases)
	rng := rand.New(rand.NewPCG(31, 32))
	for i, c := range cudaCases {
		t.Run(c.name, func(t *testing.T) {
			en := ens[i]
			nd := en.n * en.d
			x, B := cudaInputs(t, c, en, rng)
			_, perBlock, err := en.CUDALayout(c.opt)
			if err != nil {
				t.Fatal(err)
			}
			grid := (B + perBlock - 1) / perBlock // one block per group of configurations
			if c.grid > 0 {
				grid = min(grid, c.grid) // fewer: blocks stride over the batch
			}
			e, g, e2 := h.run(t, c.name, grid, x, B, nd)
			we, wg := make([]float64, B), make([]float64, B*nd)
			en.EnergyGrad(x, we, wg)
			bad := 0
			for b := 0; b < B; b++ {
				if !closeTo(e[b], we[b], 1e-10) || !closeTo(e2[b], we[b], 1e-10) {
					t.Errorf("config %d: energy %.17g (energy-only kernel %.17g), CPU %.17g", b, e[b], e2[b], we[b])
					bad++
				}
				for k := 0; k < nd && bad < 10; k++ {
					if !closeTo(g[b*nd+k], wg[b*nd+k], 1e-10) {
						t.Errorf("config %d coordinate %d: gradient %.17g, CPU %.17g", b, k, g[b*nd+k], wg[b*nd+k])
						bad++
					}
				}
			}
		})
	}
}

// cudaSyntaxShim lets a host compiler parse the generated source as NVRTC's C++14 (syntax and
// types only).
const cudaSyntaxShim = `#include <math.h>
#include <string.h>
` + cudaQualifiers + `static adj_dim3 blockIdx, blockDim, threadIdx, gridDim;
inline void __syncthreads() {}
inline double atomicAdd(double* p, double v) { double o = *p; *p += v; return o; }
inline double __longlong_as_double(long long v) { double d; memcpy(&d, &v, 8); return d; }
inline long long __double_as_longlong(double v) { long long d; memcpy(&d, &v, 8); return d; }
`

// TestCUDASourceIsCxx14 parses the generated source of every test energy as C++14 (the
// language NVRTC is given) with warnings as errors, but for variables that only some
// energies use.
func TestCUDASourceIsCxx14(t *testing.T) {
	cxx, err := exec.LookPath("g++")
	if err != nil {
		t.Skip("no g++ to parse the generated CUDA C")
	}
	var src strings.Builder
	src.WriteString(cudaSyntaxShim)
	for _, c := range cudaCases {
		opt := c.opt
		opt.Name = "k_" + c.name
		s, err := compileOne(t, c.src).Energy.(*Energy).CUDASource(opt)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		src.WriteString(s)
	}
	f := filepath.Join(t.TempDir(), "energies.cpp")
	if err := os.WriteFile(f, []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(cxx, "-std=c++14", "-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-Wno-unused-variable",
		"-Wno-unused-but-set-variable", f).CombinedOutput()
	if err != nil {
		t.Fatalf("g++ -std=c++14 rejects the generated source: %v\n%s", err, out)
	}
}

// TestCUDAOps compiles the C form of every tape operation on the host and compares it with
// evalOp on ordinary and special operands (signed zeros, infinities, NaN, halves).
func TestCUDAOps(t *testing.T) {
	cxx := hostCxx(t)
	vals := []float64{0, math.Copysign(0, -1), 1, -1, 0.5, -2.5, 2.5, 3.7, -0.3, 1e300, math.Inf(1), math.Inf(-1), math.NaN()}
	type tc struct {
		o       op
		a, b, c float64
		k       float64
	}
	var cases []tc
	for o := opAdd; o < numOps(); o++ {
		for i, a := range vals {
			b := vals[(i*5+3)%len(vals)]
			c := vals[(i*7+1)%len(vals)]
			cases = append(cases, tc{o, a, b, c, vals[(i*3+2)%len(vals)]})
			cases = append(cases, tc{o, a, a, b, 2}) // equal operands (min/max of ±0, ==)
		}
	}
	cases = append(cases, tc{opConst, 0, 0, 0, math.Inf(-1)}, tc{opConst, 0, 0, 0, math.NaN()}, tc{opConst, 0, 0, 0, math.Copysign(0, -1)},
		tc{opConst, 0, 0, 0, 1e-300}, tc{opConst, 0, 0, 0, 0.1}, tc{opConst, 0, 0, 0, -12345678901234567890})
	var src strings.Builder
	src.WriteString(cudaHostShim + cudaPrelude + "#include <cstdint>\nstatic void ops(const double* in, double* out) {\n")
	for i, c := range cases {
		a, b, cc := fmt.Sprintf("in[%d]", 3*i), fmt.Sprintf("in[%d]", 3*i+1), fmt.Sprintf("in[%d]", 3*i+2)
		e, ok := cOp(c.o, a, b, cc, c.k)
		if !ok {
			t.Fatalf("operation %d has no C form", c.o)
		}
		fmt.Fprintf(&src, "    out[%d] = %s;\n", i, e)
	}
	fmt.Fprintf(&src, `}
int main(int argc, char** argv) {
    static double in[%d], out[%d];
    FILE* f = fopen(argv[1], "rb");
    if (!f || fread(in, 8, %d, f) != %d) return 4;
    fclose(f);
    ops(in, out);
    f = fopen(argv[2], "wb");
    fwrite(out, 8, %d, f);
    fclose(f);
    return 0;
}
`, 3*len(cases), len(cases), 3*len(cases), 3*len(cases), len(cases))
	bin, dir := buildHost(t, cxx, "ops", src.String(), "-O0")
	in := make([]float64, 0, 3*len(cases))
	for _, c := range cases {
		in = append(in, c.a, c.b, c.c)
	}
	inPath, outPath := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	if err := writeF64(inPath, in); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, inPath, outPath).CombinedOutput(); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	got, err := readF64(outPath, len(cases))
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		want := evalOp(c.o, c.a, c.b, c.c, c.k)
		if c.o == opConst {
			want = c.k
		}
		ok := closeTo(got[i], want, 1e-15)
		if want == 0 && got[i] == 0 && math.Signbit(want) != math.Signbit(got[i]) && (c.o == opMin || c.o == opMax || c.o == opConst || c.o == opNeg) {
			ok = false // the sign of zero is part of these results
		}
		if !ok {
			t.Errorf("op %d (a=%v b=%v c=%v k=%v): C %v, Go %v", c.o, c.a, c.b, c.c, c.k, got[i], want)
		}
	}
}

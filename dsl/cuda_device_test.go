package dsl

import (
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"adjoint/lib/tensor/cuda"
)

var (
	cudaDevOnce sync.Once
	cudaDev     *cuda.Device
	cudaDevErr  error
)

// testDevice opens the GPU once (every launch synchronised, so that a failing kernel is
// named) or skips, saying why.
func testDevice(t testing.TB) *cuda.Device {
	t.Helper()
	cudaDevOnce.Do(func() {
		cudaDev, cudaDevErr = cuda.Open(cuda.Options{Sync: true})
	})
	if cudaDevErr != nil {
		t.Skip("no CUDA device: " + cudaDevErr.Error())
	}
	return cudaDev
}

// TestCUDADeviceParity runs every test energy on the GPU and compares energies and gradients
// with the CPU evaluation (to 1e-10 relative), on random configurations (the GPU machine may
// lack the reference data), with batches that grow the device buffers and exceed the grid.
func TestCUDADeviceParity(t *testing.T) {
	dev := testDevice(t)
	t.Logf("device %s", dev)
	rng := rand.New(rand.NewPCG(41, 42))
	for _, c := range cudaCases {
		t.Run(c.name, func(t *testing.T) {
			en := compileOne(t, c.src).Energy.(*Energy)
			start := time.Now()
			de, err := en.OnDeviceWith(dev, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			defer de.Close()
			threads, perBlock, _ := en.CUDALayout(c.opt)
			t.Logf("compiled in %v (%d bytes of CUDA C, %d threads per block, %d configurations per block)",
				time.Since(start).Round(time.Millisecond), len(de.Source()), threads, perBlock)
			nd := en.n * en.d
			for _, B := range []int{1, 37, 300} {
				x := make([]float64, B*nd)
				for i := range x {
					x[i] = 1.5 * rng.NormFloat64()
				}
				e, g, e2 := make([]float64, B), make([]float64, B*nd), make([]float64, B)
				if err := de.EnergyGradErr(x, e, g); err != nil {
					t.Fatal(err)
				}
				if err := de.EnergyGradErr(x, e2, nil); err != nil {
					t.Fatal(err)
				}
				we, wg := make([]float64, B), make([]float64, B*nd)
				en.EnergyGrad(x, we, wg)
				bad := 0
				for b := 0; b < B && bad < 10; b++ {
					if !closeTo(e[b], we[b], 1e-10) || !closeTo(e2[b], we[b], 1e-10) {
						t.Errorf("B=%d config %d: energy %.17g (energy only %.17g), CPU %.17g", B, b, e[b], e2[b], we[b])
						bad++
					}
					for k := 0; k < nd; k++ {
						if !closeTo(g[b*nd+k], wg[b*nd+k], 1e-10) {
							t.Errorf("B=%d config %d coordinate %d: gradient %.17g, CPU %.17g", B, b, k, g[b*nd+k], wg[b*nd+k])
							bad++
							break
						}
					}
				}
			}
			// device-resident batches give the same numbers as host slices
			{
				const B = 5
				x := make([]float64, B*nd)
				for i := range x {
					x[i] = 1.5 * rng.NormFloat64()
				}
				e, g := make([]float64, B), make([]float64, B*nd)
				if err := de.EnergyGradErr(x, e, g); err != nil {
					t.Fatal(err)
				}
				bx, err := dev.Upload64(x)
				if err != nil {
					t.Fatal(err)
				}
				defer dev.Free64(bx)
				be, err := dev.Alloc64(B)
				if err != nil {
					t.Fatal(err)
				}
				defer dev.Free64(be)
				bg, err := dev.Alloc64(B * nd)
				if err != nil {
					t.Fatal(err)
				}
				defer dev.Free64(bg)
				if err := de.EnergyGradDevice(bx, be, bg, B); err != nil {
					t.Fatal(err)
				}
				e2, g2 := make([]float64, B), make([]float64, B*nd)
				if err := dev.CopyDtoH64(e2, be); err != nil {
					t.Fatal(err)
				}
				if err := dev.CopyDtoH64(g2, bg); err != nil {
					t.Fatal(err)
				}
				for i := range g {
					if i < B && !closeTo(e2[i], e[i], 1e-12) || !closeTo(g2[i], g[i], 1e-12) {
						t.Fatalf("EnergyGradDevice differs from EnergyGrad at %d", i)
					}
				}
				if err := de.EnergyGradDevice(bx, be, bg, B+1); err == nil {
					t.Error("EnergyGradDevice past the buffers: no error")
				}
			}
			// too short slices give NaN energies and an error
			e := []float64{0, 0}
			de.EnergyGrad(make([]float64, nd), e, nil)
			if de.Err() == nil || e[0] == e[0] {
				t.Errorf("short input: error %v, energy %v", de.Err(), e[0])
			}
		})
	}
}

// TestCUDAOnDeviceWithoutGPU checks the error OnDevice gives on a machine without a GPU.
func TestCUDAOnDeviceWithoutGPU(t *testing.T) {
	if _, err := cuda.Default(); err == nil {
		t.Skip("a GPU is present: TestCUDADeviceParity covers OnDevice")
	}
	en := compileOne(t, dw4Src).Energy.(*Energy)
	_, err := en.OnDevice(nil)
	if err == nil || !strings.Contains(err.Error(), "no CUDA device") {
		t.Fatalf("OnDevice without a GPU: error %v, want one saying there is no CUDA device", err)
	}
}

// TestCUDASourceErrors checks the options that the generator refuses.
func TestCUDASourceErrors(t *testing.T) {
	en := compileOne(t, dw4Src).Energy.(*Energy)
	for _, opt := range []CUDAOptions{{Name: "2bad"}, {Name: "a-b"}, {Threads: 48}, {Threads: 2048}, {Threads: 16},
		{ThreadsPerConfig: 3}, {Threads: 32, ThreadsPerConfig: 64}, {ThreadsPerConfig: 2048}} {
		if _, err := en.CUDASource(opt); err == nil {
			t.Errorf("options %+v: no error", opt)
		}
	}
	src, err := en.CUDASource(CUDAOptions{Name: "my_dw4"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`extern "C" __global__ void my_dw4_e(`, `extern "C" __global__ void my_dw4_eg(`} {
		if !strings.Contains(src, want) {
			t.Errorf("source lacks %q", want)
		}
	}
}

// BenchmarkCUDADeviceLJ13 times energy and gradient of LJ-13 on the GPU (copies included).
func BenchmarkCUDADeviceLJ13(b *testing.B) {
	benchDevice(b, lj13Src, 1024)
}

// BenchmarkCUDADeviceDW4 times energy and gradient of DW-4 on the GPU (copies included).
func BenchmarkCUDADeviceDW4(b *testing.B) {
	benchDevice(b, dw4Src, 1024)
}

func benchDevice(b *testing.B, src string, B int) {
	dev := testDevice(b)
	en := compileOne(b, src).Energy.(*Energy)
	de, err := en.OnDevice(dev)
	if err != nil {
		b.Fatal(err)
	}
	defer de.Close()
	nd := en.n * en.d
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, B*nd)
	for i := range x {
		x[i] = 1.5 * rng.NormFloat64()
	}
	e, g := make([]float64, B), make([]float64, B*nd)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		de.EnergyGrad(x, e, g)
	}
	b.StopTimer()
	if err := de.Err(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(B), "ns/config")
}

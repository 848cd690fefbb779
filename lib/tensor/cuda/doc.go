// Package cuda is the NVIDIA GPU backend of lib/tensor: it loads the CUDA driver (libcuda),
// NVRTC and cuBLAS at run time through github.com/ebitengine/purego, so the binary builds with
// CGO_ENABLED=0 and runs, on the CPU, on machines without CUDA.
//
// A Device owns the primary context of one GPU. The context is current per OS thread, so one
// goroutine locked to its thread (runtime.LockOSThread) makes every driver, NVRTC and cuBLAS
// call; other goroutines hand it closures through Device.Do. Methods called from inside such a
// closure run inline, so a whole layer's work can be queued as one closure.
//
// Device memory comes from a pool with size-class free lists (cuMemAlloc only on a miss);
// Buffer is a float32 array in device memory. The element-wise, pair and reduction kernels an
// EGNN needs are CUDA C sources embedded in the binary (kernels/*.cu), compiled with NVRTC for
// the device's compute capability (CUBIN, falling back to PTX) once per process. Matrix products
// run in cuBLAS; Sgemm takes row-major operands like lib/tensor's Backend and swaps them for
// cuBLAS's column-major convention.
//
// Environment:
//
//	ADJOINT_DEVICE=cpu|cuda    cpu forces the CPU; cuda asks for the GPU (unset: GPU if found)
//	ADJOINT_CUDA_LIB_DIR=DIRS  directories (colon-separated) searched first for the libraries
//	ADJOINT_LIBCUDA, ADJOINT_LIBNVRTC, ADJOINT_LIBCUBLAS   exact paths of each library
//	ADJOINT_TF32=1             let cuBLAS use TF32 tensor cores for float32 products
//	ADJOINT_CUDA_SYNC=1        synchronise and check errors after every launch (debugging)
//
// Libraries are searched in this order: the paths and directories above; the soname through
// the dynamic loader (libcuda.so.1, libnvrtc.so.13, .12, …, libcublas.so.13, .12, …); the CUDA
// toolkit (/usr/local/cuda/lib64, /usr/local/cuda-*/lib64, newest first); the driver's usual
// directories; the directories of NVIDIA's pip wheels (site-packages/nvidia/*/lib) of the
// system Python, of every python3 on PATH, of an active virtual or conda environment, and of
// the usual user and system locations.
//
// Nothing in this package panics across its API: a missing library, driver, device or symbol
// is an error that says which, and Available reports why no GPU can be used.
package cuda

package cuda

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// driver holds the resolved entry points of libcuda, NVRTC and cuBLAS.
type driver struct {
	libs         map[string]string // key → path that loaded
	cudaErr      error             // why libcuda cannot be used (nil when every entry point resolved)
	nvrtcLoadErr error             // why NVRTC cannot be used
	blasLoadErr  error             // why cuBLAS cannot be used

	cuInit, cuDriverGetVersion, cuGetErrorString, cuGetErrorName                                   uintptr
	cuDeviceGet, cuDeviceGetCount, cuDeviceGetName, cuDeviceGetAttribute, cuDeviceTotalMem         uintptr
	cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRelease, cuCtxSetCurrent, cuCtxSynchronize         uintptr
	cuMemAlloc, cuMemFree, cuMemcpyHtoD, cuMemcpyDtoH, cuMemcpyDtoD, cuMemsetD32, cuMemGetInfo     uintptr
	cuModuleLoadData, cuModuleUnload, cuModuleGetFunction, cuLaunchKernel                          uintptr
	cuStreamCreate, cuStreamDestroy, cuStreamSynchronize                                           uintptr
	nvrtcVersion, nvrtcCreateProgram, nvrtcCompileProgram, nvrtcDestroyProgram, nvrtcGetErrorStr   uintptr
	nvrtcGetCUBINSize, nvrtcGetCUBIN, nvrtcGetPTXSize, nvrtcGetPTX                                 uintptr
	nvrtcGetProgramLogSize, nvrtcGetProgramLog                                                     uintptr
	cublasCreate, cublasDestroy, cublasSetStream, cublasSetMathMode, cublasGetVersion, cublasSgemm uintptr
	cublasSgemmStridedBatched                                                                      uintptr
}

type symbol struct {
	name string
	dst  *uintptr
}

// loadLib tries each candidate in order and returns the handle and path of the first that
// loads, with every failure in the error.
func loadLib(s libSpec, env searchEnv) (uintptr, string, error) {
	if !dlSupported {
		_, err := dlopen("")
		return 0, "", err
	}
	var fails []string
	for _, c := range env.candidates(s) {
		if s.key == "nvrtc" {
			// NVRTC loads libnvrtc-builtins by soname when compiling: preload the copy beside it.
			for _, b := range builtinsFor(c) {
				if _, err := dlopen(b); err == nil {
					break
				}
			}
		}
		if s.key == "cublas" {
			for _, b := range companionsFor(c) {
				_, _ = dlopen(b)
			}
		}
		h, err := dlopen(c)
		if err == nil && h != 0 {
			return h, c, nil
		}
		if err != nil {
			fails = append(fails, firstLine(err.Error()))
		}
	}
	return 0, "", fmt.Errorf("cuda: %s library not found (tried %s)", s.key, strings.Join(fails, "; "))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func resolve(h uintptr, lib string, syms []symbol) error {
	var missing []string
	for _, s := range syms {
		*s.dst = dlsym(h, s.name)
		if *s.dst == 0 {
			missing = append(missing, s.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("cuda: %s lacks %s", lib, strings.Join(missing, ", "))
	}
	return nil
}

var (
	loadOnce sync.Once
	loaded   *driver
	loadErr  error
)

// loadDriver loads the three libraries once per process.
func loadDriver() (*driver, error) {
	loadOnce.Do(func() { loaded, loadErr = loadWith(defaultSearchEnv()) })
	return loaded, loadErr
}

func loadWith(env searchEnv) (*driver, error) {
	d := &driver{libs: map[string]string{}}
	var errs []error
	h, path, err := loadLib(specCUDA, env)
	if err != nil {
		d.cudaErr = err
		return d, err
	}
	d.libs["cuda"] = path
	if err := resolve(h, "libcuda", []symbol{
		{"cuInit", &d.cuInit}, {"cuDriverGetVersion", &d.cuDriverGetVersion},
		{"cuGetErrorString", &d.cuGetErrorString}, {"cuGetErrorName", &d.cuGetErrorName},
		{"cuDeviceGet", &d.cuDeviceGet}, {"cuDeviceGetCount", &d.cuDeviceGetCount},
		{"cuDeviceGetName", &d.cuDeviceGetName}, {"cuDeviceGetAttribute", &d.cuDeviceGetAttribute},
		{"cuDeviceTotalMem_v2", &d.cuDeviceTotalMem},
		{"cuDevicePrimaryCtxRetain", &d.cuDevicePrimaryCtxRetain}, {"cuDevicePrimaryCtxRelease_v2", &d.cuDevicePrimaryCtxRelease},
		{"cuCtxSetCurrent", &d.cuCtxSetCurrent}, {"cuCtxSynchronize", &d.cuCtxSynchronize},
		{"cuMemAlloc_v2", &d.cuMemAlloc}, {"cuMemFree_v2", &d.cuMemFree},
		{"cuMemcpyHtoD_v2", &d.cuMemcpyHtoD}, {"cuMemcpyDtoH_v2", &d.cuMemcpyDtoH}, {"cuMemcpyDtoD_v2", &d.cuMemcpyDtoD},
		{"cuMemsetD32_v2", &d.cuMemsetD32}, {"cuMemGetInfo_v2", &d.cuMemGetInfo},
		{"cuModuleLoadData", &d.cuModuleLoadData}, {"cuModuleUnload", &d.cuModuleUnload},
		{"cuModuleGetFunction", &d.cuModuleGetFunction}, {"cuLaunchKernel", &d.cuLaunchKernel},
		{"cuStreamCreate", &d.cuStreamCreate}, {"cuStreamDestroy_v2", &d.cuStreamDestroy},
		{"cuStreamSynchronize", &d.cuStreamSynchronize},
	}); err != nil {
		d.cudaErr = err
		return d, err
	}
	h, path, err = loadLib(specNVRTC, env)
	if err != nil {
		d.nvrtcLoadErr = err
		errs = append(errs, err)
	} else {
		d.libs["nvrtc"] = path
		err = resolve(h, "libnvrtc", []symbol{
			{"nvrtcVersion", &d.nvrtcVersion}, {"nvrtcCreateProgram", &d.nvrtcCreateProgram},
			{"nvrtcCompileProgram", &d.nvrtcCompileProgram}, {"nvrtcDestroyProgram", &d.nvrtcDestroyProgram},
			{"nvrtcGetErrorString", &d.nvrtcGetErrorStr},
			{"nvrtcGetCUBINSize", &d.nvrtcGetCUBINSize}, {"nvrtcGetCUBIN", &d.nvrtcGetCUBIN},
			{"nvrtcGetPTXSize", &d.nvrtcGetPTXSize}, {"nvrtcGetPTX", &d.nvrtcGetPTX},
			{"nvrtcGetProgramLogSize", &d.nvrtcGetProgramLogSize}, {"nvrtcGetProgramLog", &d.nvrtcGetProgramLog},
		})
		if err != nil {
			d.nvrtcLoadErr = err
			errs = append(errs, err)
		}
	}
	h, path, err = loadLib(specCUBLAS, env)
	if err != nil {
		d.blasLoadErr = err
		errs = append(errs, err)
	} else {
		d.libs["cublas"] = path
		err = resolve(h, "libcublas", []symbol{
			{"cublasCreate_v2", &d.cublasCreate}, {"cublasDestroy_v2", &d.cublasDestroy},
			{"cublasSetStream_v2", &d.cublasSetStream}, {"cublasSetMathMode", &d.cublasSetMathMode},
			{"cublasGetVersion_v2", &d.cublasGetVersion}, {"cublasSgemm_v2", &d.cublasSgemm},
			{"cublasSgemmStridedBatched", &d.cublasSgemmStridedBatched},
		})
		if err != nil {
			d.blasLoadErr = err
			errs = append(errs, err)
		}
	}
	return d, errors.Join(errs...)
}

// status is the 32-bit status a C function returned in r1.
func status(r1 uintptr) int32 { return int32(uint32(r1)) }

// goString copies a NUL-terminated C string.
func goString(p *byte) string {
	if p == nil {
		return ""
	}
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
		if n > 1<<16 {
			break
		}
	}
	return string(unsafe.Slice(p, n))
}

// ptrFromUintptr reinterprets a C pointer returned by a call (never a Go pointer).
func ptrFromUintptr(u uintptr) *byte {
	return *(**byte)(unsafe.Pointer(&u))
}

// cuErr turns a CUresult into an error naming the call and the driver's description.
func (d *driver) cuErr(fn string, r1 uintptr) error {
	code := status(r1)
	if code == 0 {
		return nil
	}
	var name, desc *byte
	if d.cuGetErrorName != 0 {
		purego.SyscallN(d.cuGetErrorName, uintptr(code), uintptr(unsafe.Pointer(&name)))
	}
	if d.cuGetErrorString != 0 {
		purego.SyscallN(d.cuGetErrorString, uintptr(code), uintptr(unsafe.Pointer(&desc)))
	}
	return &Error{Func: fn, Code: int(code), Name: goString(name), Desc: goString(desc)}
}

// nvrtcErr turns an nvrtcResult into an error.
func (d *driver) nvrtcErr(fn string, r1 uintptr) error {
	code := status(r1)
	if code == 0 {
		return nil
	}
	var desc string
	if d.nvrtcGetErrorStr != 0 {
		r, _, _ := purego.SyscallN(d.nvrtcGetErrorStr, uintptr(code))
		desc = goString(ptrFromUintptr(r))
	}
	return &Error{Func: fn, Code: int(code), Desc: desc}
}

// cublasErr turns a cublasStatus_t into an error.
func cublasErr(fn string, r1 uintptr) error {
	code := status(r1)
	if code == 0 {
		return nil
	}
	return &Error{Func: fn, Code: int(code), Name: cublasStatusName(int(code))}
}

// Error is a failed CUDA driver, NVRTC or cuBLAS call.
type Error struct {
	Func string // the C function
	Code int    // its status code
	Name string // the status's name, when known
	Desc string // the library's description, when known
}

// Error describes the failure: the function, the status and the library's text.
func (e *Error) Error() string {
	s := fmt.Sprintf("cuda: %s failed: status %d", e.Func, e.Code)
	if e.Name != "" {
		s += " " + e.Name
	}
	if e.Desc != "" {
		s += ": " + e.Desc
	}
	return s
}

func cublasStatusName(code int) string {
	switch code {
	case 1:
		return "CUBLAS_STATUS_NOT_INITIALIZED"
	case 3:
		return "CUBLAS_STATUS_ALLOC_FAILED"
	case 7:
		return "CUBLAS_STATUS_INVALID_VALUE"
	case 8:
		return "CUBLAS_STATUS_ARCH_MISMATCH"
	case 11:
		return "CUBLAS_STATUS_MAPPING_ERROR"
	case 13:
		return "CUBLAS_STATUS_EXECUTION_FAILED"
	case 14:
		return "CUBLAS_STATUS_INTERNAL_ERROR"
	case 15:
		return "CUBLAS_STATUS_NOT_SUPPORTED"
	case 16:
		return "CUBLAS_STATUS_LICENSE_ERROR"
	}
	return ""
}

package cuda

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"unsafe"
)

var (
	defOnce sync.Once
	defDev  *Device
	defErr  error
	logMu   sync.Mutex
	logW    io.Writer = os.Stderr
)

// SetLog sets where the one-line report of the libraries found goes (nil silences it; the
// default is standard error).
func SetLog(w io.Writer) {
	logMu.Lock()
	logW = w
	logMu.Unlock()
}

func logf(format string, args ...any) {
	logMu.Lock()
	defer logMu.Unlock()
	if logW != nil {
		fmt.Fprintf(logW, format+"\n", args...)
	}
}

// Requested is the device that ADJOINT_DEVICE asks for: "cpu", "cuda", or "" (unset: the GPU
// when one is found, else the CPU).
func Requested() string {
	return strings.ToLower(strings.TrimSpace(os.Getenv("ADJOINT_DEVICE")))
}

// Default opens, once per process, the GPU that ADJOINT_DEVICE allows and returns it, or nil
// and the reason the CPU is used.
func Default() (*Device, error) {
	defOnce.Do(func() {
		switch Requested() {
		case "cpu":
			defErr = errors.New("ADJOINT_DEVICE=cpu")
			return
		case "", "cuda", "gpu":
		default:
			defErr = fmt.Errorf("ADJOINT_DEVICE=%q is neither cpu nor cuda", os.Getenv("ADJOINT_DEVICE"))
			return
		}
		defDev, defErr = Open(Options{})
		if defErr == nil {
			logf("cuda: %s; %s", defDev, librarySummary(defDev.Libraries()))
		} else if Requested() != "" {
			logf("cuda: ADJOINT_DEVICE=%s but no CUDA device (%v); using the CPU", Requested(), defErr)
		}
	})
	return defDev, defErr
}

// Available reports whether a GPU can be used: a description such as
// "cuda: NVIDIA H100 80GB HBM3 (sm_90)", or the reason it cannot.
func Available() (string, error) {
	d, err := Default()
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

// DeviceName names the device the library computes on: the GPU's description or "cpu".
func DeviceName() string {
	if s, err := Available(); err == nil {
		return s
	}
	return "cpu"
}

func librarySummary(libs map[string]string) string {
	keys := make([]string, 0, len(libs))
	for k := range libs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+libs[k])
	}
	if len(parts) == 0 {
		return "no CUDA libraries found"
	}
	return "libraries: " + strings.Join(parts, " ")
}

// Report describes the device found, or why none: what `adjoint device` prints.
type Report struct {
	Device            string            `json:"device"`
	CUDAFound         bool              `json:"cuda_found"`
	Libs              map[string]string `json:"libs"`
	Reason            string            `json:"reason,omitempty"`
	Requested         string            `json:"requested,omitempty"`
	Name              string            `json:"name,omitempty"`
	ComputeCapability string            `json:"compute_capability,omitempty"`
	MemoryMiB         uint64            `json:"memory_mib,omitempty"`
	FreeMiB           uint64            `json:"free_mib,omitempty"`
	DriverVersion     int               `json:"driver_version,omitempty"`
	NVRTCVersion      string            `json:"nvrtc_version,omitempty"`
	Kernels           string            `json:"kernels,omitempty"`
	BLAS              string            `json:"cublas,omitempty"`
	TF32              bool              `json:"tf32"`
}

// Probe examines the machine: the libraries found and the device Default selects.
func Probe() Report {
	r := Report{Device: "cpu", Libs: map[string]string{}, Requested: Requested()}
	drv, lerr := loadDriver()
	if drv != nil {
		for k, v := range drv.libs {
			r.Libs[k] = v
		}
		if drv.cuDriverGetVersion != 0 {
			var v int32
			if status(sys(drv.cuDriverGetVersion, uintptr(unsafe.Pointer(&v)))) == 0 {
				r.DriverVersion = int(v)
			}
		}
	}
	d, err := Default()
	if err != nil {
		r.Reason = err.Error()
		if lerr != nil && !strings.Contains(r.Reason, lerr.Error()) {
			r.Reason += "; " + lerr.Error()
		}
		return r
	}
	r.CUDAFound = true
	r.Device = d.String()
	r.Name = d.Name()
	ma, mi := d.ComputeCapability()
	r.ComputeCapability = fmt.Sprintf("%d.%d", ma, mi)
	r.MemoryMiB = d.TotalMemory() >> 20
	if free, _, err := d.MemInfo(); err == nil {
		r.FreeMiB = free >> 20
	}
	if a, b := d.NVRTCVersion(); a > 0 {
		r.NVRTCVersion = fmt.Sprintf("%d.%d", a, b)
	}
	if err := d.KernelsErr(); err != nil {
		r.Kernels = "unavailable: " + err.Error()
	} else {
		r.Kernels = "compiled: " + d.CompileNote()
	}
	if err := d.BLASErr(); err != nil {
		r.BLAS = "unavailable: " + err.Error()
	} else {
		r.BLAS = "ok"
	}
	r.TF32 = d.TF32()
	return r
}

package cuda

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// compileTarget is one NVRTC attempt: CUBIN for the exact architecture, or PTX for the
// virtual one (the driver then JIT-compiles it).
type compileTarget struct {
	cubin bool
	opts  []string
}

// nvrtcTargets lists the compilations to try for a device of compute capability major.minor:
// CUBIN for sm_XY first (a newer NVRTC than the driver cannot bite), then PTX for compute_XY.
func nvrtcTargets(major, minor int) ([]compileTarget, error) {
	if major < 3 || major > 99 || minor < 0 || minor > 9 {
		return nil, fmt.Errorf("cuda: unexpected compute capability %d.%d", major, minor)
	}
	common := []string{"--std=c++14", "-DADJOINT_CUDA=1"}
	arch := fmt.Sprintf("%d%d", major, minor)
	return []compileTarget{
		{cubin: true, opts: append([]string{"--gpu-architecture=sm_" + arch}, common...)},
		{cubin: false, opts: append([]string{"--gpu-architecture=compute_" + arch}, common...)},
	}, nil
}

// cStringArray builds NUL-terminated copies of ss and an array of pointers to them, the
// const char* const* that NVRTC takes. The caller keeps both alive (and pinned) for the call.
func cStringArray(ss []string) ([][]byte, []*byte) {
	bufs := make([][]byte, len(ss))
	ptrs := make([]*byte, len(ss))
	for i, s := range ss {
		b := make([]byte, len(s)+1)
		copy(b, s)
		bufs[i] = b
		ptrs[i] = &b[0]
	}
	return bufs, ptrs
}

// cString is s with a terminating NUL.
func cString(s string) []byte {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return b
}

// sourceKey identifies a compiled module: the source and the options.
func sourceKey(src string, opts []string) string {
	h := sha256.New()
	h.Write([]byte(src))
	for _, o := range opts {
		h.Write([]byte{0})
		h.Write([]byte(o))
	}
	return hex.EncodeToString(h.Sum(nil))
}

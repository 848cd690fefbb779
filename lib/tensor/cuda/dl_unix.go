//go:build !windows

package cuda

import "github.com/ebitengine/purego"

// dlopen loads a shared library with RTLD_NOW|RTLD_GLOBAL (so that libraries loaded later by
// soname, such as NVRTC's builtins, resolve against it).
func dlopen(path string) (uintptr, error) {
	return purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
}

// dlsym resolves a symbol; 0 when absent.
func dlsym(h uintptr, name string) uintptr {
	p, err := purego.Dlsym(h, name)
	if err != nil {
		return 0
	}
	return p
}

const dlSupported = true

//go:build windows

package cuda

import "errors"

func dlopen(path string) (uintptr, error) {
	return 0, errors.New("cuda: loading CUDA libraries is not implemented on Windows")
}

func dlsym(h uintptr, name string) uintptr { return 0 }

const dlSupported = false

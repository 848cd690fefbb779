package cuda

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// libSpec names one shared library and the ways to find it.
type libSpec struct {
	key     string   // "cuda", "nvrtc", "cublas"
	env     string   // environment variable holding an exact path
	sonames []string // tried in order, newest first
	driver  bool     // the driver library: also searched in the driver's directories
}

var (
	specCUDA   = libSpec{key: "cuda", env: "ADJOINT_LIBCUDA", sonames: []string{"libcuda.so.1", "libcuda.so"}, driver: true}
	specNVRTC  = libSpec{key: "nvrtc", env: "ADJOINT_LIBNVRTC", sonames: []string{"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"}}
	specCUBLAS = libSpec{key: "cublas", env: "ADJOINT_LIBCUBLAS", sonames: []string{"libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"}}
)

// searchEnv is what the search looks at: the environment and the file system. root prefixes
// the fixed system locations (tests point it at a fake tree); paths that come from the
// environment (PATH, VIRTUAL_ENV, ADJOINT_CUDA_LIB_DIR, …) are used as they are.
type searchEnv struct {
	getenv func(string) string
	root   string
	home   string
}

func defaultSearchEnv() searchEnv {
	home, _ := os.UserHomeDir()
	return searchEnv{getenv: os.Getenv, home: home}
}

func exists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func (e searchEnv) sys(p string) string {
	if e.root == "" {
		return p
	}
	return filepath.Join(e.root, p)
}

// appendUnique appends the strings of add that are not in list yet.
func appendUnique(list []string, add ...string) []string {
	for _, a := range add {
		dup := false
		for _, l := range list {
			if l == a {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, a)
		}
	}
	return list
}

// versionKey turns "cuda-12.4" into comparable numbers (12, 4).
func versionKey(dir string) []int {
	base := filepath.Base(dir)
	base = strings.TrimPrefix(base, "cuda-")
	var v []int
	for _, f := range strings.Split(base, ".") {
		n, err := strconv.Atoi(f)
		if err != nil {
			break
		}
		v = append(v, n)
	}
	return v
}

func newerFirst(dirs []string) {
	sort.SliceStable(dirs, func(i, j int) bool {
		a, b := versionKey(dirs[i]), versionKey(dirs[j])
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] != b[k] {
				return a[k] > b[k]
			}
		}
		return len(a) > len(b)
	})
}

// toolkitDirs are the CUDA toolkit's library directories, /usr/local/cuda first and then the
// versioned installations, newest first.
func (e searchEnv) toolkitDirs() []string {
	dirs := []string{e.sys("/usr/local/cuda/lib64"), e.sys("/usr/local/cuda/targets/x86_64-linux/lib"),
		e.sys("/usr/local/cuda/targets/sbsa-linux/lib")}
	vers, _ := filepath.Glob(e.sys("/usr/local/cuda-*"))
	newerFirst(vers)
	for _, v := range vers {
		dirs = append(dirs, filepath.Join(v, "lib64"))
	}
	return dirs
}

// driverDirs are where distributions and containers put libcuda.
func (e searchEnv) driverDirs() []string {
	return []string{e.sys("/usr/lib/x86_64-linux-gnu"), e.sys("/usr/lib/aarch64-linux-gnu"), e.sys("/usr/lib64"),
		e.sys("/usr/local/nvidia/lib64"), e.sys("/usr/local/nvidia/lib"), e.sys("/usr/lib/wsl/lib")}
}

// sitePackages lists Python package directories: those of every python3 on PATH (its prefix's
// lib/python3*/{site,dist}-packages), of an active virtual or conda environment, of the system
// Python and of the usual user and system locations.
func (e searchEnv) sitePackages() []string {
	var prefixes []string
	for _, v := range []string{"VIRTUAL_ENV", "CONDA_PREFIX"} {
		if p := e.getenv(v); p != "" {
			prefixes = appendUnique(prefixes, p)
		}
	}
	for _, dir := range filepath.SplitList(e.getenv("PATH")) {
		if dir == "" {
			continue
		}
		if exists(filepath.Join(dir, "python3")) {
			prefixes = appendUnique(prefixes, filepath.Dir(dir))
		}
	}
	prefixes = appendUnique(prefixes, e.sys("/usr"), e.sys("/usr/local"), e.sys("/opt/conda"))
	if e.home != "" {
		prefixes = appendUnique(prefixes, filepath.Join(e.home, ".local"))
	}
	var out []string
	for _, p := range prefixes {
		for _, pat := range []string{"lib/python3*/site-packages", "lib/python3*/dist-packages", "lib/python3/dist-packages",
			"local/lib/python3*/dist-packages"} {
			m, _ := filepath.Glob(filepath.Join(p, pat))
			sort.Sort(sort.Reverse(sort.StringSlice(m)))
			for _, d := range m {
				if isDir(d) {
					out = appendUnique(out, d)
				}
			}
		}
	}
	return out
}

// pipDirs are the library directories of NVIDIA's pip wheels (nvidia/<component>/lib, and
// nvidia/cu13/lib for the CUDA 13 wheels) and of PyTorch's wheel.
func (e searchEnv) pipDirs() []string {
	var out []string
	for _, sp := range e.sitePackages() {
		for _, pat := range []string{"nvidia/*/lib", "nvidia/*/lib64"} {
			m, _ := filepath.Glob(filepath.Join(sp, pat))
			sort.Strings(m)
			out = appendUnique(out, m...)
		}
		out = appendUnique(out, filepath.Join(sp, "torch/lib"))
	}
	return out
}

// candidates is the ordered list of what to hand to dlopen for spec: an exact path from the
// environment, files in ADJOINT_CUDA_LIB_DIR, the bare sonames (the dynamic loader's own
// search), then files in the toolkit, driver and pip directories. Only existing files are
// listed, except the exact path (so that its failure is reported) and the bare sonames.
func (e searchEnv) candidates(s libSpec) []string {
	var out []string
	if p := e.getenv(s.env); p != "" {
		out = append(out, p)
	}
	inDirs := func(dirs []string) {
		for _, d := range dirs {
			for _, so := range s.sonames {
				if p := filepath.Join(d, so); exists(p) {
					out = appendUnique(out, p)
				}
			}
		}
	}
	inDirs(filepath.SplitList(e.getenv("ADJOINT_CUDA_LIB_DIR")))
	out = appendUnique(out, s.sonames...)
	if s.driver {
		inDirs(e.driverDirs())
		inDirs(e.toolkitDirs())
		return out
	}
	inDirs(e.toolkitDirs())
	inDirs(e.pipDirs())
	return out
}

// builtinsFor lists the libnvrtc-builtins files beside an NVRTC library found at path (NVRTC
// loads them by soname at compile time, so a copy outside the loader's path is preloaded).
func builtinsFor(path string) []string {
	if !strings.Contains(path, "/") {
		return nil
	}
	m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "libnvrtc-builtins.so*"))
	sort.Sort(sort.Reverse(sort.StringSlice(m)))
	return m
}

// companionsFor lists libraries that a cuBLAS found at path may need from its own or a sibling
// wheel directory (libcublasLt, libcudart of the same major version), to be preloaded when
// those directories are not on the loader's path.
func companionsFor(path string) []string {
	if !strings.Contains(path, "/") {
		return nil
	}
	dir, base := filepath.Dir(path), filepath.Base(path)
	suffix := strings.TrimPrefix(base, "libcublas.so")
	var out []string
	for _, p := range []string{
		filepath.Join(dir, "libcudart.so"+suffix),
		filepath.Join(dir, "..", "..", "cuda_runtime", "lib", "libcudart.so"+suffix),
		filepath.Join(dir, "libcublasLt.so"+suffix),
	} {
		if exists(p) {
			out = append(out, filepath.Clean(p))
		}
	}
	return out
}

package cuda

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func touch(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCandidatesOrder(t *testing.T) {
	root := t.TempDir()
	sysroot := filepath.Join(root, "sys")
	venv := filepath.Join(root, "venv")
	override := filepath.Join(root, "override")
	home := filepath.Join(root, "home")
	for _, p := range []string{
		"sys/usr/local/cuda/lib64/libcublas.so.12",
		"sys/usr/local/cuda-12.4/lib64/libcublas.so.12",
		"sys/usr/local/cuda-13.0/lib64/libcublas.so.13",
		"sys/usr/local/cuda-9.2/lib64/libcublas.so",
		"sys/usr/local/cuda-13.0/lib64/libnvrtc.so.13",
		"sys/usr/lib/x86_64-linux-gnu/libcuda.so.1",
		"sys/usr/lib/python3/dist-packages/nvidia/cublas/lib/libcublas.so.12",
		"venv/bin/python3",
		"venv/lib/python3.12/site-packages/nvidia/cu13/lib/libcublas.so.13",
		"venv/lib/python3.12/site-packages/nvidia/cu13/lib/libnvrtc.so.13",
		"venv/lib/python3.12/site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12",
		"home/.local/lib/python3.11/site-packages/nvidia/cublas/lib/libcublas.so.12",
		"override/libcublas.so.12",
		"override/unrelated.so",
	} {
		touch(t, filepath.Join(root, p))
	}
	env := map[string]string{
		"PATH":                 filepath.Join(venv, "bin") + ":" + filepath.Join(root, "nopython"),
		"ADJOINT_CUDA_LIB_DIR": override,
		"ADJOINT_LIBNVRTC":     "/exact/libnvrtc.so.13",
	}
	se := searchEnv{getenv: func(k string) string { return env[k] }, root: sysroot, home: home}
	S := func(p string) string { return filepath.Join(sysroot, p) }
	tests := []struct {
		spec libSpec
		want []string
	}{
		{specCUBLAS, []string{
			filepath.Join(override, "libcublas.so.12"),
			"libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so",
			S("usr/local/cuda/lib64/libcublas.so.12"),
			S("usr/local/cuda-13.0/lib64/libcublas.so.13"),
			S("usr/local/cuda-12.4/lib64/libcublas.so.12"),
			S("usr/local/cuda-9.2/lib64/libcublas.so"),
			filepath.Join(venv, "lib/python3.12/site-packages/nvidia/cu13/lib/libcublas.so.13"),
			S("usr/lib/python3/dist-packages/nvidia/cublas/lib/libcublas.so.12"),
			filepath.Join(home, ".local/lib/python3.11/site-packages/nvidia/cublas/lib/libcublas.so.12"),
		}},
		{specNVRTC, []string{
			"/exact/libnvrtc.so.13",
			"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so",
			S("usr/local/cuda-13.0/lib64/libnvrtc.so.13"),
			filepath.Join(venv, "lib/python3.12/site-packages/nvidia/cu13/lib/libnvrtc.so.13"),
			filepath.Join(venv, "lib/python3.12/site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12"),
		}},
		{specCUDA, []string{
			"libcuda.so.1", "libcuda.so",
			S("usr/lib/x86_64-linux-gnu/libcuda.so.1"),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.spec.key, func(t *testing.T) {
			got := se.candidates(tc.spec)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("candidates:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tc.want, "\n     "))
			}
		})
	}
}

func TestVersionOrderAndCompanions(t *testing.T) {
	dirs := []string{"/usr/local/cuda-11.8", "/usr/local/cuda-12.10", "/usr/local/cuda-12.4", "/usr/local/cuda-13.0"}
	newerFirst(dirs)
	want := []string{"/usr/local/cuda-13.0", "/usr/local/cuda-12.10", "/usr/local/cuda-12.4", "/usr/local/cuda-11.8"}
	if !reflect.DeepEqual(dirs, want) {
		t.Errorf("newerFirst = %v, want %v", dirs, want)
	}
	root := t.TempDir()
	touch(t, filepath.Join(root, "libnvrtc.so.13"))
	touch(t, filepath.Join(root, "libnvrtc-builtins.so.13.0"))
	touch(t, filepath.Join(root, "libcublas.so.13"))
	touch(t, filepath.Join(root, "libcublasLt.so.13"))
	if got := builtinsFor(filepath.Join(root, "libnvrtc.so.13")); len(got) != 1 || filepath.Base(got[0]) != "libnvrtc-builtins.so.13.0" {
		t.Errorf("builtinsFor = %v", got)
	}
	if got := builtinsFor("libnvrtc.so.13"); got != nil {
		t.Errorf("builtinsFor(soname) = %v, want nil (the loader finds the builtins itself)", got)
	}
	if got := companionsFor(filepath.Join(root, "libcublas.so.13")); len(got) != 1 || filepath.Base(got[0]) != "libcublasLt.so.13" {
		t.Errorf("companionsFor = %v", got)
	}
	// A pip layout: nvidia/cublas/lib beside nvidia/cuda_runtime/lib.
	touch(t, filepath.Join(root, "nvidia/cublas/lib/libcublas.so.12"))
	touch(t, filepath.Join(root, "nvidia/cublas/lib/libcublasLt.so.12"))
	touch(t, filepath.Join(root, "nvidia/cuda_runtime/lib/libcudart.so.12"))
	gotPip := companionsFor(filepath.Join(root, "nvidia/cublas/lib/libcublas.so.12"))
	wantPip := []string{filepath.Join(root, "nvidia/cuda_runtime/lib/libcudart.so.12"), filepath.Join(root, "nvidia/cublas/lib/libcublasLt.so.12")}
	if !reflect.DeepEqual(gotPip, wantPip) {
		t.Errorf("companionsFor(pip) = %v, wantPip %v", gotPip, wantPip)
	}
}

// TestLoadMissingLibraries checks that a machine without CUDA gets an error naming what was
// tried, not a panic.
func TestLoadMissingLibraries(t *testing.T) {
	root := t.TempDir()
	env := map[string]string{"ADJOINT_LIBCUDA": filepath.Join(root, "nonexistent/libcuda.so.1")}
	se := searchEnv{getenv: func(k string) string { return env[k] }, root: root}
	_, err := loadWith(se)
	if err == nil {
		t.Skip("a CUDA driver is installed on this machine: nothing to check")
	}
	if !strings.Contains(err.Error(), "nonexistent/libcuda.so.1") || !strings.Contains(err.Error(), "cuda library not found") {
		t.Errorf("error %q does not say what was tried", err)
	}
}

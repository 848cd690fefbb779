package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

func init() {
	registerBench("kernel", "kernel start-up and execute round trip (or, with --soak, memory growth over many cells), against Debian's ipykernel", benchKernel)
}

// benchKernel installs this binary's kernelspec and one for Debian's ipykernel into a
// temporary Jupyter path and runs scripts/bench_kernel.py with /usr/bin/python3, which prints
// one JSON line per kernel and one with the ratios. With --soak N it runs the memory soak
// instead (see the script).
func benchKernel(args []string) error {
	fs := newFlagSet("bench kernel", "[--starts N] [--cells N] [--soak N] [--script PATH]")
	starts := fs.Int("starts", 5, "kernel starts to take the median start-up time over")
	cells := fs.Int("cells", 1000, "execute_request round trips per kernel")
	soak := fs.Int("soak", 0, "instead, run this many cells that reassign the same variables and report memory growth and round-trip drift")
	script := fs.String("script", "", "path of bench_kernel.py (default: scripts/bench_kernel.py in the working directory or next to the binary)")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	dir, err := kernelBenchDir(script, "bench_kernel.py", "bench-adjoint")
	if err != nil {
		return fmt.Errorf("bench kernel: %w", err)
	}
	defer os.RemoveAll(dir)
	ipy := filepath.Join(dir, "share", "jupyter", "kernels", "bench-ipykernel")
	if err := os.MkdirAll(ipy, 0o755); err != nil {
		return fmt.Errorf("bench kernel: %w", err)
	}
	spec := `{"argv": ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
 "display_name": "Python 3 (ipykernel)", "language": "python"}` + "\n"
	if err := os.WriteFile(filepath.Join(ipy, "kernel.json"), []byte(spec), 0o644); err != nil {
		return fmt.Errorf("bench kernel: %w", err)
	}
	cmd := exec.Command("/usr/bin/python3", *script, "--adjoint-kernel", "bench-adjoint", "--ipykernel", "bench-ipykernel",
		"--starts", strconv.Itoa(*starts), "--cells", strconv.Itoa(*cells), "--soak", strconv.Itoa(*soak))
	cmd.Env = append(os.Environ(), "JUPYTER_PATH="+filepath.Join(dir, "share", "jupyter"),
		"JUPYTER_RUNTIME_DIR="+filepath.Join(dir, "runtime"), "PYDEVD_DISABLE_FILE_VALIDATION=1")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("bench_kernel.py: %w", err)
	}
	return nil
}

// kernelBenchDir prepares a run of a kernel script under scripts/: it finds the script when
// *script is empty (in the working directory's scripts/ or next to the binary), makes a
// temporary Jupyter folder and installs this binary's kernelspec there as specName. The caller
// removes the folder.
func kernelBenchDir(script *string, name, specName string) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("locate the adjoint binary: %w", err)
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return "", fmt.Errorf("locate the adjoint binary: %w", err)
	}
	if *script == "" {
		for _, p := range []string{filepath.Join("scripts", name), filepath.Join(filepath.Dir(exe), "..", "scripts", name)} {
			if _, err := os.Stat(p); err == nil {
				*script = p
				break
			}
		}
		if *script == "" {
			return "", fmt.Errorf("scripts/%s not found: run from the repository root or pass --script", name)
		}
	}
	dir, err := os.MkdirTemp("", "adjoint-"+specName)
	if err != nil {
		return "", err
	}
	if _, err := installKernelSpec(installOptions{prefix: dir, name: specName, displayName: "Go (adjoint)"}, exe); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

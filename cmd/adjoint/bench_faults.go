package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// benchKernelFaults is `adjoint bench kernel --faults [FAULT ...]`: it installs this binary's
// kernelspec into a temporary Jupyter path and runs scripts/kernel_faults.py, which injects
// each fault (stack overflow, out of memory, concurrent map writes, deadlocks, closed standard
// streams, SIGTERM and shutdown while a cell runs) into a live kernel through jupyter_client
// and prints one JSON line per fault: what the notebook saw, the time to the error, whether
// the next cell worked and whether the session's variables survived.
func benchKernelFaults(args []string) error {
	fs := newFlagSet("bench kernel --faults", "[--memory-limit SIZE] [--script PATH] [FAULT ...]")
	fs.Bool("faults", true, "inject faults instead of measuring latency")
	limit := fs.String("memory-limit", "1GiB", "the kernel's memory limit during the run ($ADJOINT_MEMORY_LIMIT)")
	script := fs.String("script", "", "path of kernel_faults.py (default: scripts/kernel_faults.py in the working directory or next to the binary)")
	faults, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	dir, err := kernelBenchDir(script, "kernel_faults.py", "bench-faults")
	if err != nil {
		return fmt.Errorf("bench kernel --faults: %w", err)
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command("/usr/bin/python3", append([]string{*script, "bench-faults"}, faults...)...)
	cmd.Env = append(os.Environ(), "JUPYTER_PATH="+filepath.Join(dir, "share", "jupyter"),
		"JUPYTER_RUNTIME_DIR="+filepath.Join(dir, "runtime"), "ADJOINT_MEMORY_LIMIT="+*limit,
		"ADJOINT_KERNEL_LOG="+filepath.Join(dir, "kernel.log"), "ADJOINT_HISTORY_FILE=off")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kernel_faults.py: %w", err)
	}
	return nil
}

// wantsFaults reports whether `adjoint bench kernel` was asked for --faults.
func wantsFaults(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--faults" || a == "-faults" || strings.HasPrefix(a, "--faults=") || strings.HasPrefix(a, "-faults=") {
			return !strings.HasSuffix(a, "=false")
		}
	}
	return false
}

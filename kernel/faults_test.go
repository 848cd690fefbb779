package kernel

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adjoint/internal/testutil"
)

// TestFaults runs scripts/kernel_faults.py: cells that crash the Go runtime (stack overflow,
// out of memory, concurrent map writes), deadlock, exceed the memory limit or close the
// standard streams, each through jupyter_client; then SIGTERM and shutdown_request while a cell
// spins. Every fault must end its cell with an error that names it, the next cell must work
// through the same connection, and no kernel or worker process may be left behind.
func TestFaults(t *testing.T) {
	requirePython(t, "jupyter_client")
	exe, env := installedKernel(t)
	logFile := filepath.Join(t.TempDir(), "kernel.log")
	env = append(env, "ADJOINT_MEMORY_LIMIT=1GiB", "ADJOINT_KERNEL_LOG="+logFile)
	stdout, _ := runDriver(t, "", env, 5*time.Minute, filepath.Join(testutil.RepoRoot(t), "scripts", "kernel_faults.py"), testKernelName)
	overcommit, _ := os.ReadFile("/proc/sys/vm/overcommit_memory")
	want := map[string]struct {
		ename     string // "" for a cell that succeeds
		stateKept bool
	}{
		"stack_overflow":           {"StackOverflow", false},
		"concurrent_map_writes":    {"ConcurrentMapAccess", false},
		"out_of_memory":            {"OutOfMemory", false},
		"memory_limit":             {"OutOfMemory", true},
		"deadlock_mutex":           {"Deadlock", false},
		"deadlock_channel":         {"Deadlock", true},
		"close_stdout":             {"", true},
		"timer_wait":               {"", true},
		"goroutine_panic_compiled": {"", true},
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("output line is not JSON: %q", line)
		}
		fault, _ := r["fault"].(string)
		if fault == "" {
			continue
		}
		seen[fault] = true
		t.Logf("%s", line)
		if strings.HasSuffix(fault, "_busy") {
			if r["kernel_exit_s"] == nil || r["workers_left"] != 0.0 || r["workers"] != 1.0 {
				t.Errorf("%s: the kernel or its worker did not exit: %v", fault, r)
			}
			continue
		}
		w, ok := want[fault]
		if !ok {
			t.Errorf("unexpected fault %q", fault)
			continue
		}
		if fault == "out_of_memory" && strings.TrimSpace(string(overcommit)) == "1" {
			continue // with unlimited overcommit the allocation may succeed
		}
		status := "ok"
		if w.ename != "" {
			status = "error"
		}
		if r["status"] != status || (w.ename != "" && (r["ename"] != w.ename || r["errors"] != 1.0)) {
			t.Errorf("%s: the notebook saw %v %v (%d error outputs) %q, want %s %s", fault, r["status"], r["ename"], int(r["errors"].(float64)), r["evalue"], status, w.ename)
		}
		if r["next_cell_ok"] != true || r["heartbeat"] != true || r["kernel_alive"] != true {
			t.Errorf("%s: the kernel did not answer the next cell: %v", fault, r)
		}
		if r["state_kept"] != w.stateKept {
			t.Errorf("%s: state kept %v, want %v", fault, r["state_kept"], w.stateKept)
		}
	}
	for f := range want {
		if !seen[f] {
			t.Errorf("no result for %s", f)
		}
	}
	if b, err := os.ReadFile(logFile); err != nil || !strings.Contains(string(b), "fatal error: stack overflow") {
		t.Errorf("the kernel's log lacks the worker's crash report: %v", err)
	}
	// No kernel or worker of this binary may outlive the script.
	time.Sleep(200 * time.Millisecond)
	if left := processesOf(exe); len(left) > 0 {
		t.Errorf("processes left behind: %v", left)
	}
}

// processesOf lists the command lines of running processes started from exe.
func processesOf(exe string) []string {
	var out []string
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err != nil || !bytes.HasPrefix(b, []byte(exe+"\x00")) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])); len(f) > 0 && f[0] == "Z" {
			continue
		}
		out = append(out, d.Name()+": "+strings.ReplaceAll(string(b), "\x00", " "))
	}
	return out
}

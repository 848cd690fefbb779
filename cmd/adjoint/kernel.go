package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"adjoint/kernel"
	"adjoint/kernel/interp"
	"adjoint/kernel/worker"
	"adjoint/lib/tensor"
)

func init() {
	register("kernel", "run the Jupyter kernel (what kernel.json starts)", runKernel)
	registerHidden("kernel-worker", runKernelWorker)
}

// computeBanner names the compute device shown in the kernel's banner, e.g.
// "cpu (8 threads, gonum BLAS)".
var computeBanner = func() string {
	name := tensor.CurrentBackend().Name()
	if name == tensor.BLASName() {
		return fmt.Sprintf("cpu (%d threads, %s BLAS)", runtime.GOMAXPROCS(0), name)
	}
	return fmt.Sprintf("%s (%d cpu threads)", name, runtime.GOMAXPROCS(0))
}

// The kernel is two processes: this one, the supervisor, owns the sockets and the heartbeat
// and speaks the Jupyter protocol (package kernel); cells run in a worker process (this binary
// again, `adjoint kernel-worker`), so that a fatal error of the Go runtime in a cell ends only
// the worker, which the supervisor reports and restarts (package kernel/worker).
func runKernel(args []string) error {
	fs := newFlagSet("kernel", "-f CONNECTION_FILE")
	file := fs.String("f", "", "Jupyter connection file")
	histLen := fs.Int("history-length", kernel.DefaultHistoryLength, "latest cells kept for history requests (-1: all)")
	histOut := fs.Int("history-outputs", kernel.DefaultHistoryOutputs, "latest cells whose text result the history keeps (-1: all)")
	histBytes := fs.Int("history-output-bytes", kernel.DefaultHistoryOutputBytes, "longer results are cut in the history (-1: no limit)")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	ci, err := kernel.ReadConnectionFile(*file)
	if err != nil {
		return err
	}
	logw, logName, err := kernelLog()
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("locate the adjoint binary for the worker: %w", err)
	}
	client := worker.NewClient(worker.Options{
		Command: func() *exec.Cmd { return exec.Command(exe, "kernel-worker") },
		Log:     logw, LogName: logName,
	})
	k, err := kernel.New(ci, client, kernel.Options{Banner: computeBanner(),
		Logger:      log.New(logw, "adjoint kernel: ", log.LstdFlags),
		HistoryFile: historyFile(), HistoryLength: *histLen, HistoryOutputs: *histOut, HistoryOutputBytes: *histBytes})
	if err != nil {
		return err
	}
	// The worker's cells read their standard input from the front end (input_request).
	client.SetInput(k.Input)
	client.Start() // the first cell should not wait for the worker to start
	defer client.Close()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	// SIGINT interrupts the running cell instead of killing the kernel; SIGTERM stops it.
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		for s := range sig {
			if s == os.Interrupt {
				k.Interrupt()
				continue
			}
			stop()
		}
	}()
	go watchParent(stop)
	return k.Run(ctx)
}

// kernelLog is where the kernel's own log and its worker's crash reports go: the file named
// by $ADJOINT_KERNEL_LOG (appended to), else the original standard error.
func kernelLog() (io.Writer, string, error) {
	if p := os.Getenv("ADJOINT_KERNEL_LOG"); p != "" {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, "", fmt.Errorf("kernel log: %w", err)
		}
		return f, p, nil
	}
	return os.Stderr, "the kernel's standard error", nil
}

// runKernelWorker is the worker process of `adjoint kernel`: it runs cells for the supervisor
// over descriptors 3 (requests) and 4 (messages back). Its standard error carries only the Go
// runtime's crash reports (and the kernel's log lines); cells' output travels as messages.
func runKernelWorker(args []string) error {
	if len(args) != 0 {
		return fmt.Errorf("%w: adjoint kernel-worker takes no arguments (the kernel starts it)", errUsage)
	}
	// Interrupts come as messages from the supervisor; a SIGINT sent to the whole process
	// group must not end the worker.
	signal.Ignore(os.Interrupt)
	limit, err := memoryLimit(os.Getenv("ADJOINT_MEMORY_LIMIT"))
	if err != nil {
		return err
	}
	in, out := os.NewFile(3, "worker-requests"), os.NewFile(4, "worker-messages")
	if in == nil || out == nil {
		return errors.New("kernel-worker: descriptors 3 and 4 are not open (the kernel starts the worker)")
	}
	return worker.Serve(in, out, func(stdin io.Reader) (kernel.Executor, error) {
		return interp.New(interp.Options{Stdin: stdin, KeepFD2: true})
	}, worker.ServeOptions{MemoryLimit: limit})
}

// memoryLimit parses $ADJOINT_MEMORY_LIMIT: bytes, with an optional K, M, G (or KiB, MiB,
// GiB) suffix, or "off". Empty means three quarters of the memory available to the process
// (the smaller of physical memory and the cgroup's limit), 0 when that is unknown.
func memoryLimit(s string) (int64, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "off", "0":
		return 0, nil
	case "":
		avail := availableMemory()
		return avail / 4 * 3, nil
	}
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}} {
		if strings.HasSuffix(strings.ToLower(s), u.suffix) {
			s, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.m
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("ADJOINT_MEMORY_LIMIT: want bytes with an optional K, M or G suffix, or off: %q", s)
	}
	return int64(n * float64(mult)), nil
}

// availableMemory is the smaller of MemTotal and the cgroup v2 memory limit; 0 if unknown.
func availableMemory() int64 {
	var total int64
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				total = kb << 10
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
			total = n
		}
	}
	return total
}

// watchParent stops the kernel when the process that started it dies (the kernel is then
// re-parented), so that an orphaned kernel does not linger.
func watchParent(stop func()) {
	parent := os.Getppid()
	if parent == 1 {
		return
	}
	for range time.Tick(time.Second) {
		if os.Getppid() != parent {
			stop()
			return
		}
	}
}

// newExecutor starts the in-process cell interpreter used by `adjoint run`; dir, when set,
// becomes the working directory of the process, so that relative paths in cells resolve
// against it (the notebook's directory, as in Jupyter).
func newExecutor(dir string) (kernel.Executor, error) {
	if dir != "" {
		if err := os.Chdir(dir); err != nil {
			return nil, fmt.Errorf("working directory: %w", err)
		}
	}
	// Descriptor 2 stays the terminal's: a fatal error of the Go runtime is then printed there
	// and ends the command, rather than blocking on a capture pipe that nobody reads anymore.
	in, err := interp.New(interp.Options{KeepFD2: true})
	if err != nil {
		return nil, err
	}
	return in, nil
}

// historyFile is where the kernel appends cell inputs: $ADJOINT_HISTORY_FILE ("off" for
// none), else $XDG_DATA_HOME/adjoint/kernel_history.jsonl or
// ~/.local/share/adjoint/kernel_history.jsonl.
func historyFile() string {
	if f, ok := os.LookupEnv("ADJOINT_HISTORY_FILE"); ok {
		if f == "off" {
			return ""
		}
		return f
	}
	data := os.Getenv("XDG_DATA_HOME")
	if data == "" {
		home, err := os.UserHomeDir()
		if err != nil || home == "" {
			return ""
		}
		data = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(data, "adjoint", "kernel_history.jsonl")
}

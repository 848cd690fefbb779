package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"adjoint/kernel"
	"adjoint/kernel/interp"
	"adjoint/lib/display"
	"adjoint/lib/tensor"
)

func init() {
	register("kernel", "run the Jupyter kernel (what kernel.json starts)", runKernel)
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
	// Descriptors 1 and 2 carry the cells' output once the interpreter runs: log to a
	// duplicate of the original standard error.
	_, logw, err := originalStdio(os.Stdout, os.Stderr)
	if err != nil {
		return err
	}
	// The interpreter starts in the background so that the kernel answers kernel_info at once;
	// its standard input asks the front end (input_request).
	exec := newLazyExecutor()
	defer exec.Close()
	k, err := kernel.New(ci, exec, kernel.Options{Banner: computeBanner(),
		Logger:      log.New(logw, "adjoint kernel: ", log.LstdFlags),
		HistoryFile: historyFile(), HistoryLength: *histLen, HistoryOutputs: *histOut, HistoryOutputBytes: *histBytes})
	if err != nil {
		return err
	}
	stdin := k.Stdin()
	exec.start(func() (kernel.Executor, error) { return newExecutorStdin("", stdin) })
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

// newExecutor starts the cell interpreter used by `adjoint kernel` and `adjoint run`; dir,
// when set, becomes the working directory of the cells.
func newExecutor(dir string) (kernel.Executor, error) { return newExecutorStdin(dir, nil) }

// newExecutorStdin is newExecutor with the cells' standard input.
func newExecutorStdin(dir string, stdin io.Reader) (kernel.Executor, error) {
	// Relative paths in cells resolve against dir (the notebook's directory, as in Jupyter).
	if dir != "" {
		if err := os.Chdir(dir); err != nil {
			return nil, fmt.Errorf("working directory: %w", err)
		}
	}
	in, err := interp.New(interp.Options{Stdin: stdin})
	if err != nil {
		return nil, err
	}
	return in, nil
}

// lazyExecutor is an Executor whose interpreter is being created in the background; its
// methods wait until it is ready.
type lazyExecutor struct {
	ready chan struct{}
	exec  kernel.Executor
	err   error
}

func newLazyExecutor() *lazyExecutor { return &lazyExecutor{ready: make(chan struct{})} }

// startExecutor returns a lazyExecutor that is already starting.
func startExecutor(start func() (kernel.Executor, error)) *lazyExecutor {
	l := newLazyExecutor()
	l.start(start)
	return l
}

// start creates the interpreter in the background; call it once.
func (l *lazyExecutor) start(start func() (kernel.Executor, error)) {
	go func() {
		defer close(l.ready)
		l.exec, l.err = start()
		if l.err != nil {
			l.err = fmt.Errorf("start interpreter: %w", l.err)
		}
	}()
}

func (l *lazyExecutor) wait() bool {
	<-l.ready
	return l.err == nil
}

func (l *lazyExecutor) Execute(ctx context.Context, code string, out kernel.Output) kernel.Result {
	if !l.wait() {
		return kernel.Result{Err: &kernel.Error{Name: "KernelError", Value: l.err.Error()}}
	}
	return l.exec.Execute(ctx, code, out)
}

func (l *lazyExecutor) Complete(code string, cursor int) ([]string, int, int) {
	if !l.wait() {
		return nil, cursor, cursor
	}
	return l.exec.Complete(code, cursor)
}

func (l *lazyExecutor) Inspect(code string, cursor, detail int) (display.Bundle, bool) {
	if !l.wait() {
		return display.Bundle{}, false
	}
	return l.exec.Inspect(code, cursor, detail)
}

func (l *lazyExecutor) IsComplete(code string) (string, string) {
	if !l.wait() {
		return "unknown", ""
	}
	return l.exec.IsComplete(code)
}

func (l *lazyExecutor) Close() error {
	if !l.wait() {
		return nil
	}
	return l.exec.Close()
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

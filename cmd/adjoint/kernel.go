package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"adjoint/kernel"
)

func init() {
	register("kernel", "run the Jupyter kernel (what kernel.json starts)", runKernel)
}

// computeBanner names the compute device shown in the kernel's banner.
var computeBanner = func() string {
	return fmt.Sprintf("cpu (%d threads)", runtime.GOMAXPROCS(0))
}

func runKernel(args []string) error {
	fs := newFlagSet("kernel", "-f CONNECTION_FILE")
	file := fs.String("f", "", "Jupyter connection file")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	ci, err := kernel.ReadConnectionFile(*file)
	if err != nil {
		return err
	}
	exec, err := newExecutor()
	if err != nil {
		return fmt.Errorf("start interpreter: %w", err)
	}
	defer exec.Close()
	k, err := kernel.New(ci, exec, kernel.Options{Banner: computeBanner()})
	if err != nil {
		return err
	}
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
	return k.Run(ctx)
}

// newExecutor starts the cell interpreter used by `adjoint kernel` and `adjoint run`.
func newExecutor() (kernel.Executor, error) {
	return nil, errors.New("the cell interpreter is not available in this build")
}

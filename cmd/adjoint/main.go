// Command adjoint is the one binary of the project: the Jupyter kernel, its installer, the
// notebook and script runner, and the command-line trainer, sampler, evaluator and benchmarks.
//
//	adjoint install [--user | --sys-prefix | --prefix DIR] [--name NAME] [--display-name TEXT]
//	adjoint kernel -f CONNECTION_FILE
//	adjoint run FILE [-o OUT]
//	adjoint train SPEC [flags]
//	adjoint sample CHECKPOINT -n N -o OUT.npy
//	adjoint eval SYSTEM SAMPLES.npy [--ref REF.npy]   (default: the built-in reference of dw4, lj13)
//	adjoint eval ZOO-TARGET SAMPLES.npy [--weights LOGW.npy]
//	adjoint zoo [ZOO-TARGET]
//	adjoint mcmc SYSTEM -n N -o OUT.npy
//	adjoint fit SYSTEM --from SAMPLES.npy
//	adjoint diagnose CHECKPOINT [--ref builtin|none|REF.npy]
//	adjoint refgen dw4 --draws N --seed S -o OUT.npy
//	adjoint bench WHAT [flags]
//
// ADJOINT_CPUPROFILE=FILE writes a Go CPU profile of the whole command to FILE (read it
// with go tool pprof), for finding where a training epoch's time goes.
//
// Each subcommand lives in its own file and registers itself with register.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand: run gets the arguments after the subcommand's name.
type command struct {
	name    string
	summary string
	run     func(args []string) error
	hidden  bool // not listed in the usage (started by the binary itself)
}

var commands = map[string]command{}

func register(name, summary string, run func(args []string) error) {
	commands[name] = command{name: name, summary: summary, run: run}
}

// registerHidden registers a subcommand that the usage does not list.
func registerHidden(name string, run func(args []string) error) {
	commands[name] = command{name: name, run: run, hidden: true}
}

// errUsage marks an error whose message is already a usage text.
var errUsage = errors.New("usage")

func usage() string {
	var b strings.Builder
	b.WriteString("adjoint: adjoint sampling in Go, with a Jupyter kernel and a DSL\n\nUsage: adjoint COMMAND [flags]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n, c := range commands {
		if !c.hidden {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  %-8s %s\n", n, commands[n].summary)
	}
	b.WriteString("\nRun 'adjoint COMMAND -h' for a command's flags.\n")
	return b.String()
}

func main() {
	os.Exit(mainCode(os.Args[1:]))
}

func mainCode(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(os.Stderr, usage())
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "adjoint: unknown command %q\n\n%s", args[0], usage())
		return 2
	}
	// The cell interpreter redirects file descriptors 1 and 2 to capture output; keep a
	// duplicate of the original standard error so the command's own error still reaches it.
	errOut := io.Writer(os.Stderr)
	if fd, err := syscall.Dup(int(os.Stderr.Fd())); err == nil {
		f := os.NewFile(uintptr(fd), "stderr")
		defer f.Close()
		errOut = f
	}
	if path := os.Getenv("ADJOINT_CPUPROFILE"); path != "" {
		stop, err := startCPUProfile(path)
		if err != nil {
			fmt.Fprintf(errOut, "adjoint %s: %v\n", c.name, err)
			return 1
		}
		defer stop()
	}
	if err := c.run(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(errOut, "adjoint %s: %v\n", c.name, err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

// newFlagSet returns a flag set for a subcommand that reports errors instead of exiting.
func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("adjoint "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: adjoint %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseInterspersed parses flags that may appear before or after positional arguments
// (Go's flag package stops at the first positional one) and returns the positionals.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// startCPUProfile starts a CPU profile written to path; the returned function ends it.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("ADJOINT_CPUPROFILE: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("ADJOINT_CPUPROFILE: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

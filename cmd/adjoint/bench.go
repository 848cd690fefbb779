package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// benchmark is one `adjoint bench WHAT`: it prints one JSON line per measurement.
type benchmark struct {
	summary string
	run     func(args []string) error
}

var benchmarks = map[string]benchmark{}

func registerBench(name, summary string, run func(args []string) error) {
	benchmarks[name] = benchmark{summary: summary, run: run}
}

func init() {
	register("bench", "measure speed; prints one JSON line per measurement", runBench)
}

func runBench(args []string) error {
	names := make([]string, 0, len(benchmarks))
	for n := range benchmarks {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		var b strings.Builder
		b.WriteString("Usage: adjoint bench WHAT [flags]\n\nBenchmarks:\n")
		for _, n := range names {
			fmt.Fprintf(&b, "  %-8s %s\n", n, benchmarks[n].summary)
		}
		if len(args) == 0 {
			return fmt.Errorf("%w: which benchmark?\n%s", errUsage, b.String())
		}
		fmt.Fprint(os.Stderr, b.String())
		return nil
	}
	bm, ok := benchmarks[args[0]]
	if !ok {
		return fmt.Errorf("%w: unknown benchmark %q (have %s)", errUsage, args[0], strings.Join(names, ", "))
	}
	if args[0] == "kernel" && wantsFaults(args[1:]) {
		return benchKernelFaults(args[1:]) // bench_faults.go
	}
	return bm.run(args[1:])
}

// emitJSON prints one measurement as a JSON line on stdout.
func emitJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	_, err = fmt.Fprintln(os.Stdout, string(b))
	return err
}

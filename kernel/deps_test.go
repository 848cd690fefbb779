package kernel

import (
	"os/exec"
	"strings"
	"testing"

	"adjoint/internal/testutil"
)

// TestProtocolOnlyDependencies keeps the kernel package the Jupyter protocol alone: neither the
// interpreter, the DSL nor the library's heavy parts may enter its dependencies (the executor
// that needs them is wired in by cmd/adjoint).
func TestProtocolOnlyDependencies(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "adjoint/kernel")
	cmd.Dir = testutil.RepoRoot(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps adjoint/kernel: %v\n%s", err, out)
	}
	forbidden := []string{
		"github.com/traefik/yaegi",
		"adjoint/dsl",
		"adjoint/kernel/interp",
		"adjoint/kernel/symbols",
		"adjoint/lib/tensor",
		"gonum.org/v1/plot",
		"github.com/ebitengine/purego",
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list printed too little to check: %q", out)
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == f || strings.HasPrefix(d, f+"/") {
				t.Errorf("adjoint/kernel depends on %s", d)
			}
		}
	}
}

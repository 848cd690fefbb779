// Package testutil holds what the project's tests share: finding the repository root and the
// reference data in ../shared/data beside it.
package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot returns the repository root: the nearest directory above the working directory
// that holds go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	d, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		p := filepath.Dir(d)
		if p == d {
			t.Fatal("repository root (a directory with go.mod) not found above the test directory")
		}
		d = p
	}
}

// SharedDir returns the reference data directory: $ADJOINT_DATA when set (as on a GPU machine
// that gets a copy of the data inside the tree), else ../shared/data beside the repository root.
func SharedDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("ADJOINT_DATA"); d != "" {
		return d
	}
	return filepath.Join(RepoRoot(t), "..", "shared", "data")
}

// SharedData returns the path of a reference data file and fails the test, naming the path,
// when the file is missing (CI provides ../shared/data).
func SharedData(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(SharedDir(t), name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("reference data %s is missing (CI provides ../shared/data): %v", p, err)
	}
	return p
}

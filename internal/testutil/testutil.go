// Package testutil holds what the project's tests share: finding the repository root and the
// reference data kept in the repository (lib/refdata).
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

// SharedDir returns the directory of the reference data in the repository: lib/refdata.
func SharedDir(t testing.TB) string {
	t.Helper()
	return filepath.Join(RepoRoot(t), "lib", "refdata")
}

// SharedData returns the path of a reference data file of lib/refdata (e.g.
// "test_split_DW4.npy") and fails the test, naming the path, when the file is missing.
func SharedData(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(SharedDir(t), name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("reference data %s is missing from the repository: %v", p, err)
	}
	return p
}

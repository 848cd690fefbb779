package dsl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLayout checks that doc.go's map of the package names every source file, and that no
// file grows past 700 lines (one idea per file).
func TestLayout(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "doc.go" {
			continue
		}
		if !strings.Contains(string(doc), f) {
			t.Errorf("doc.go does not place %s among the stages of the package", f)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), "\n"); n > 700 {
			t.Errorf("%s has %d lines: split it by idea (at most 700)", f, n)
		}
	}
}

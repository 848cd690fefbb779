package symbols

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestTablesUpToDate regenerates the tables into a temporary directory and compares them with the
// committed ones. When it fails, run `go generate ./kernel/symbols` from the repository root.
func TestTablesUpToDate(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("go", "run", "./gen", "-o", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go run ./gen: %v\n%s", err, stderr.String())
	}
	fresh, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	committed, _ := filepath.Glob("*.go")
	want := map[string]bool{}
	for _, f := range fresh {
		want[filepath.Base(f)] = true
	}
	for _, f := range committed {
		b := filepath.Base(f)
		if (strings.HasPrefix(b, "adjoint-lib-") || b == "packages_gen.go") && !want[b] {
			t.Errorf("%s is committed but no longer generated: run go generate ./kernel/symbols", b)
		}
	}
	for _, f := range fresh {
		b := filepath.Base(f)
		got, err := os.ReadFile(b)
		if err != nil {
			t.Errorf("%s is not committed: run go generate ./kernel/symbols", b)
			continue
		}
		w, _ := os.ReadFile(f)
		if !bytes.Equal(got, w) {
			t.Errorf("%s is stale: run go generate ./kernel/symbols", b)
		}
	}
	// Documentation: the library's entries must match exactly; the standard library's depend on
	// the toolchain, so only their presence is checked.
	freshDocs := readDocs(t, filepath.Join(dir, "docs.json.gz"))
	docs, err := Docs()
	if err != nil {
		t.Fatal(err)
	}
	for p, m := range freshDocs {
		if strings.HasPrefix(p, "adjoint/") {
			if !reflect.DeepEqual(m, docs[p]) {
				t.Errorf("documentation of %s is stale: run go generate ./kernel/symbols", p)
			}
		} else if len(docs[p]) == 0 {
			t.Errorf("documentation of %s is missing", p)
		}
	}
	for p := range docs {
		if _, ok := freshDocs[p]; !ok {
			t.Errorf("documentation of %s is no longer generated: run go generate ./kernel/symbols", p)
		}
	}
}

func readDocs(t *testing.T, path string) map[string]map[string]Doc {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	js, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]map[string]Doc
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDocsIndex(t *testing.T) {
	docs, err := Docs()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ pkg, name, sig string }{
		{"fmt", "Println", "func Println(a ...any) (n int, err error)"},
		{"strings", "Builder.WriteString", "func (b *Builder) WriteString(s string) (int, error)"},
		{"adjoint/lib/display", "HTML", "func HTML(s string)"},
	}
	for _, c := range cases {
		d, ok := docs[c.pkg][c.name]
		if !ok {
			t.Errorf("%s.%s missing", c.pkg, c.name)
			continue
		}
		if d.Sig != c.sig || d.Doc == "" {
			t.Errorf("%s.%s = %q (doc %d bytes), want %q with a doc", c.pkg, c.name, d.Sig, len(d.Doc), c.sig)
		}
	}
	if _, ok := Symbols["adjoint/lib/display/display"]["NewUpdatable"]; !ok {
		t.Errorf("display table lacks NewUpdatable")
	}
}

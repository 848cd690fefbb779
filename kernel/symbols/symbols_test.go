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

	"adjoint/internal/testutil"
	"adjoint/kernel/symbols/internal/apidigest"
)

// TestAPIUnchanged fails when the exported API of a library package (names, declarations, doc
// comments) differs from the one the tables and the documentation index were generated from.
// When it fails, run `go generate ./kernel/symbols` from the repository root.
func TestAPIUnchanged(t *testing.T) {
	root := testutil.RepoRoot(t)
	ents, err := os.ReadDir(filepath.Join(root, "lib"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range ents {
		dir := filepath.Join(root, "lib", e.Name())
		if !e.IsDir() || !hasGoFiles(dir) {
			continue
		}
		p := "adjoint/lib/" + e.Name()
		seen[p] = true
		want, ok := apiDigests[p]
		if !ok {
			t.Errorf("%s has no symbol table: run go generate ./kernel/symbols", p)
			continue
		}
		if want == "" {
			// It did not build at generation time; it is stale if it builds now.
			if exec.Command("go", "build", p).Run() == nil {
				t.Errorf("%s builds now but has no symbol table: run go generate ./kernel/symbols", p)
			}
			continue
		}
		got, err := apidigest.Dir(dir)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if got != want {
			t.Errorf("the exported API of %s changed since its symbol table was generated: run go generate ./kernel/symbols", p)
		}
	}
	for p := range apiDigests {
		if !seen[p] {
			t.Errorf("%s is gone but still has a symbol table: run go generate ./kernel/symbols", p)
		}
	}
	for _, p := range Packages {
		if apiDigests[p] == "" {
			t.Errorf("%s has a table but no digest", p)
		}
	}
}

func hasGoFiles(dir string) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			return true
		}
	}
	return false
}

// TestTablesUpToDate regenerates everything into a temporary directory and compares it with the
// committed files byte for byte. It type-checks the whole library from source (a minute on a
// small machine), so it runs only when ADJOINT_SYMBOLS_FULL=1; TestAPIUnchanged is the quick
// check that runs always.
func TestTablesUpToDate(t *testing.T) {
	if os.Getenv("ADJOINT_SYMBOLS_FULL") != "1" {
		t.Skip("set ADJOINT_SYMBOLS_FULL=1 for the full regeneration check (TestAPIUnchanged covers staleness)")
	}
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

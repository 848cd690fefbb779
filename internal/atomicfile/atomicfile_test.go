package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bin")
	boom := errors.New("boom")
	for _, c := range []struct {
		name    string
		write   func(w io.Writer) error
		wantErr bool
		want    string // content afterwards
	}{
		{"create", func(w io.Writer) error { _, err := io.WriteString(w, "first"); return err }, false, "first"},
		{"replace", func(w io.Writer) error { _, err := io.WriteString(w, "second, longer"); return err }, false, "second, longer"},
		{"failing writer keeps the old file", func(w io.Writer) error { io.WriteString(w, "partial"); return boom }, true, "second, longer"},
	} {
		err := Write(path, 0o640, c.write)
		if (err != nil) != c.wantErr {
			t.Fatalf("%s: error %v", c.name, err)
		}
		if c.wantErr && !errors.Is(err, boom) {
			t.Errorf("%s: error %v does not wrap the writer's", c.name, err)
		}
		b, err := os.ReadFile(path)
		if err != nil || string(b) != c.want {
			t.Fatalf("%s: file holds %q (%v), want %q", c.name, b, err, c.want)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Errorf("%s: %d entries in the directory, want 1 (temporary files left?)", c.name, len(entries))
		}
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v (%v), want 0640", st.Mode().Perm(), err)
	}
	if err := WriteFile(filepath.Join(dir, "no", "such", "dir"), []byte("x"), 0o644); err == nil {
		t.Error("write into a missing directory: no error")
	}
	if err := WriteFile(path, []byte("bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "bytes" {
		t.Errorf("WriteFile: %q", b)
	}
}

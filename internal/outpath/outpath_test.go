package outpath

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, want string
	}{
		{"new file", filepath.Join(dir, "a.npy"), ""},
		{"existing file", file, ""},
		{"missing folder", filepath.Join(dir, "nope", "a.npy"), "does not exist"},
		{"folder itself", dir, "is a folder"},
		{"under a file", filepath.Join(file, "a.npy"), "is not a folder"},
		{"empty", "", "empty file name"},
	}
	if os.Geteuid() != 0 {
		cases = append(cases, struct{ name, path, want string }{"read-only folder", filepath.Join(ro, "a.npy"), "not writable"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Check(c.path, "output")
			if c.want == "" {
				if err != nil {
					t.Fatalf("Check(%q) = %v, want nil", c.path, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Check(%q) = %v, want an error containing %q", c.path, err, c.want)
			}
		})
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 2 {
		t.Fatalf("Check left files behind: %v", ents)
	}
}

func TestCheckRelativeShowsAbsolute(t *testing.T) {
	t.Chdir(t.TempDir())
	err := Check(filepath.Join("missing", "x.ckpt"), "checkpoint")
	wd, _ := os.Getwd()
	if err == nil || !strings.Contains(err.Error(), filepath.Join(wd, "missing")) {
		t.Fatalf("error %v does not show the absolute folder under %s", err, wd)
	}
	err = CheckInput("gone.npy", "reference")
	if err == nil || !strings.Contains(err.Error(), filepath.Join(wd, "gone.npy")) {
		t.Fatalf("CheckInput error %v does not show the absolute path", err)
	}
}

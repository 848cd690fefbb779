package apidigest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDigest(t *testing.T) {
	base := "package p\n\n// F does things.\nfunc F() int { return 1 }\n\nfunc g() {}\n"
	cases := []struct {
		name, src string
		same      bool
	}{
		{"body change", "package p\n\n// F does things.\nfunc F() int { return 2 }\n\nfunc g() {}\n", true},
		{"unexported change", "package p\n\n// F does things.\nfunc F() int { return 1 }\n\nfunc g(x int) {}\n", true},
		{"signature change", "package p\n\n// F does things.\nfunc F() int64 { return 1 }\n\nfunc g() {}\n", false},
		{"doc change", "package p\n\n// F does other things.\nfunc F() int { return 1 }\n\nfunc g() {}\n", false},
		{"new name", base + "\nconst C = 3\n", false},
	}
	d0 := digestOf(t, base)
	for _, c := range cases {
		if got := digestOf(t, c.src) == d0; got != c.same {
			t.Errorf("%s: same digest = %v, want %v", c.name, got, c.same)
		}
	}
}

func digestOf(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

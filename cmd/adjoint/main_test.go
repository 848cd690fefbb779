package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		args    []string
		wantPos []string
		wantN   int
	}{
		{[]string{"a", "-n", "3", "b"}, []string{"a", "b"}, 3},
		{[]string{"-n", "5", "x"}, []string{"x"}, 5},
		{[]string{"x", "--", "-n"}, []string{"x", "-n"}, 0},
		{nil, nil, 0},
	}
	for _, tc := range tests {
		fs := newFlagSet("t", "")
		n := fs.Int("n", 0, "")
		pos, err := parseInterspersed(fs, tc.args)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if *n != tc.wantN || len(pos) != len(tc.wantPos) {
			t.Fatalf("%v: got pos %v n %d, want %v %d", tc.args, pos, *n, tc.wantPos, tc.wantN)
		}
		for i := range pos {
			if pos[i] != tc.wantPos[i] {
				t.Fatalf("%v: got pos %v, want %v", tc.args, pos, tc.wantPos)
			}
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	if code := mainCode([]string{"no-such-command"}); code != 2 {
		t.Fatalf("exit code %d, want 2", code)
	}
	if code := mainCode(nil); code != 2 {
		t.Fatalf("exit code %d with no args, want 2", code)
	}
}

// TestCPUProfile checks that ADJOINT_CPUPROFILE writes a (gzip-compressed) profile of the
// command, and that a path that cannot be created is an error before the command runs.
func TestCPUProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.prof")
	t.Setenv("ADJOINT_CPUPROFILE", path)
	if code := mainCode([]string{"zoo"}); code != 0 {
		t.Fatalf("adjoint zoo with a profile: exit code %d", code)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("profile is not gzip data (%d bytes)", len(b))
	}
	t.Setenv("ADJOINT_CPUPROFILE", filepath.Join(t.TempDir(), "missing", "cpu.prof"))
	if code := mainCode([]string{"zoo"}); code != 1 {
		t.Fatalf("unwritable profile: exit code %d, want 1", code)
	}
}

package main

import (
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

package main

import "testing"

func TestMemoryLimit(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		err  bool
	}{
		{"off", 0, false},
		{"0", 0, false},
		{"1024", 1024, false},
		{"512M", 512 << 20, false},
		{"2GiB", 2 << 30, false},
		{"1.5g", 3 << 29, false},
		{"lots", 0, true},
		{"-1", 0, true},
	}
	for _, c := range cases {
		got, err := memoryLimit(c.in)
		if (err != nil) != c.err || (!c.err && got != c.want) {
			t.Errorf("memoryLimit(%q) = %d, %v; want %d (error %v)", c.in, got, err, c.want, c.err)
		}
	}
	if def, err := memoryLimit(""); err != nil || def < 0 {
		t.Errorf("default memory limit %d, %v", def, err)
	}
}

func TestWantsFaults(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"--cells", "10"}, false},
		{[]string{"--faults"}, true},
		{[]string{"stack_overflow", "--faults"}, true},
		{[]string{"--faults=false"}, false},
		{[]string{"--", "--faults"}, false},
	} {
		if got := wantsFaults(c.args); got != c.want {
			t.Errorf("wantsFaults(%q) = %v", c.args, got)
		}
	}
}

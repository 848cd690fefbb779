package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"

	"adjoint/lib/adjoint"
	"adjoint/lib/energy"
)

func TestOpenDevice(t *testing.T) {
	for _, tc := range []struct {
		choice  string
		usage   bool
		message bool
	}{
		{"cpu", false, false},
		{"", false, false},
		{"tpu", true, false},
	} {
		var w bytes.Buffer
		dev, err := openDevice(tc.choice, &w)
		if dev != nil {
			t.Errorf("%q: got a device", tc.choice)
		}
		if tc.usage != errors.Is(err, errUsage) {
			t.Errorf("%q: error %v", tc.choice, err)
		}
		if tc.message != (w.Len() > 0) {
			t.Errorf("%q: message %q", tc.choice, w.String())
		}
	}
	// cuda either opens a GPU or falls back with one line saying why.
	var w bytes.Buffer
	dev, err := openDevice("cuda", &w)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(w.String(), "\n"); lines != 1 {
		t.Errorf("cuda: %d lines of message: %q", lines, w.String())
	}
	if dev == nil && !strings.Contains(w.String(), "using the CPU") {
		t.Errorf("cuda fallback message %q", w.String())
	}
}

func TestMoveToDeviceWithoutGPU(t *testing.T) {
	sys, err := energy.Benchmark("dw4")
	if err != nil {
		t.Fatal(err)
	}
	s, err := adjoint.NewSampler(adjoint.DefaultConfig(sys))
	if err != nil {
		t.Fatal(err)
	}
	before := s.Model()
	if err := moveToDevice(s, nil, io.Discard); err != nil || s.Model() != before {
		t.Fatalf("no device: model %T, error %v", s.Model(), err)
	}
}

func TestSampleFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{nil, true},
		{[]string{"--sample", "10", "--samples-out", "x.npy"}, true},
		{[]string{"--sample", "10"}, false},
		{[]string{"--samples-out", "x.npy"}, false},
		{[]string{"--sample", "-1", "--samples-out", "x.npy"}, false},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		f := addSampleFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if err := f.check(); (err == nil) != tc.ok {
			t.Errorf("%v: error %v", tc.args, err)
		}
	}
}

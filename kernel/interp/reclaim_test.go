package interp

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// outcome is what a cell showed, as one comparable string.
func outcome(res Result, rec *recorder) string {
	if res.Err != nil {
		return "error " + res.Err.Name + ": " + res.Err.Value + " | " + rec.out()
	}
	return text(res) + " | " + rec.out()
}

// TestReclaimKeepsSemantics runs the same cells with and without reclaiming and expects the
// same outcome of every cell: closures over block variables of a cell, pointers to released
// temporaries, functions that read a variable declared again, goroutines and generics.
func TestReclaimKeepsSemantics(t *testing.T) {
	cells := []string{
		// closures over a top-level loop variable and a block variable
		"fs := []func() int{}\nfor k := 0; k < 3; k++ { fs = append(fs, func() int { return k * 10 }) }",
		"var f func() int\n{ y := 7; f = func() int { return y + 1 } }",
		"fs[0]() + fs[2]() + f()",
		"x := 0\nfor k := 0; k < 100; k++ { x += k }",
		"fs[1]() + f() + x",
		// pointers to temporaries and to a variable declared again
		"p := &struct{ A, B int }{5, 6}\nq := &[]int{1, 2, 3}",
		"a := 1\npa := &a\nm := map[string]*int{\"a\": &a}",
		"a := 2",
		"p.A + p.B + len(*q) + *pa + *m[\"a\"] + a",
		// functions reading a variable declared again keep reading the one they saw
		"z := 1\nfunc getZ() int { return z }",
		"z := 2",
		"getZ()*100 + z",
		"w := 3\nfunc useW() func() int { return func() int { return w } }\nuw := useW()",
		"w := 4",
		"uw()*10 + w",
		// a value shown, then replaced
		"s := strings.Repeat(\"ab\", 3)\ns",
		"s = s + \"!\"\ns",
		// methods and method values
		"type C struct{ n int }\nfunc (c *C) Inc() int { c.n++; return c.n }\nc := &C{}\ninc := c.Inc",
		"inc()\ninc()",
		"c.n",
		// goroutines and channels
		"ch := make(chan int, 1)\ngo func(v int) { ch <- v * 2 }(21)",
		"<-ch",
		"done := make(chan string)\nfor k := 0; k < 1; k++ { go func() { done <- fmt.Sprint(\"k=\", k) }() }",
		"<-done",
		// generics, twice
		"func Twice[T any](xs []T) []T { return append(xs, xs...) }",
		"len(Twice([]int{1, 2}))",
		"len(Twice([]string{\"a\"})) + len(Twice([]int{3}))",
		// range, type switch, select, defer at top level
		"tot := 0\nfor _, v := range map[string]int{\"a\": 1, \"b\": 2} { tot += v }\ntot",
		"var e interface{} = 2.5\nswitch v := e.(type) { case float64: tot += int(v * 2) }\ntot",
		"sel := make(chan int, 1)\nsel <- 4\nselect { case v := <-sel: tot += v }\ntot",
		// a panic in a function of an earlier cell still points at its line
		"func boom(n int) int {\n\tif n > 2 {\n\t\tpanic(\"deep\")\n\t}\n\treturn boom(n + 1)\n}",
		"for k := 0; k < 5; k++ { x = k }",
		"boom(0)",
		"x + tot",
	}
	on := newInterp(t)
	off := newInterp(t)
	if on.reclaim == nil {
		t.Fatal("the interpreter's fields were not found: nothing is reclaimed")
	}
	off.reclaim = nil
	for _, c := range cells {
		r1, rec1 := run(t, on, c)
		r2, rec2 := run(t, off, c)
		if r1.Err != nil && r1.Err.Name == "panic" {
			// Compare the traceback too: positions must survive the release of the cell.
			if r2.Err == nil || strings.Join(r1.Err.Traceback, "\n") != strings.Join(r2.Err.Traceback, "\n") {
				t.Errorf("cell %q: traceback\n%v\nwithout reclaiming\n%v", c, r1.Err, r2.Err)
			}
		}
		if got, want := outcome(r1, rec1), outcome(r2, rec2); got != want {
			t.Errorf("cell %q: %q, without reclaiming %q", c, got, want)
		}
	}
}

// retainedHeap is the live heap after collection.
func retainedHeap() uint64 {
	var ms runtime.MemStats
	for k := 0; k < 2; k++ {
		runtime.GC()
	}
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestSoakRetainedHeap runs many cells that assign, declare again and show the same variables
// and bounds the heap they leave behind. Without reclaiming, yaegi keeps every cell's syntax
// tree and every value assigned: about 9 KB per cell of these kinds, and 8 KB more for each
// slice of the last kind.
func TestSoakRetainedHeap(t *testing.T) {
	const n = 2000
	in := newInterp(t)
	ctx := context.Background()
	if r := in.Execute(ctx, "v := 0\nbuf := make([]float64, 0)", nil); r.Err != nil {
		t.Fatal(r.Err)
	}
	cells := []string{
		"v = %d",
		"v = %d\nv",
		"v := %d",
		"buf = make([]float64, 1000)\nbuf[0] = %d",
		"big := make([]float64, 1000+%d%%7)\nlen(big)",
	}
	warm := func(from, to int) {
		for k := from; k < to; k++ {
			if r := in.Execute(ctx, fmt.Sprintf(cells[k%len(cells)], k), nil); r.Err != nil {
				t.Fatalf("cell %d: %v", k, r.Err)
			}
		}
	}
	warm(0, 50)
	h0 := retainedHeap()
	start := time.Now()
	warm(50, 50+n)
	h1 := retainedHeap()
	runtime.KeepAlive(in)
	per := (float64(h1) - float64(h0)) / n
	t.Logf("%d cells in %v: heap %d -> %d bytes, %.0f bytes per cell", n, time.Since(start), h0, h1, per)
	// Measured: about 150 bytes per cell (the global frame's slots); 9 to 25 KB before.
	if per > 1000 {
		t.Errorf("cells retain %.0f bytes each, want at most 1000", per)
	}
}

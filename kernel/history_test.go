package kernel

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHistoryQuery(t *testing.T) {
	var h history
	h.session = 1
	for _, in := range []string{"x := 1", "fmt.Println(x)", "x + 1", "x := 1", "y := \"a\nb\""} {
		h.add(in, nil)
	}
	n := func(v int) *int { return &v }
	for _, c := range []struct {
		name string
		req  HistoryRequest
		want string
	}{
		{"tail 2", HistoryRequest{HistAccessType: "tail", N: n(2)}, `[[1,4,"x := 1"],[1,5,"y := \"a\nb\""]]`},
		{"range", HistoryRequest{HistAccessType: "range", Start: 2, Stop: n(4)}, `[[1,2,"fmt.Println(x)"],[1,3,"x + 1"]]`},
		{"range other session", HistoryRequest{HistAccessType: "range", Session: -1, Start: 1}, `[]`},
		{"search glob", HistoryRequest{HistAccessType: "search", Pattern: "x*"}, `[[1,1,"x := 1"],[1,3,"x + 1"],[1,4,"x := 1"]]`},
		{"search unique", HistoryRequest{HistAccessType: "search", Pattern: "x :=*", Unique: true}, `[[1,4,"x := 1"]]`},
		{"search multiline", HistoryRequest{HistAccessType: "search", Pattern: "y*b?"}, `[[1,5,"y := \"a\nb\""]]`},
		{"search class", HistoryRequest{HistAccessType: "search", Pattern: "[xy] *", N: n(1)}, `[[1,5,"y := \"a\nb\""]]`},
		{"output", HistoryRequest{HistAccessType: "tail", N: n(1), Output: true}, `[[1,5,["y := \"a\nb\"",null]]]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, _ := json.Marshal(h.query(c.req))
			var got, want any
			_ = json.Unmarshal(b, &got)
			if err := json.Unmarshal([]byte(c.want), &want); err != nil {
				t.Fatal(err)
			}
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(want)
			if string(gb) != string(wb) {
				t.Fatalf("got %s, want %s", gb, wb)
			}
		})
	}
}

func TestHistoryFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "history.jsonl")
	h := history{session: 1, file: path, id: "sess"}
	for _, in := range []string{"a := 1", "fmt.Println(\"x\ny\")"} {
		if err := h.add(in, nil); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		t.Fatalf("history file:\n%s", b)
	}
	var rec struct {
		Session string `json:"session"`
		Line    int    `json:"line"`
		Input   string `json:"input"`
	}
	if err := json.Unmarshal([]byte(lines[1]), &rec); err != nil || rec.Session != "sess" || rec.Line != 2 || rec.Input != "fmt.Println(\"x\ny\")" {
		t.Fatalf("record %s: %+v, %v", lines[1], rec, err)
	}
	// An unwritable file is reported once, and history goes on in memory.
	bad := history{session: 1, file: filepath.Join(path, "not-a-dir", "h.jsonl")}
	if err := bad.add("x", nil); err == nil {
		t.Fatal("writing under a file succeeded")
	}
	if err := bad.add("y", nil); err != nil || len(bad.entries) != 2 {
		t.Fatalf("second add: %v, %d entries", err, len(bad.entries))
	}
}

func TestHistoryBounds(t *testing.T) {
	n := func(v int) *int { return &v }
	for _, c := range []struct {
		name             string
		entries, outputs int
		adds             int
		want             string // tail 3 with outputs
	}{
		{"unbounded", 0, 0, 5, `[[1,3,["c3","out3"]],[1,4,["c4","out4"]],[1,5,["c5","out5"]]]`},
		{"entries", 3, 0, 5, `[[1,3,["c3","out3"]],[1,4,["c4","out4"]],[1,5,["c5","out5"]]]`},
		{"entries fewer than asked", 2, 0, 5, `[[1,4,["c4","out4"]],[1,5,["c5","out5"]]]`},
		{"outputs", 0, 2, 5, `[[1,3,["c3",null]],[1,4,["c4","out4"]],[1,5,["c5","out5"]]]`},
		{"outputs and entries", 3, 1, 50, `[[1,48,["c48",null]],[1,49,["c49",null]],[1,50,["c50","out50"]]]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := history{session: 1, maxEntries: c.entries, maxOutputs: c.outputs}
			for k := 1; k <= c.adds; k++ {
				h.add(fmt.Sprintf("c%d", k), fmt.Sprintf("out%d", k))
			}
			if c.entries > 0 && len(h.entries) > c.entries {
				t.Fatalf("%d entries kept, bound %d", len(h.entries), c.entries)
			}
			if b, _ := json.Marshal(h.query(HistoryRequest{HistAccessType: "tail", N: n(3), Output: true})); string(b) != c.want {
				t.Fatalf("got %s\nwant %s", b, c.want)
			}
		})
	}
}

func TestHistoryCutOutput(t *testing.T) {
	for _, c := range []struct {
		in   any
		max  int
		want any
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"0123456789abc", 10, "0123456789… [3 more bytes not kept in the history]"},
		{"ééééé", 3, "é… [8 more bytes not kept in the history]"}, // not inside a rune
		{"no limit", 0, "no limit"},
		{nil, 3, nil},
	} {
		if got := cutOutput(c.in, c.max); got != c.want {
			t.Errorf("cutOutput(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}

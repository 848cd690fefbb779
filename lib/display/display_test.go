package display

import (
	"encoding/base64"
	"image"
	"strings"
	"sync"
	"testing"
)

type recSink struct {
	mu  sync.Mutex
	got []rec
}

type rec struct {
	b      Bundle
	id     string
	update bool
}

func (r *recSink) Display(b Bundle, id string, update bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, rec{b, id, update})
}
func (r *recSink) Clear(bool) {}

func TestShowFunctions(t *testing.T) {
	s := &recSink{}
	defer SetSink(s)()
	HTML("<b>x</b>")
	Markdown("*y*")
	PNG([]byte{1, 2, 3})
	SVG("<svg/>")
	if err := JSON(map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	if err := Image(image.NewRGBA(image.Rect(0, 0, 3, 2))); err != nil {
		t.Fatal(err)
	}
	wantTypes := []string{MIMEHTML, MIMEMarkdown, MIMEPNG, MIMESVG, MIMEJSON, MIMEPNG}
	if len(s.got) != len(wantTypes) {
		t.Fatalf("got %d displays, want %d", len(s.got), len(wantTypes))
	}
	for i, mt := range wantTypes {
		if _, ok := s.got[i].b.Data[mt]; !ok {
			t.Errorf("display %d lacks %s: %v", i, mt, s.got[i].b.Data)
		}
		if _, ok := s.got[i].b.Data[MIMEText]; !ok {
			t.Errorf("display %d lacks a text fallback", i)
		}
	}
	raw, err := base64.StdEncoding.DecodeString(s.got[2].b.Data[MIMEPNG].(string))
	if err != nil || string(raw) != "\x01\x02\x03" {
		t.Errorf("PNG payload round trip: %v %q", err, raw)
	}
	if err := JSON(func() {}); err == nil {
		t.Error("JSON of a func: want an error")
	}
}

func TestUpdatable(t *testing.T) {
	s := &recSink{}
	defer SetSink(s)()
	u := NewUpdatable()
	u.UpdateText("a")
	u.UpdateText("b")
	if len(s.got) != 2 || s.got[0].update || !s.got[1].update || s.got[0].id != u.ID() || s.got[1].id != u.ID() {
		t.Fatalf("unexpected displays: %+v", s.got)
	}
	if NewUpdatable().ID() == u.ID() {
		t.Fatal("display ids must be unique")
	}
}

func TestTable(t *testing.T) {
	tb := &Table{Caption: "c", Header: []string{"name", "value"}}
	tb.AddRow("energy_w2", 0.123456)
	tb.AddRow("<n>", 2000)
	h := tb.HTML()
	if !strings.Contains(h, "<td>0.1235</td>") || !strings.Contains(h, "&lt;n&gt;") {
		t.Fatalf("html: %s", h)
	}
	txt := tb.String()
	if !strings.Contains(txt, "energy_w2  0.1235") {
		t.Fatalf("text:\n%s", txt)
	}
}

func TestFormatProgress(t *testing.T) {
	p := Progress{Task: "train", Epoch: 2, Epochs: 10, Loss: 1.5, Extra: map[string]float64{"b": 2, "a": 1}}
	got := FormatProgress(p)
	if !strings.HasPrefix(got, "train epoch 2/10 loss 1.5 a 1 b 2") {
		t.Fatalf("got %q", got)
	}
}

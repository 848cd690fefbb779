// Package display is the one meeting point between the library and the front ends.
//
// Library values render themselves as MIME bundles (the Renderer interface), and library code
// shows figures and reports progress through the Sink that a front end installs: the Jupyter
// kernel installs one that publishes display_data messages, the command line one that writes to
// the terminal. In notebook cells the package is pre-imported as display, so a cell can call
// display.HTML("<b>hi</b>") or display.PNG(b) directly.
//
// The front end also installs a cancellation context next to the sink (SetContext); long-running
// library calls made without a context of their own watch it (Context), so an interrupt in a
// notebook stops training cleanly between steps.
package display

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"sync"
	"sync/atomic"
)

// MIME types used by the bundles of this package.
const (
	MIMEText     = "text/plain"
	MIMEHTML     = "text/html"
	MIMEMarkdown = "text/markdown"
	MIMEPNG      = "image/png"
	MIMESVG      = "image/svg+xml"
	MIMEJSON     = "application/json"
)

// Bundle is a MIME bundle as Jupyter understands it: Data maps a MIME type to its
// JSON-ready payload (strings for text formats, base64 for PNG, any JSON value for
// application/json); Metadata is optional per-type metadata (for example image sizes).
type Bundle struct {
	Data     map[string]any `json:"data"`
	Metadata map[string]any `json:"metadata"`
}

// Renderer is implemented by values that render themselves: a kernel shows such a value, when it
// is a cell's last expression, through its bundle instead of its text form.
type Renderer interface {
	MIMEBundle() Bundle
}

// Text returns a bundle with only a text/plain part.
func Text(s string) Bundle { return Bundle{Data: map[string]any{MIMEText: s}} }

// HTMLBundle returns a bundle with an HTML part and a plain-text fallback.
func HTMLBundle(html, text string) Bundle {
	if text == "" {
		text = "<HTML>"
	}
	return Bundle{Data: map[string]any{MIMEHTML: html, MIMEText: text}}
}

// PNGBundle returns a bundle holding PNG bytes (base64 encoded, as Jupyter wants them).
// Width and height, when positive, go into the metadata.
func PNGBundle(b []byte, width, height int) Bundle {
	bu := Bundle{Data: map[string]any{
		MIMEPNG:  base64.StdEncoding.EncodeToString(b),
		MIMEText: fmt.Sprintf("<PNG image, %d bytes>", len(b)),
	}}
	if width > 0 && height > 0 {
		bu.Metadata = map[string]any{MIMEPNG: map[string]any{"width": width, "height": height}}
	}
	return bu
}

// SVGBundle returns a bundle holding an SVG document.
func SVGBundle(svg string) Bundle {
	return Bundle{Data: map[string]any{MIMESVG: svg, MIMEText: "<SVG image>"}}
}

// Merge returns a bundle holding the parts of all given bundles (later ones win on conflicts).
func Merge(bs ...Bundle) Bundle {
	out := Bundle{Data: map[string]any{}}
	for _, b := range bs {
		for k, v := range b.Data {
			out.Data[k] = v
		}
		for k, v := range b.Metadata {
			if out.Metadata == nil {
				out.Metadata = map[string]any{}
			}
			out.Metadata[k] = v
		}
	}
	return out
}

// Sink receives what library code and cells display. Implementations must be safe for
// concurrent use.
type Sink interface {
	// Display publishes a bundle. A non-empty id names the display so that later calls with
	// update set can replace it in place (Jupyter's update_display_data).
	Display(b Bundle, id string, update bool)
	// Clear clears the output of the current cell; with wait set, the front end clears only
	// when the next output arrives (no flicker).
	Clear(wait bool)
}

var (
	mu      sync.RWMutex
	sink    Sink = NewWriterSink(os.Stdout, false)
	ctx          = context.Background()
	counter atomic.Int64
)

// SetSink installs s as the current sink and returns a function that restores the previous one.
// A nil s installs a sink that discards everything.
func SetSink(s Sink) (restore func()) {
	if s == nil {
		s = discard{}
	}
	mu.Lock()
	prev := sink
	sink = s
	mu.Unlock()
	return func() { SetSink(prev) }
}

// Current returns the installed sink.
func Current() Sink {
	mu.RLock()
	defer mu.RUnlock()
	return sink
}

// SetContext installs the cancellation context that library calls made without a context watch.
// Front ends install a fresh one per cell or command and cancel it on interrupt.
func SetContext(c context.Context) {
	if c == nil {
		c = context.Background()
	}
	mu.Lock()
	ctx = c
	mu.Unlock()
}

// Context returns the cancellation context installed by the front end (Background if none).
func Context() context.Context {
	mu.RLock()
	defer mu.RUnlock()
	return ctx
}

// NewID returns a display id unique within this process.
func NewID() string { return fmt.Sprintf("adjoint-%d-%d", os.Getpid(), counter.Add(1)) }

// Show publishes b on the current sink.
func Show(b Bundle) { Current().Display(b, "", false) }

// Value shows v: through its own bundle if it renders itself, as text otherwise.
func Value(v any) {
	if r, ok := v.(Renderer); ok {
		Show(r.MIMEBundle())
		return
	}
	Show(Text(fmt.Sprint(v)))
}

// HTML shows an HTML fragment.
func HTML(s string) { Show(HTMLBundle(s, "")) }

// Markdown shows Markdown text.
func Markdown(s string) { Show(Bundle{Data: map[string]any{MIMEMarkdown: s, MIMEText: s}}) }

// PNG shows PNG-encoded bytes.
func PNG(b []byte) { Show(PNGBundle(b, 0, 0)) }

// SVG shows an SVG document.
func SVG(s string) { Show(SVGBundle(s)) }

// JSON shows v as application/json (rendered as a tree by JupyterLab). It returns an error when v
// cannot be encoded.
func JSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("display.JSON: %w", err)
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return fmt.Errorf("display.JSON: %w", err)
	}
	Show(Bundle{Data: map[string]any{MIMEJSON: generic, MIMEText: string(b)}})
	return nil
}

// ImageBundle encodes img as PNG into a bundle.
func ImageBundle(img image.Image) (Bundle, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Bundle{}, fmt.Errorf("display: encode image: %w", err)
	}
	r := img.Bounds()
	return PNGBundle(buf.Bytes(), r.Dx(), r.Dy()), nil
}

// Image shows an image.Image as PNG.
func Image(img image.Image) error {
	b, err := ImageBundle(img)
	if err != nil {
		return err
	}
	Show(b)
	return nil
}

// Clear clears the cell's output (see Sink.Clear).
func Clear(wait bool) { Current().Clear(wait) }

// Updatable is a display that can be replaced in place, for live progress and live plots.
type Updatable struct {
	id    string
	shown atomic.Bool
}

// NewUpdatable returns an updatable display with a fresh id; nothing is shown until Update.
func NewUpdatable() *Updatable { return &Updatable{id: NewID()} }

// ID returns the display id.
func (u *Updatable) ID() string { return u.id }

// Update shows b the first time and replaces the display in place afterwards.
func (u *Updatable) Update(b Bundle) {
	first := u.shown.CompareAndSwap(false, true)
	Current().Display(b, u.id, !first)
}

// UpdateHTML is Update with an HTML fragment.
func (u *Updatable) UpdateHTML(s string) { u.Update(HTMLBundle(s, "")) }

// UpdateMarkdown is Update with Markdown text.
func (u *Updatable) UpdateMarkdown(s string) {
	u.Update(Bundle{Data: map[string]any{MIMEMarkdown: s, MIMEText: s}})
}

// UpdatePNG is Update with PNG bytes.
func (u *Updatable) UpdatePNG(b []byte) { u.Update(PNGBundle(b, 0, 0)) }

// UpdateSVG is Update with an SVG document.
func (u *Updatable) UpdateSVG(s string) { u.Update(SVGBundle(s)) }

// UpdateText is Update with plain text.
func (u *Updatable) UpdateText(s string) { u.Update(Text(s)) }

type discard struct{}

func (discard) Display(Bundle, string, bool) {}
func (discard) Clear(bool)                   {}

// WriterSink is a Sink for terminals and logs: it writes the text/plain part of every bundle
// to a writer (figures become a one-line placeholder). Terminal reports whether the writer is an
// interactive terminal, which progress reporters use to choose between a redrawn one-line bar and
// plain periodic lines.
type WriterSink struct {
	mu       sync.Mutex
	w        io.Writer
	Terminal bool
}

// NewWriterSink returns a WriterSink writing to w.
func NewWriterSink(w io.Writer, terminal bool) *WriterSink {
	return &WriterSink{w: w, Terminal: terminal}
}

// Display writes the bundle's text part.
func (s *WriterSink) Display(b Bundle, id string, update bool) {
	t, _ := b.Data[MIMEText].(string)
	if t == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintln(s.w, t)
}

// Clear does nothing on a writer.
func (s *WriterSink) Clear(bool) {}

// Writer returns the underlying writer.
func (s *WriterSink) Writer() io.Writer { return s.w }

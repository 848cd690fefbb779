// Package viz draws the figures of sampling papers with gonum/plot: energy and
// interatomic-distance histograms against a reference, samples over the contours of a 2-D
// energy, marginals, particle configurations, SDE trajectories, training curves and
// importance-weight histograms.
//
// Every figure is a *Figure: it renders itself in notebooks as a MIME bundle holding PNG, SVG and
// a plain-text description (display.Renderer), and saves itself to a .png or .svg file. The
// functions take plain slices (configurations are flat row-major float64 slices, as in
// lib/energy) and an Options value; they return an error for empty or mismatched input and drop
// non-finite values, counting them in the figure's caption.
package viz

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"path/filepath"
	"strings"

	"adjoint/internal/atomicfile"
	"adjoint/lib/display"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Default figure size in pixels: 6×4 inches at 96 dots per inch.
const (
	DefaultWidth  = 576
	DefaultHeight = 384
	// DPI is the resolution at which pixel sizes are converted to lengths.
	DPI = 96
)

// Options are the settings shared by all figures. The zero value gives a 576×384 pixel figure
// with default labels and bin counts.
type Options struct {
	Title  string // figure title (each figure has a default)
	Width  int    // width in pixels (0: DefaultWidth)
	Height int    // height in pixels (0: DefaultHeight)
	Bins   int    // histogram bins (0: a default that fits the figure)
	// Labels name the data series in legends: Labels[0] the samples, Labels[1] the reference
	// (defaults "Samples" and "Reference"). Marginals use further entries as coordinate names,
	// Trajectories Labels[i] as the name of path i, TrainingCurves Labels[2] for the W2 series.
	Labels []string
	XLabel string // x-axis label (empty: the figure's default)
	YLabel string // y-axis label (empty: the figure's default)
	// XMin and XMax fix the x range of histograms; when XMin >= XMax the range is chosen from
	// the data (central 99.8% of the values, so that a few outliers do not hide the shape).
	XMin, XMax float64
	Count      int  // how many configurations, paths or panels to draw (0: the figure's default)
	LinearY    bool // training curves: a linear loss axis instead of the default log axis
	// Density draws 2-D samples (Contour2D, EnergyContour) as a shaded histogram under the
	// energy's contour lines instead of as points: clearer for many thousands of samples.
	Density bool
}

func (o Options) size() (int, int) {
	w, h := o.Width, o.Height
	if w <= 0 {
		w = DefaultWidth
	}
	if h <= 0 {
		h = DefaultHeight
	}
	return w, h
}

func (o Options) label(i int, def string) string {
	if i < len(o.Labels) && o.Labels[i] != "" {
		return o.Labels[i]
	}
	return def
}

func (o Options) title(def string) string {
	if o.Title != "" {
		return o.Title
	}
	return def
}

func (o Options) xlabel(def string) string {
	if o.XLabel != "" {
		return o.XLabel
	}
	return def
}

func (o Options) ylabel(def string) string {
	if o.YLabel != "" {
		return o.YLabel
	}
	return def
}

func (o Options) bins(def int) int {
	if o.Bins > 0 {
		return o.Bins
	}
	return def
}

func (o Options) count(def int) int {
	if o.Count > 0 {
		return o.Count
	}
	return def
}

// Figure is a rendered-on-demand figure of one or more panels.
type Figure struct {
	panels        [][]*plot.Plot // rows of panels
	title         string         // figure title above a multi-panel grid
	legend        *plot.Legend   // figure legend beside the title of a multi-panel grid
	width, height int            // pixels
	caption       string         // plain-text description
}

func newFigure(opt Options, caption string, rows ...[]*plot.Plot) *Figure {
	w, h := opt.size()
	return &Figure{panels: rows, width: w, height: h, caption: caption}
}

// Plot returns the first panel, for callers that want to add to or restyle it.
func (f *Figure) Plot() *plot.Plot { return f.panels[0][0] }

// Panels returns the panels as rows.
func (f *Figure) Panels() [][]*plot.Plot { return f.panels }

// Size returns the figure's size in pixels.
func (f *Figure) Size() (width, height int) { return f.width, f.height }

// SetSize changes the figure's size in pixels; non-positive values keep the current size.
func (f *Figure) SetSize(width, height int) {
	if width > 0 {
		f.width = width
	}
	if height > 0 {
		f.height = height
	}
}

// Caption returns the plain-text description of the figure: what is drawn, how many values,
// and how many were dropped as non-finite or fell outside the plotted range.
func (f *Figure) Caption() string { return f.caption }

// String returns the caption.
func (f *Figure) String() string { return f.caption }

func pxLength(px int) vg.Length { return vg.Length(px) * vg.Inch / DPI }

// draw lays the panels out on c.
func (f *Figure) draw(c draw.Canvas) {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	if f.title != "" {
		sty := draw.TextStyle{
			Color:   color.Black,
			Font:    font.From(plot.DefaultFont, 13),
			XAlign:  draw.XCenter,
			YAlign:  draw.YTop,
			Handler: plot.DefaultTextHandler,
		}
		top := vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: c.Max.Y - 4}
		c.FillText(sty, top, f.title)
		band := sty.Height(f.title) + 8
		if f.legend != nil {
			lc := c
			lc.Min.Y = c.Max.Y - band - 4
			lc.Max.X -= 6
			f.legend.Draw(lc)
			band = max(band, f.legend.Rectangle(lc).Size().Y+6)
		}
		c.Max.Y -= band
	}
	if len(f.panels) == 1 && len(f.panels[0]) == 1 {
		f.panels[0][0].Draw(c)
		return
	}
	cols := 0
	for _, r := range f.panels {
		cols = max(cols, len(r))
	}
	grid := make([][]*plot.Plot, len(f.panels))
	for i, r := range f.panels {
		grid[i] = make([]*plot.Plot, cols)
		copy(grid[i], r)
	}
	tiles := draw.Tiles{Rows: len(grid), Cols: cols, PadX: vg.Millimeter * 2, PadY: vg.Millimeter * 2,
		PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Millimeter}
	cs := plot.Align(grid, tiles, c)
	for i, r := range grid {
		for j, p := range r {
			if p != nil {
				p.Draw(cs[i][j])
			}
		}
	}
}

// PNG renders the figure as PNG bytes of the figure's pixel size.
func (f *Figure) PNG() ([]byte, error) {
	c := vgimg.NewWith(vgimg.UseWH(pxLength(f.width), pxLength(f.height)), vgimg.UseDPI(DPI))
	if err := f.safeDraw(draw.New(c)); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("viz: encode png: %w", err)
	}
	return buf.Bytes(), nil
}

// SVG renders the figure as an SVG document whose width and height are the figure's pixel size.
func (f *Figure) SVG() ([]byte, error) {
	w, h := pxLength(f.width), pxLength(f.height)
	c := vgsvg.New(w, h)
	if err := f.safeDraw(draw.New(c)); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("viz: encode svg: %w", err)
	}
	// vgsvg states the size in points; state it in pixels (the same physical size).
	s := buf.String()
	old := fmt.Sprintf(`width="%.*gpt" height="%.*gpt"`, 10, w.Points(), 10, h.Points())
	s = strings.Replace(s, old, fmt.Sprintf(`width="%dpx" height="%dpx"`, f.width, f.height), 1)
	return []byte(s), nil
}

// safeDraw draws and turns a panic of the plotting library into an error.
func (f *Figure) safeDraw(c draw.Canvas) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("viz: draw figure: %v", r)
		}
	}()
	f.draw(c)
	return nil
}

// WriteFormat writes the figure in the given format, "png" or "svg".
func (f *Figure) WriteFormat(w io.Writer, format string) error {
	var b []byte
	var err error
	switch strings.ToLower(strings.TrimPrefix(format, ".")) {
	case "png":
		b, err = f.PNG()
	case "svg":
		b, err = f.SVG()
	default:
		return fmt.Errorf("viz: unknown image format %q (want png or svg)", format)
	}
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("viz: write %s: %w", format, err)
	}
	return nil
}

// Save writes the figure to path, as PNG or SVG according to the file's extension.
func (f *Figure) Save(path string) error {
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".png" && ext != ".svg" {
		return fmt.Errorf("viz: save %s: unknown extension %q (want .png or .svg)", path, ext)
	}
	var buf bytes.Buffer
	if err := f.WriteFormat(&buf, ext); err != nil {
		return fmt.Errorf("viz: save %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("viz: save: %w", err)
	}
	return nil
}

// MIMEBundle renders the figure as PNG and SVG with the caption as the plain-text part.
func (f *Figure) MIMEBundle() display.Bundle {
	p, err := f.PNG()
	if err != nil {
		return display.Text(fmt.Sprintf("%s\n(rendering failed: %v)", f.caption, err))
	}
	s, err := f.SVG()
	if err != nil {
		return display.Text(fmt.Sprintf("%s\n(rendering failed: %v)", f.caption, err))
	}
	b := display.Merge(display.PNGBundle(p, f.width, f.height), display.SVGBundle(string(s)))
	b.Data[display.MIMEText] = f.caption
	return b
}

// Show publishes the figure on the current display sink (in a notebook: the cell's output).
func (f *Figure) Show() { display.Show(f.MIMEBundle()) }

// Update shows the figure in the updatable display u, replacing what u showed before: a live
// plot redrawn as a computation goes on.
func (f *Figure) Update(u *display.Updatable) { u.Update(f.MIMEBundle()) }

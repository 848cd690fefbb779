package viz

import (
	"fmt"
	"image/color"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series colours (the common ten-colour qualitative cycle); the reference is drawn in grey.
var cycle = []color.NRGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255},
	{188, 189, 34, 255}, {23, 190, 207, 255},
}

var (
	sampleColor = cycle[0]
	refColor    = color.NRGBA{90, 90, 90, 255}
)

func seriesColor(i int) color.NRGBA { return cycle[i%len(cycle)] }

func withAlpha(c color.NRGBA, a uint8) color.NRGBA { c.A = a; return c }

// newPlot returns a plot with the house style: title, axis labels, legend in the top right.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = 13
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.X.Padding = vg.Points(2)
	p.Y.Padding = vg.Points(2)
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = 10
	p.Legend.XOffs = -vg.Points(4)
	p.Legend.YOffs = -vg.Points(4)
	p.Legend.ThumbnailWidth = vg.Points(18)
	return p
}

// finite returns the finite values of xs and how many were dropped.
func finite(xs []float64) ([]float64, int) {
	out := make([]float64, 0, len(xs))
	for _, v := range xs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, v)
		}
	}
	return out, len(xs) - len(out)
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// quantile returns the q-quantile of sorted values (linear interpolation).
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	f := pos - float64(i)
	return sorted[i]*(1-f) + sorted[i+1]*f
}

// robustRange returns a padded range covering the central 99.8% of every non-empty set, or
// [opt.XMin, opt.XMax] when the options fix it.
func robustRange(opt Options, sets ...[]float64) (lo, hi float64) {
	if opt.XMin < opt.XMax {
		return opt.XMin, opt.XMax
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range sets {
		if len(s) == 0 {
			continue
		}
		c := append([]float64(nil), s...)
		sort.Float64s(c)
		lo = math.Min(lo, quantile(c, 0.001))
		hi = math.Max(hi, quantile(c, 0.999))
	}
	return padRange(lo, hi, 0.04)
}

// rangeAgainst returns the x range of samples drawn against a reference: the reference's
// central 99.8%, widened to the samples' central 98% but by at most the reference's span on each
// side, so that a few far-off samples (diverged or high-energy ones) do not squash the figure.
// Without a reference it is robustRange of the samples.
func rangeAgainst(opt Options, gen, ref []float64) (lo, hi float64) {
	if opt.XMin < opt.XMax || len(ref) == 0 {
		return robustRange(opt, gen, ref)
	}
	r := append([]float64(nil), ref...)
	sort.Float64s(r)
	g := append([]float64(nil), gen...)
	sort.Float64s(g)
	rlo, rhi := quantile(r, 0.001), quantile(r, 0.999)
	span := math.Max(rhi-rlo, 1e-9)
	lo = math.Min(rlo, math.Max(quantile(g, 0.01), rlo-span))
	hi = math.Max(rhi, math.Min(quantile(g, 0.99), rhi+span))
	return padRange(lo, hi, 0.04)
}

func padRange(lo, hi, frac float64) (float64, float64) {
	if hi <= lo {
		d := math.Max(math.Abs(lo)*0.1, 0.5)
		return lo - d, hi + d
	}
	d := (hi - lo) * frac
	return lo - d, hi + d
}

// binner counts values into equal bins on [lo, hi].
type binner struct {
	lo, hi  float64
	counts  []float64
	n       int // values offered
	outside int // values outside [lo, hi]
}

func newBinner(lo, hi float64, bins int) *binner {
	return &binner{lo: lo, hi: hi, counts: make([]float64, bins)}
}

func (b *binner) add(v float64) {
	b.n++
	if v < b.lo || v > b.hi {
		b.outside++
		return
	}
	i := int((v - b.lo) / (b.hi - b.lo) * float64(len(b.counts)))
	if i >= len(b.counts) {
		i = len(b.counts) - 1
	}
	b.counts[i]++
}

func (b *binner) width() float64 { return (b.hi - b.lo) / float64(len(b.counts)) }

// density returns count/(n·width) per bin: the histogram integrates to the fraction of the values
// inside the range, so two sets of different sizes compare.
func (b *binner) density() []float64 {
	d := make([]float64, len(b.counts))
	if b.n == 0 {
		return d
	}
	w := b.width()
	for i, c := range b.counts {
		d[i] = c / (float64(b.n) * w)
	}
	return d
}

// addHist adds a normalised histogram of b to p as a translucent fill with a step outline, and
// a legend entry.
func addHist(p *plot.Plot, b *binner, c color.NRGBA, label string) error {
	dens := b.density()
	w := b.width()
	h := &plotter.Histogram{Width: w, FillColor: withAlpha(c, 80)}
	h.LineStyle.Width = 0
	pts := make(plotter.XYs, 0, 2*len(dens)+2)
	pts = append(pts, plotter.XY{X: b.lo, Y: 0})
	for i, d := range dens {
		x0 := b.lo + float64(i)*w
		h.Bins = append(h.Bins, plotter.HistogramBin{Min: x0, Max: x0 + w, Weight: d})
		pts = append(pts, plotter.XY{X: x0, Y: d}, plotter.XY{X: x0 + w, Y: d})
	}
	pts = append(pts, plotter.XY{X: b.hi, Y: 0})
	line, err := plotter.NewLine(pts)
	if err != nil {
		return fmt.Errorf("viz: histogram outline: %w", err)
	}
	line.LineStyle = draw.LineStyle{Color: c, Width: vg.Points(1.4)}
	p.Add(h, line)
	if label != "" {
		p.Legend.Add(label, histThumb{fill: withAlpha(c, 80), line: line.LineStyle})
	}
	return nil
}

// histThumb is the legend thumbnail of a filled histogram with an outline.
type histThumb struct {
	fill color.Color
	line draw.LineStyle
}

func (t histThumb) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}}
	c.FillPolygon(t.fill, c.ClipPolygonXY(pts))
	pts = append(pts, pts[0])
	c.StrokeLines(t.line, c.ClipLinesXY(pts)...)
}

// note collects the clauses of a caption.
type note struct{ parts []string }

func (n *note) add(format string, args ...any) {
	n.parts = append(n.parts, fmt.Sprintf(format, args...))
}

func (n *note) addIf(cond bool, format string, args ...any) {
	if cond {
		n.add(format, args...)
	}
}

func (n *note) String() string { return strings.Join(n.parts, "; ") }

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func thinLine(c color.NRGBA) draw.LineStyle { return draw.LineStyle{Color: c, Width: vg.Points(1.4)} }

// placeLegend puts the legend of a histogram plot in the top corner where the bars are lower,
// and raises the y axis when the bars there would reach into the legend.
func placeLegend(p *plot.Plot, bs ...*binner) {
	top, left, right := 0.0, 0.0, 0.0
	for _, b := range bs {
		d := b.density()
		k := max(1, len(d)*35/100)
		for i, v := range d {
			top = math.Max(top, v)
			if i < k {
				left = math.Max(left, v)
			}
			if i >= len(d)-k {
				right = math.Max(right, v)
			}
		}
	}
	if top <= 0 {
		return
	}
	p.Legend.Left = left < right
	if p.Legend.Left {
		p.Legend.XOffs = vg.Points(4)
	}
	if side := math.Min(left, right); side > 0.72*top {
		p.Y.Min, p.Y.Max = 0, side/0.72
	}
}

package viz

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"sort"

	"adjoint/lib/energy"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// grid is a regular grid of values for heat maps and contours.
type grid struct {
	xs, ys []float64
	z      []float64 // z[r*len(xs)+c]
}

func (g *grid) Dims() (int, int)   { return len(g.xs), len(g.ys) }
func (g *grid) Z(c, r int) float64 { return g.z[r*len(g.xs)+c] }
func (g *grid) X(c int) float64    { return g.xs[c] }
func (g *grid) Y(r int) float64    { return g.ys[r] }
func linspace(a, b float64, n int) []float64 {
	out := make([]float64, n)
	for i := range n {
		out[i] = a + (b-a)*float64(i)/float64(n-1)
	}
	return out
}

// lightBlues runs from a dark blue (low energy) to white (high energy).
type lightBlues struct{ n int }

func (p lightBlues) Colors() []color.Color {
	lo := color.NRGBA{66, 146, 198, 255}
	hi := color.NRGBA{247, 251, 255, 255}
	out := make([]color.Color, p.n)
	for i := range out {
		t := float64(i) / float64(p.n-1)
		// ease so that most of the range stays light and the basins stand out
		t = math.Sqrt(t)
		mix := func(a, b uint8) uint8 { return uint8(float64(a)*(1-t) + float64(b)*t + 0.5) }
		out[i] = color.NRGBA{mix(lo.R, hi.R), mix(lo.G, hi.G), mix(lo.B, hi.B), 255}
	}
	return out
}

// reds runs from white (no samples) to a dark red (the densest cell).
type reds struct{ n int }

func (p reds) Colors() []color.Color {
	out := make([]color.Color, p.n)
	for i := range out {
		t := float64(i) / float64(p.n-1)
		mix := func(a, b float64) uint8 { return uint8(a*(1-t) + b*t + 0.5) }
		out[i] = color.NRGBA{mix(255, 165), mix(255, 15), mix(255, 21), 255}
	}
	return out
}

var (
	_ palette.Palette = lightBlues{}
	_ palette.Palette = reds{}
)

// contourLines draws iso-lines of a grid by marching squares, one straight segment per cell.
type contourLines struct {
	g      *grid
	levels []float64
	style  draw.LineStyle
}

// segment is one piece of an iso-line inside a grid cell; ea and eb identify the grid edges its
// ends lie on, which neighbouring cells share.
type segment struct {
	a, b   plotter.XY
	ea, eb int
}

// segments returns the iso-line segments of level l by marching squares.
func (c *contourLines) segments(l float64) []segment {
	g := c.g
	nx, ny := g.Dims()
	var out []segment
	cross := func(x0, y0, z0, x1, y1, z1 float64) plotter.XY {
		t := (l - z0) / (z1 - z0)
		return plotter.XY{X: x0 + t*(x1-x0), Y: y0 + t*(y1-y0)}
	}
	hEdge := func(col, r int) int { return 2 * (r*nx + col) } // (col,r)–(col+1,r)
	vEdge := func(col, r int) int { return 2*(r*nx+col) + 1 } // (col,r)–(col,r+1)
	for r := 0; r+1 < ny; r++ {
		for col := 0; col+1 < nx; col++ {
			x0, x1, y0, y1 := g.X(col), g.X(col+1), g.Y(r), g.Y(r+1)
			// corners counter-clockwise from the bottom left, and the edges after each corner
			z := [4]float64{g.Z(col, r), g.Z(col+1, r), g.Z(col+1, r+1), g.Z(col, r+1)}
			xs := [4]float64{x0, x1, x1, x0}
			ys := [4]float64{y0, y0, y1, y1}
			edges := [4]int{hEdge(col, r), vEdge(col+1, r), hEdge(col, r+1), vEdge(col, r)}
			var pts [4]plotter.XY
			var ids [4]int
			k := 0
			for e := range 4 {
				a, b := e, (e+1)%4
				if (z[a] > l) != (z[b] > l) {
					pts[k], ids[k] = cross(xs[a], ys[a], z[a], xs[b], ys[b], z[b]), edges[e]
					k++
				}
			}
			seg := func(i, j int) segment { return segment{pts[i], pts[j], ids[i], ids[j]} }
			switch k {
			case 2:
				out = append(out, seg(0, 1))
			case 4: // saddle: pair the crossings by the value at the centre
				mid := (z[0] + z[1] + z[2] + z[3]) / 4
				if (mid > l) == (z[0] > l) {
					out = append(out, seg(0, 3), seg(1, 2))
				} else {
					out = append(out, seg(0, 1), seg(2, 3))
				}
			}
		}
	}
	return out
}

// lines joins the segments of level l into polylines.
func (c *contourLines) lines(l float64) []plotter.XYs {
	segs := c.segments(l)
	at := make(map[int][]int, 2*len(segs)) // edge → segments ending on it
	for i, s := range segs {
		at[s.ea] = append(at[s.ea], i)
		at[s.eb] = append(at[s.eb], i)
	}
	used := make([]bool, len(segs))
	// next returns an unused segment other than i that ends on edge e.
	next := func(e, i int) int {
		for _, j := range at[e] {
			if j != i && !used[j] {
				return j
			}
		}
		return -1
	}
	// walk extends a line from segment i through its end on edge e.
	walk := func(i, e int) plotter.XYs {
		var out plotter.XYs
		for {
			j := next(e, i)
			if j < 0 {
				return out
			}
			used[j] = true
			s := segs[j]
			if s.ea == e {
				out, e = append(out, s.b), s.eb
			} else {
				out, e = append(out, s.a), s.ea
			}
			i = j
		}
	}
	var out []plotter.XYs
	for i, s := range segs {
		if used[i] {
			continue
		}
		used[i] = true
		fwd := walk(i, s.eb)
		back := walk(i, s.ea)
		line := make(plotter.XYs, 0, len(fwd)+len(back)+2)
		for k := len(back) - 1; k >= 0; k-- {
			line = append(line, back[k])
		}
		line = append(line, s.a, s.b)
		line = append(line, fwd...)
		out = append(out, line)
	}
	return out
}

// Plot implements plot.Plotter.
func (c *contourLines) Plot(dc draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&dc)
	for _, l := range c.levels {
		for _, line := range c.lines(l) {
			pts := make([]vg.Point, len(line))
			for i, q := range line {
				pts[i] = vg.Point{X: trX(q.X), Y: trY(q.Y)}
			}
			dc.StrokeLines(c.style, dc.ClipLinesXY(pts)...)
		}
	}
}

// DataRange implements plot.DataRanger.
func (c *contourLines) DataRange() (xmin, xmax, ymin, ymax float64) {
	return c.g.xs[0], c.g.xs[len(c.g.xs)-1], c.g.ys[0], c.g.ys[len(c.g.ys)-1]
}

// Contour2D draws the samples (flat x,y pairs; may be empty) as points over the contours and a
// shaded map of the energy f on [xmin, xmax]×[ymin, ymax]: the standard figure for 2-D systems.
// The grid has opt.Bins points a side (default 120); non-finite energies are shown as the highest
// level; samples outside the box are counted in the caption and not drawn, and at most opt.Count
// samples (default 5000) are drawn.
func Contour2D(f func(x, y float64) float64, xmin, xmax, ymin, ymax float64, samples []float64, opt Options) (*Figure, error) {
	if f == nil {
		return nil, errors.New("viz.Contour2D: nil energy function")
	}
	return contour("viz.Contour2D", func(xs, ys []float64, z []float64) {
		for r, y := range ys {
			for c, x := range xs {
				z[r*len(xs)+c] = f(x, y)
			}
		}
	}, xmin, xmax, ymin, ymax, samples, opt)
}

// EnergyContour is Contour2D for an energy whose configurations have two coordinates (one
// particle in 2-D, or two particles on a line); the grid is evaluated in one batch.
func EnergyContour(e energy.Energy, xmin, xmax, ymin, ymax float64, samples []float64, opt Options) (*Figure, error) {
	if e == nil {
		return nil, errors.New("viz.EnergyContour: nil energy")
	}
	if n, d := e.Particles(), e.SpatialDim(); n*d != 2 {
		return nil, fmt.Errorf("viz.EnergyContour: configurations have %d·%d coordinates, need 2", n, d)
	}
	var perr error
	fig, err := contour("viz.EnergyContour", func(xs, ys []float64, z []float64) {
		defer func() {
			if r := recover(); r != nil {
				perr = fmt.Errorf("viz.EnergyContour: energy panicked: %v", r)
			}
		}()
		x := make([]float64, 0, 2*len(z))
		for _, y := range ys {
			for _, xv := range xs {
				x = append(x, xv, y)
			}
		}
		e.EnergyGrad(x, z, nil)
	}, xmin, xmax, ymin, ymax, samples, opt)
	if perr != nil {
		return nil, perr
	}
	return fig, err
}

func contour(fn string, eval func(xs, ys, z []float64), xmin, xmax, ymin, ymax float64, samples []float64, opt Options) (*Figure, error) {
	if !(xmin < xmax) || !(ymin < ymax) || !isFinite(xmin) || !isFinite(xmax) || !isFinite(ymin) || !isFinite(ymax) {
		return nil, fmt.Errorf("%s: empty box [%g, %g]×[%g, %g]", fn, xmin, xmax, ymin, ymax)
	}
	if len(samples)%2 != 0 {
		return nil, fmt.Errorf("%s: samples hold %d numbers, not x,y pairs", fn, len(samples))
	}
	n := opt.bins(120)
	if n < 3 {
		return nil, fmt.Errorf("%s: grid of %d points a side, need at least 3", fn, n)
	}
	g := &grid{xs: linspace(xmin, xmax, n), ys: linspace(ymin, ymax, n), z: make([]float64, n*n)}
	eval(g.xs, g.ys, g.z)
	fin, bad := finite(g.z)
	if len(fin) == 0 {
		return nil, fmt.Errorf("%s: the energy is not finite anywhere on the grid", fn)
	}
	sort.Float64s(fin)
	// Shade and contour up to a high quantile: energies blow up near walls and singularities.
	zmax := quantile(fin, 0.9)
	zmin := fin[0]
	if zmax <= zmin {
		zmax = fin[len(fin)-1]
	}
	if zmax <= zmin {
		zmax = zmin + 1
	}
	for i, v := range g.z {
		if !isFinite(v) || v > zmax {
			g.z[i] = zmax
		}
	}
	var levels []float64
	for _, q := range []float64{0.02, 0.05, 0.1, 0.17, 0.25, 0.35, 0.47, 0.6, 0.75} {
		l := quantile(fin, q)
		if l > zmin && l < zmax && (len(levels) == 0 || l > levels[len(levels)-1]+1e-12*(zmax-zmin)) {
			levels = append(levels, l)
		}
	}
	p := newPlot(opt.title("Samples over the energy"), opt.xlabel("x"), opt.ylabel("y"))
	if !opt.Density {
		hm := plotter.NewHeatMap(g, lightBlues{n: 64})
		hm.Min, hm.Max = zmin, zmax
		hm.Rasterized = true
		p.Add(hm)
	}
	contours := &contourLines{g: g, levels: levels, style: draw.LineStyle{Width: vg.Points(0.6), Color: color.NRGBA{60, 60, 60, 200}}}
	var cap note
	cap.add("%d samples over the energy on [%.4g, %.4g]×[%.4g, %.4g] (%d×%d grid, %d contour levels)",
		len(samples)/2, xmin, xmax, ymin, ymax, n, n, len(levels))
	var pts plotter.XYs
	dropped, outside := 0, 0
	for i := 0; i+1 < len(samples); i += 2 {
		x, y := samples[i], samples[i+1]
		switch {
		case !isFinite(x) || !isFinite(y):
			dropped++
		case x < xmin || x > xmax || y < ymin || y > ymax:
			outside++
		default:
			pts = append(pts, plotter.XY{X: x, Y: y})
		}
	}
	inside := len(pts)
	if opt.Density && len(pts) > 0 {
		// A 2-D histogram of the samples on a grid of about 60 cells a side.
		m := min(60, n)
		dg := &grid{xs: linspace(xmin, xmax, m), ys: linspace(ymin, ymax, m), z: make([]float64, m*m)}
		for _, q := range pts {
			c := int(math.Round((q.X - xmin) / (xmax - xmin) * float64(m-1)))
			r := int(math.Round((q.Y - ymin) / (ymax - ymin) * float64(m-1)))
			dg.z[r*m+c]++
		}
		hi := 0.0
		for _, v := range dg.z {
			hi = math.Max(hi, v)
		}
		hm := plotter.NewHeatMap(dg, reds{n: 64})
		hm.Min, hm.Max = 0, hi
		hm.Rasterized = true
		p.Add(hm)
		p.Legend.Add(opt.label(0, "Sample density"), &plotter.Histogram{FillColor: reds{n: 3}.Colors()[2]})
		pts = nil
	}
	if len(levels) > 0 {
		p.Add(contours)
	}
	if limit := opt.count(5000); len(pts) > limit {
		pts = pts[:limit]
	}
	if len(pts) > 0 {
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
		r := vg.Points(1.6)
		alpha := uint8(200)
		if len(pts) > 2000 {
			r, alpha = vg.Points(1.1), 120
		}
		s.GlyphStyle = draw.GlyphStyle{Shape: draw.CircleGlyph{}, Radius: r, Color: withAlpha(color.NRGBA{200, 30, 30, 255}, alpha)}
		p.Add(s)
		p.Legend.Add(opt.label(0, "Samples"), s)
	}
	p.Legend.Add("Energy contours", &plotter.Line{LineStyle: draw.LineStyle{Width: vg.Points(1), Color: color.NRGBA{60, 60, 60, 255}}})
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = xmin, xmax, ymin, ymax
	cap.addIf(opt.Density, "shaded as a 2-D histogram")
	cap.addIf(!opt.Density && len(pts) < inside, "the first %d of %d samples in the box drawn", len(pts), inside)
	cap.addIf(outside > 0, "%s outside the box", plural(outside, "sample", "samples"))
	cap.addIf(dropped > 0, "%s dropped", plural(dropped, "non-finite sample", "non-finite samples"))
	cap.addIf(bad > 0, "%s on the grid", plural(bad, "non-finite energy", "non-finite energies"))
	return newFigure(opt, cap.String(), []*plot.Plot{p}), nil
}

// Particles draws the particles of the first few configurations (opt.Count, default 4), one
// panel each with a common scale: 2-D systems as they are, 3-D systems projected on the first two
// coordinates with the third shown as shade (darker is nearer). samples holds configurations of
// particles·dim numbers, centred per panel on their mean.
func Particles(samples []float64, particles, dim int, opt Options) (*Figure, error) {
	const fn = "viz.Particles"
	if particles < 1 || dim < 2 {
		return nil, fmt.Errorf("%s: need particles ≥ 1 in at least 2 dimensions, got %d in %d", fn, particles, dim)
	}
	per := particles * dim
	nc, err := configs(fn, samples, per, "samples")
	if err != nil {
		return nil, err
	}
	var idx []int
	dropped := 0
	for c := 0; c < nc && len(idx) < opt.count(4); c++ {
		_, bad := finite(samples[c*per : (c+1)*per])
		if bad > 0 {
			dropped++
			continue
		}
		idx = append(idx, c)
	}
	if len(idx) == 0 {
		return nil, fmt.Errorf("%s: no configuration with finite coordinates among %d", fn, nc)
	}
	// Common half-width over the shown configurations.
	half := 0.0
	centre := func(c int) (float64, float64) {
		mx, my := 0.0, 0.0
		for i := range particles {
			mx += samples[c*per+i*dim]
			my += samples[c*per+i*dim+1]
		}
		return mx / float64(particles), my / float64(particles)
	}
	zlo, zhi := math.Inf(1), math.Inf(-1)
	for _, c := range idx {
		mx, my := centre(c)
		for i := range particles {
			half = math.Max(half, math.Abs(samples[c*per+i*dim]-mx))
			half = math.Max(half, math.Abs(samples[c*per+i*dim+1]-my))
			if dim > 2 {
				z := samples[c*per+i*dim+2]
				zlo, zhi = math.Min(zlo, z), math.Max(zhi, z)
			}
		}
	}
	half = half*1.15 + 0.3
	k := len(idx)
	cols := min(k, 4)
	rows := (k + cols - 1) / cols
	if opt.Height <= 0 {
		w, _ := opt.size()
		opt.Height = w*rows/cols + 40
	}
	radius := vg.Points(math.Max(1.5, math.Min(4.5, 14/math.Sqrt(float64(particles))+0.5)))
	var gridp [][]*plot.Plot
	for j, c := range idx {
		mx, my := centre(c)
		ylabel := ""
		if j%cols == 0 {
			ylabel = opt.ylabel("y")
		}
		p := newPlot(fmt.Sprintf("Sample %d", c), opt.xlabel("x"), ylabel)
		p.Title.TextStyle.Font.Size = 10
		p.X.Tick.Label.Font.Size = 8
		p.Y.Tick.Label.Font.Size = 8
		p.X.Label.TextStyle.Font.Size = 10
		p.Y.Label.TextStyle.Font.Size = 10
		pts := make(plotter.XYs, particles)
		for i := range particles {
			pts[i] = plotter.XY{X: samples[c*per+i*dim] - mx, Y: samples[c*per+i*dim+1] - my}
		}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
		s.GlyphStyle = draw.GlyphStyle{Shape: draw.CircleGlyph{}, Radius: radius, Color: sampleColor}
		if dim > 2 && zhi > zlo {
			base := c * per
			s.GlyphStyleFunc = func(i int) draw.GlyphStyle {
				t := (samples[base+i*dim+2] - zlo) / (zhi - zlo) // 1 = nearest
				col := color.NRGBA{
					uint8(180 - 150*t), uint8(210 - 120*t), uint8(240 - 60*t), 255,
				}
				return draw.GlyphStyle{Shape: draw.CircleGlyph{}, Radius: radius, Color: col}
			}
		}
		p.Add(s)
		ring := *s
		ring.GlyphStyleFunc = nil
		ring.GlyphStyle = draw.GlyphStyle{Shape: draw.RingGlyph{}, Radius: radius, Color: color.NRGBA{20, 40, 80, 255}}
		p.Add(&ring)
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = -half, half, -half, half
		if j%cols == 0 {
			gridp = append(gridp, nil)
		}
		gridp[len(gridp)-1] = append(gridp[len(gridp)-1], p)
	}
	var cap note
	cap.add("Particle configurations: %d of %d samples, %d particles in %d-D", k, nc, particles, dim)
	cap.addIf(dim > 2, "projected on the first two coordinates, shade = third coordinate")
	cap.addIf(dropped > 0, "%s skipped", plural(dropped, "non-finite configuration", "non-finite configurations"))
	f := newFigure(opt, cap.String(), gridp...)
	f.title = opt.title("Particle configurations")
	return f, nil
}

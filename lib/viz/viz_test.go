package viz

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"adjoint/lib/display"
	"adjoint/lib/energy"

	"gonum.org/v1/plot/plotter"
)

func normals(r *rand.Rand, n int, mean, std float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = mean + std*r.NormFloat64()
	}
	return out
}

// figures builds one of every figure from synthetic data.
func figures(t testing.TB, opt Options) map[string]*Figure {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 4))
	gen, ref := normals(r, 500, -20, 2), normals(r, 800, -21, 1.8)
	gen = append(gen, math.NaN(), math.Inf(1))
	conf := normals(r, 100*4*2, 0, 1.5)
	var paths [][]float64
	times := linspace(0, 1, 50)
	for range 5 {
		paths = append(paths, normals(r, 50, 0, 1))
	}
	steps, loss := make([]float64, 300), make([]float64, 300)
	for i := range steps {
		steps[i], loss[i] = float64(i), 10*math.Exp(-float64(i)/100)+r.Float64()
	}
	dw, err := energy.FromFunc(1, 2, func(x []float64) float64 {
		return (x[0]*x[0]-1)*(x[0]*x[0]-1) + 0.5*x[1]*x[1]
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*Figure{}
	add := func(name string, f *Figure, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = f
	}
	f, err := EnergyHist(gen, ref, opt)
	add("EnergyHist", f, err)
	f, err = DistanceHist(conf, conf[:400], 4, 2, opt)
	add("DistanceHist", f, err)
	f, err = Contour2D(func(x, y float64) float64 { return x*x + 2*y*y }, -2, 2, -2, 2, conf[:200], opt)
	add("Contour2D", f, err)
	f, err = EnergyContour(dw, -2, 2, -3, 3, conf[:200], opt)
	add("EnergyContour", f, err)
	dens := opt
	dens.Density = true
	f, err = EnergyContour(dw, -2, 2, -3, 3, normals(r, 4000, 0, 1), dens)
	add("EnergyContourDensity", f, err)
	f, err = Marginals(conf, 8, conf[:160], opt)
	add("Marginals", f, err)
	f, err = Particles(conf, 4, 2, opt)
	add("Particles", f, err)
	f, err = Particles(conf[:13*3*3], 13, 3, opt)
	add("Particles3D", f, err)
	f, err = Trajectories(paths, times, opt)
	add("Trajectories", f, err)
	f, err = TrainingCurve(steps, loss, opt)
	add("TrainingCurve", f, err)
	f, err = TrainingCurves(steps, loss, []float64{1, 2, 3}, []float64{2, 1, 0.5}, opt)
	add("TrainingCurves", f, err)
	f, err = WeightHist(normals(r, 400, 0, 1), opt)
	add("WeightHist", f, err)
	return out
}

// coloured counts the pixels of the central region (inside the axes) that are not grey: the
// data of every figure is drawn in colour, the frame, labels and ticks in black.
func coloured(img image.Image) int {
	b := b2(img)
	n := 0
	for y := b.Min.Y + b.Dy()/8; y < b.Max.Y-b.Dy()/6; y++ {
		for x := b.Min.X + b.Dx()/6; x < b.Max.X-b.Dx()/20; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if max(r, g, bl)-min(r, g, bl) > 0x1800 {
				n++
			}
		}
	}
	return n
}

func b2(img image.Image) image.Rectangle { return img.Bounds() }

func checkPNG(t *testing.T, name string, b []byte, w, h int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: PNG does not decode: %v", name, err)
	}
	if got := img.Bounds(); got.Dx() != w || got.Dy() != h {
		t.Errorf("%s: PNG is %dx%d, want %dx%d", name, got.Dx(), got.Dy(), w, h)
	}
	region := (w * 2 / 3) * (h * 2 / 3)
	if n := coloured(img); n < region/200 {
		t.Errorf("%s: only %d coloured pixels inside the axes: blank figure?", name, n)
	}
}

func checkSVG(t *testing.T, name string, b []byte, w, h int) {
	t.Helper()
	var doc struct {
		XMLName xml.Name
		Width   string `xml:"width,attr"`
		Height  string `xml:"height,attr"`
		Inner   []byte `xml:",innerxml"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: SVG does not parse: %v", name, err)
	}
	if doc.XMLName.Local != "svg" {
		t.Fatalf("%s: root element %q", name, doc.XMLName.Local)
	}
	px := func(s string) int {
		v, err := strconv.Atoi(strings.TrimSuffix(s, "px"))
		if err != nil {
			t.Fatalf("%s: SVG size %q: %v", name, s, err)
		}
		return v
	}
	if px(doc.Width) != w || px(doc.Height) != h {
		t.Errorf("%s: SVG is %sx%s, want %dx%d px", name, doc.Width, doc.Height, w, h)
	}
	if !bytes.Contains(doc.Inner, []byte("<path")) || !bytes.Contains(doc.Inner, []byte("<text")) {
		t.Errorf("%s: SVG has no paths or no text", name)
	}
}

func TestFiguresRender(t *testing.T) {
	sizes := []struct{ w, h int }{{0, 0}, {400, 300}}
	for _, sz := range sizes {
		figs := figures(t, Options{Width: sz.w, Height: sz.h})
		for name, f := range figs {
			t.Run(name+"/"+strconv.Itoa(sz.w), func(t *testing.T) {
				w, h := f.Size()
				if sz.w > 0 && (w != sz.w || h != sz.h) {
					t.Fatalf("size %dx%d, want %dx%d", w, h, sz.w, sz.h)
				}
				if sz.w == 0 && w != DefaultWidth {
					t.Fatalf("default width %d, want %d", w, DefaultWidth)
				}
				p, err := f.PNG()
				if err != nil {
					t.Fatal(err)
				}
				checkPNG(t, name, p, w, h)
				s, err := f.SVG()
				if err != nil {
					t.Fatal(err)
				}
				checkSVG(t, name, s, w, h)
				if f.Caption() == "" {
					t.Error("empty caption")
				}
			})
		}
	}
}

func TestBundle(t *testing.T) {
	figs := figures(t, Options{Width: 300, Height: 200})
	var _ display.Renderer = figs["EnergyHist"]
	b := figs["EnergyHist"].MIMEBundle()
	raw, err := base64.StdEncoding.DecodeString(b.Data[display.MIMEPNG].(string))
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, "bundle", raw, 300, 200)
	checkSVG(t, "bundle", []byte(b.Data[display.MIMESVG].(string)), 300, 200)
	txt := b.Data[display.MIMEText].(string)
	if !strings.Contains(txt, "502 samples") || !strings.Contains(txt, "2 non-finite samples dropped") {
		t.Errorf("caption does not count the samples and the dropped values: %q", txt)
	}
	md, _ := b.Metadata[display.MIMEPNG].(map[string]any)
	if md["width"] != 300 || md["height"] != 200 {
		t.Errorf("png metadata %v", b.Metadata)
	}
}

func TestSave(t *testing.T) {
	f := figures(t, Options{Width: 320, Height: 240})["TrainingCurve"]
	dir := t.TempDir()
	for _, ext := range []string{".png", ".svg", ".SVG"} {
		path := filepath.Join(dir, "fig"+ext)
		if err := f.Save(path); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if ext == ".png" {
			checkPNG(t, path, b, 320, 240)
		} else {
			checkSVG(t, path, b, 320, 240)
		}
	}
	if err := f.Save(filepath.Join(dir, "fig.jpg")); err == nil {
		t.Error("saving to .jpg: want an error")
	}
	if err := f.Save(filepath.Join(dir, "no", "such", "dir.png")); err == nil {
		t.Error("saving into a missing directory: want an error")
	}
}

func TestBadInput(t *testing.T) {
	nan := math.NaN()
	f2 := func(x, y float64) float64 { return x + y }
	tests := []struct {
		name string
		run  func() (*Figure, error)
	}{
		{"EnergyHist empty", func() (*Figure, error) { return EnergyHist(nil, []float64{1}, Options{}) }},
		{"EnergyHist all NaN", func() (*Figure, error) { return EnergyHist([]float64{nan, nan}, nil, Options{}) }},
		{"EnergyHist ref all NaN", func() (*Figure, error) { return EnergyHist([]float64{1}, []float64{nan}, Options{}) }},
		{"DistanceHist ragged", func() (*Figure, error) { return DistanceHist(make([]float64, 7), nil, 2, 2, Options{}) }},
		{"DistanceHist ragged ref", func() (*Figure, error) { return DistanceHist(make([]float64, 8), make([]float64, 3), 2, 2, Options{}) }},
		{"DistanceHist one particle", func() (*Figure, error) { return DistanceHist(make([]float64, 8), nil, 1, 2, Options{}) }},
		{"DistanceHist empty", func() (*Figure, error) { return DistanceHist(nil, nil, 4, 2, Options{}) }},
		{"DistanceHist all NaN", func() (*Figure, error) { return DistanceHist([]float64{nan, 0, 1, 1}, nil, 2, 2, Options{}) }},
		{"Contour2D nil f", func() (*Figure, error) { return Contour2D(nil, 0, 1, 0, 1, nil, Options{}) }},
		{"Contour2D empty box", func() (*Figure, error) { return Contour2D(f2, 1, 1, 0, 1, nil, Options{}) }},
		{"Contour2D odd samples", func() (*Figure, error) { return Contour2D(f2, 0, 1, 0, 1, []float64{1}, Options{}) }},
		{"Contour2D NaN energy", func() (*Figure, error) {
			return Contour2D(func(x, y float64) float64 { return nan }, 0, 1, 0, 1, nil, Options{})
		}},
		{"EnergyContour 3 coordinates", func() (*Figure, error) {
			e, _ := energy.NewGaussian(1, 3, nil, 1)
			return EnergyContour(e, 0, 1, 0, 1, nil, Options{})
		}},
		{"Marginals ragged", func() (*Figure, error) { return Marginals(make([]float64, 5), 2, nil, Options{}) }},
		{"Marginals empty", func() (*Figure, error) { return Marginals(nil, 2, nil, Options{}) }},
		{"Marginals zero dim", func() (*Figure, error) { return Marginals([]float64{1}, 0, nil, Options{}) }},
		{"Particles 1-D", func() (*Figure, error) { return Particles(make([]float64, 4), 4, 1, Options{}) }},
		{"Particles ragged", func() (*Figure, error) { return Particles(make([]float64, 9), 2, 2, Options{}) }},
		{"Particles all NaN", func() (*Figure, error) { return Particles([]float64{nan, 1, 1, 1}, 2, 2, Options{}) }},
		{"Trajectories none", func() (*Figure, error) { return Trajectories(nil, []float64{0, 1}, Options{}) }},
		{"Trajectories mismatched", func() (*Figure, error) {
			return Trajectories([][]float64{{0, 1, 2}}, []float64{0, 1}, Options{})
		}},
		{"Trajectories one time", func() (*Figure, error) { return Trajectories([][]float64{{0}}, []float64{0}, Options{}) }},
		{"TrainingCurve mismatched", func() (*Figure, error) { return TrainingCurve([]float64{1, 2}, []float64{1}, Options{}) }},
		{"TrainingCurve empty", func() (*Figure, error) { return TrainingCurve(nil, nil, Options{}) }},
		{"TrainingCurves W2 mismatched", func() (*Figure, error) {
			return TrainingCurves([]float64{1}, []float64{1}, []float64{1, 2}, []float64{1}, Options{})
		}},
		{"WeightHist empty", func() (*Figure, error) { return WeightHist(nil, Options{}) }},
		{"WeightHist all Inf", func() (*Figure, error) { return WeightHist([]float64{math.Inf(-1)}, Options{}) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := tc.run()
			if err == nil {
				t.Fatalf("want an error, got a figure: %v", f.Caption())
			}
			if !strings.HasPrefix(err.Error(), "viz.") {
				t.Errorf("error %q does not name its function", err)
			}
		})
	}
}

func TestBinnerDensityIntegratesToInsideFraction(t *testing.T) {
	tests := []struct {
		lo, hi float64
		bins   int
		values []float64
		inside float64
	}{
		{0, 1, 10, []float64{0.05, 0.15, 0.15, 0.95}, 1},
		{0, 1, 4, []float64{0, 1, 2, -1}, 0.5},
		{-3, 3, 7, []float64{-2.9, 0, 2.9}, 1},
	}
	for _, tc := range tests {
		b := newBinner(tc.lo, tc.hi, tc.bins)
		for _, v := range tc.values {
			b.add(v)
		}
		sum := 0.0
		for _, d := range b.density() {
			sum += d * b.width()
		}
		if math.Abs(sum-tc.inside) > 1e-12 {
			t.Errorf("%+v: density integrates to %g, want %g", tc, sum, tc.inside)
		}
	}
}

func TestPairDistances(t *testing.T) {
	// An equilateral triangle of side 2 and a unit right triangle (3-4-5 scaled).
	x := []float64{0, 0, 2, 0, 1, math.Sqrt(3), 0, 0, 3, 0, 0, 4}
	var got []float64
	skipped := pairDistances(append(x, nan3()...), 3, 2, 1, func(r float64) { got = append(got, r) })
	want := []float64{2, 2, 2, 3, 4, 5}
	if skipped != 1 || len(got) != len(want) {
		t.Fatalf("skipped %d, distances %v", skipped, got)
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("distance %d = %g, want %g", i, got[i], want[i])
		}
	}
}

func nan3() []float64 { return []float64{0, 0, math.NaN(), 0, 1, 1} }

func TestESS(t *testing.T) {
	// ESS = (Σw)²/Σw² for the caption/title of WeightHist.
	tests := []struct {
		w    []float64
		want float64
	}{
		{[]float64{1, 1, 1, 1}, 4},
		{[]float64{1, 0, 0, 0}, 1},
		{[]float64{1, 2, 3}, 36.0 / 14},
	}
	for _, tc := range tests {
		logw := make([]float64, len(tc.w))
		for i, w := range tc.w {
			logw[i] = math.Log(w) + 700 // large offset: must not overflow
		}
		if got := effectiveSampleSize(logw); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("ESS(%v) = %g, want %g", tc.w, got, tc.want)
		}
		f, err := WeightHist(logw, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if want := "ESS " + strconv.FormatFloat(tc.want, 'g', 4, 64); !strings.Contains(f.Caption(), want) {
			t.Errorf("caption %q lacks %q", f.Caption(), want)
		}
	}
}

func TestRobustRangeIgnoresOutliers(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	x := normals(r, 10000, 0, 1)
	x[0], x[1] = 1e6, -1e6
	lo, hi := robustRange(Options{}, x)
	if lo < -5 || hi > 5 || lo > -2.5 || hi < 2.5 {
		t.Errorf("range [%g, %g] for standard normals with two outliers", lo, hi)
	}
	if lo, hi := robustRange(Options{XMin: -1, XMax: 7}, x); lo != -1 || hi != 7 {
		t.Errorf("fixed range gave [%g, %g]", lo, hi)
	}
	f, err := EnergyHist(x, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.Caption(), "outside the plotted range") {
		t.Errorf("caption does not count the outliers: %q", f.Caption())
	}
}

func TestContourSegmentsOnCircle(t *testing.T) {
	// Iso-lines of x²+y² are circles: every crossing lies on the circle up to the error of
	// linear interpolation on the grid.
	n := 81
	g := &grid{xs: linspace(-2, 2, n), ys: linspace(-2, 2, n), z: make([]float64, n*n)}
	for r, y := range g.ys {
		for c, x := range g.xs {
			g.z[r*n+c] = x*x + y*y
		}
	}
	c := &contourLines{g: g}
	for _, radius := range []float64{0.5, 1, 1.7} {
		segs := c.segments(radius * radius)
		if len(segs) < 20 {
			t.Fatalf("radius %g: only %d segments", radius, len(segs))
		}
		length := 0.0
		for _, s := range segs {
			for _, p := range []plotter.XY{s.a, s.b} {
				if d := math.Hypot(p.X, p.Y) - radius; math.Abs(d) > 0.01 {
					t.Fatalf("radius %g: crossing (%g, %g) is %g off the circle", radius, p.X, p.Y, d)
				}
			}
			length += math.Hypot(s.b.X-s.a.X, s.b.Y-s.a.Y)
		}
		want := 2 * math.Pi * radius
		if math.Abs(length-want) > 0.01*want {
			t.Errorf("radius %g: contour length %g, want %g", radius, length, want)
		}
		// The segments join into one closed line of the same length.
		lines := c.lines(radius * radius)
		if len(lines) != 1 {
			t.Fatalf("radius %g: %d lines, want 1 closed line", radius, len(lines))
		}
		l := lines[0]
		if len(l) != len(segs)+1 || l[0] != l[len(l)-1] {
			t.Errorf("radius %g: line of %d points for %d segments, closed: %v", radius, len(l), len(segs), l[0] == l[len(l)-1])
		}
		pl := 0.0
		for i := 1; i < len(l); i++ {
			pl += math.Hypot(l[i].X-l[i-1].X, l[i].Y-l[i-1].Y)
		}
		if math.Abs(pl-length) > 1e-9 {
			t.Errorf("radius %g: joined length %g, segments %g", radius, pl, length)
		}
	}
}

type recSink struct {
	ids     []string
	updates []bool
	types   [][]string
}

func (r *recSink) Display(b display.Bundle, id string, update bool) {
	r.ids = append(r.ids, id)
	r.updates = append(r.updates, update)
	var ts []string
	for k := range b.Data {
		ts = append(ts, k)
	}
	r.types = append(r.types, ts)
}
func (r *recSink) Clear(bool) {}

func TestShowAndLiveUpdate(t *testing.T) {
	s := &recSink{}
	defer display.SetSink(s)()
	figs := figures(t, Options{Width: 200, Height: 150})
	figs["WeightHist"].Show()
	u := display.NewUpdatable()
	figs["TrainingCurve"].Update(u)
	figs["TrainingCurves"].Update(u)
	if len(s.ids) != 3 || s.ids[0] != "" || s.ids[1] != u.ID() || s.ids[2] != u.ID() {
		t.Fatalf("ids %q", s.ids)
	}
	if s.updates[0] || s.updates[1] || !s.updates[2] {
		t.Fatalf("update flags %v, want false false true", s.updates)
	}
	for i, ts := range s.types {
		if len(ts) != 3 {
			t.Errorf("display %d has parts %v, want png, svg and text", i, ts)
		}
	}
}

func TestContourCapsDrawnSamples(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	pts := normals(r, 2*300, 0, 1)
	pts = append(pts, 50, 50, math.NaN(), 0)
	f, err := Contour2D(func(x, y float64) float64 { return x*x + y*y }, -6, 6, -6, 6, pts, Options{Count: 100, Bins: 30})
	if err != nil {
		t.Fatal(err)
	}
	c := f.Caption()
	for _, want := range []string{"302 samples", "the first 100 of 300 samples in the box drawn", "1 sample outside the box", "1 non-finite sample dropped"} {
		if !strings.Contains(c, want) {
			t.Errorf("caption %q lacks %q", c, want)
		}
	}
}

// BenchmarkMIMEBundle measures rendering a figure to its notebook bundle (PNG and SVG).
func BenchmarkMIMEBundle(b *testing.B) {
	figs := figures(b, Options{})
	for _, name := range []string{"EnergyHist", "DistanceHist", "EnergyContour", "Marginals", "TrainingCurves"} {
		f := figs[name]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				f.MIMEBundle()
			}
		})
	}
}

// BenchmarkDistanceHistLJ55 measures the pooled pair distances of 2000 LJ-55 configurations
// (2.97 million distances) and the figure construction, without rendering.
func BenchmarkDistanceHistLJ55(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	x := normals(r, 2000*55*3, 0, 2)
	for b.Loop() {
		if _, err := DistanceHist(x, x, 55, 3, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRangeAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	ref := normals(r, 5000, -20, 2) // span of the central 99.8% ≈ 12.4
	gen := normals(r, 5000, -18, 2)
	for i := range 500 { // 10% diverged samples
		gen[i] = 1e4
	}
	lo, hi := rangeAgainst(Options{}, gen, ref)
	if hi > -20+3.3*2+13*1.1 || hi < -14 {
		t.Errorf("range [%g, %g]: the diverged samples squash the figure or the shift is cut", lo, hi)
	}
	if lo > -26 || lo < -30 {
		t.Errorf("range [%g, %g] does not cover the reference", lo, hi)
	}
	f, err := EnergyHist(gen, ref, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.Caption(), "500 samples outside the plotted range") {
		t.Errorf("caption %q", f.Caption())
	}
}

func TestPlaceLegend(t *testing.T) {
	tests := []struct {
		name      string
		values    []float64
		wantLeft  bool
		wantRaise bool
	}{
		{"peak right", []float64{9, 9, 9, 9, 1}, true, false},
		{"peak left", []float64{1, 1, 1, 1, 9}, false, false},
		{"peaks both sides", []float64{1, 1, 9, 9}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBinner(0, 10, 10)
			for _, v := range tc.values {
				b.add(v)
			}
			p := newPlot("", "", "")
			placeLegend(p, b)
			if p.Legend.Left != tc.wantLeft {
				t.Errorf("legend left = %v, want %v", p.Legend.Left, tc.wantLeft)
			}
			top := 0.0
			for _, d := range b.density() {
				top = math.Max(top, d)
			}
			if raised := p.Y.Max > top; raised != tc.wantRaise {
				t.Errorf("y max %g for top %g: raised = %v, want %v", p.Y.Max, top, raised, tc.wantRaise)
			}
		})
	}
}

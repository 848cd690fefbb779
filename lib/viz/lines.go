package viz

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Trajectories draws SDE paths as lines of one coordinate against time: paths[i][j] is path i's
// coordinate at times[j]. At most opt.Count paths are drawn (default 20, the first ones);
// non-finite points are left out of their line.
func Trajectories(paths [][]float64, times []float64, opt Options) (*Figure, error) {
	const fn = "viz.Trajectories"
	if len(paths) == 0 {
		return nil, errors.New(fn + ": no paths")
	}
	if len(times) < 2 {
		return nil, fmt.Errorf("%s: %d time points, need at least 2", fn, len(times))
	}
	for i, t := range times {
		if !isFinite(t) {
			return nil, fmt.Errorf("%s: time %d is %g", fn, i, t)
		}
	}
	for i, pth := range paths {
		if len(pth) != len(times) {
			return nil, fmt.Errorf("%s: path %d has %d points for %d times", fn, i, len(pth), len(times))
		}
	}
	k := min(len(paths), opt.count(20))
	p := newPlot(opt.title("SDE trajectories"), opt.xlabel("Time t"), opt.ylabel("Coordinate"))
	dropped := 0
	width := vg.Points(1.1)
	if k > 10 {
		width = vg.Points(0.7)
	}
	drawn := 0
	for i := range k {
		var pts plotter.XYs
		for j, v := range paths[i] {
			if !isFinite(v) {
				dropped++
				continue
			}
			pts = append(pts, plotter.XY{X: times[j], Y: v})
		}
		if len(pts) < 2 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
		l.LineStyle = draw.LineStyle{Color: withAlpha(seriesColor(i), 210), Width: width}
		p.Add(l)
		drawn++
		if i < len(opt.Labels) && opt.Labels[i] != "" {
			p.Legend.Add(opt.Labels[i], l)
		}
	}
	if drawn == 0 {
		return nil, fmt.Errorf("%s: no path has two finite points", fn)
	}
	var cap note
	cap.add("SDE trajectories: %d of %d paths over %d time points on [%.4g, %.4g]", drawn, len(paths), len(times), times[0], times[len(times)-1])
	cap.addIf(dropped > 0, "%s dropped", plural(dropped, "non-finite point", "non-finite points"))
	return newFigure(opt, cap.String(), []*plot.Plot{p}), nil
}

// TrainingCurve draws the training loss against the gradient step, on a log axis unless
// opt.LinearY (or a loss is not positive), with a moving average over the raw values.
func TrainingCurve(steps, loss []float64, opt Options) (*Figure, error) {
	return TrainingCurves(steps, loss, nil, nil, opt)
}

// TrainingCurves is TrainingCurve with a second panel of the energy W2 distance against wall time
// (or any x such as the step) when times and w2 are given.
func TrainingCurves(steps, loss, times, w2 []float64, opt Options) (*Figure, error) {
	const fn = "viz.TrainingCurves"
	if len(steps) == 0 {
		return nil, errors.New(fn + ": no steps")
	}
	if len(steps) != len(loss) {
		return nil, fmt.Errorf("%s: %d steps for %d losses", fn, len(steps), len(loss))
	}
	if len(times) != len(w2) {
		return nil, fmt.Errorf("%s: %d times for %d W2 values", fn, len(times), len(w2))
	}
	var pts plotter.XYs
	dropped, nonpos := 0, 0
	for i := range steps {
		if !isFinite(steps[i]) || !isFinite(loss[i]) {
			dropped++
			continue
		}
		if loss[i] <= 0 {
			nonpos++
		}
		pts = append(pts, plotter.XY{X: steps[i], Y: loss[i]})
	}
	if len(pts) == 0 {
		return nil, fmt.Errorf("%s: no finite (step, loss) pair among %d", fn, len(steps))
	}
	logY := !opt.LinearY && nonpos == 0
	title := opt.title("Training")
	p := newPlot(title, opt.xlabel("Step"), opt.ylabel("Loss"))
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	raw, err := plotter.NewLine(pts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	raw.LineStyle = draw.LineStyle{Color: withAlpha(sampleColor, 90), Width: vg.Points(0.8)}
	p.Add(raw)
	p.Legend.Add(opt.label(0, "Loss"), raw)
	if win := len(pts) / 25; win >= 2 {
		avg := movingAverage(pts, win, logY)
		l, err := plotter.NewLine(avg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
		l.LineStyle = draw.LineStyle{Color: sampleColor, Width: vg.Points(1.8)}
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("Moving average (%d)", win), l)
	}
	var cap note
	cap.add("Training loss over %d steps (%.4g to %.4g), last %.4g", len(pts), pts[0].X, pts[len(pts)-1].X, pts[len(pts)-1].Y)
	cap.addIf(!logY && !opt.LinearY, "linear axis: %s", plural(nonpos, "loss is not positive", "losses are not positive"))
	cap.addIf(dropped > 0, "%s dropped", plural(dropped, "non-finite point", "non-finite points"))
	if len(times) == 0 {
		return newFigure(opt, cap.String(), []*plot.Plot{p}), nil
	}
	p.Title.Text = ""
	var wp plotter.XYs
	wd := 0
	for i := range times {
		if !isFinite(times[i]) || !isFinite(w2[i]) {
			wd++
			continue
		}
		wp = append(wp, plotter.XY{X: times[i], Y: w2[i]})
	}
	if len(wp) == 0 {
		return nil, fmt.Errorf("%s: no finite (time, W2) pair among %d", fn, len(times))
	}
	q := newPlot("", "Wall time (s)", "Energy W2")
	lw, sw, err := plotter.NewLinePoints(wp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	lw.LineStyle = draw.LineStyle{Color: seriesColor(1), Width: vg.Points(1.5)}
	sw.GlyphStyle = draw.GlyphStyle{Shape: draw.CircleGlyph{}, Radius: vg.Points(2.2), Color: seriesColor(1)}
	q.Add(lw, sw)
	q.Legend.Add(opt.label(2, "Energy W2"), lw, sw)
	cap.add("energy W2 at %d times, last %.4g", len(wp), wp[len(wp)-1].Y)
	cap.addIf(wd > 0, "%s dropped", plural(wd, "non-finite W2 point", "non-finite W2 points"))
	f := newFigure(opt, cap.String(), []*plot.Plot{p, q})
	f.title = title
	return f, nil
}

// movingAverage smooths ys over a centred window (in log space for log axes).
func movingAverage(pts plotter.XYs, win int, logY bool) plotter.XYs {
	v := make([]float64, len(pts))
	for i, p := range pts {
		v[i] = p.Y
		if logY {
			v[i] = math.Log(p.Y)
		}
	}
	prefix := make([]float64, len(v)+1)
	for i, x := range v {
		prefix[i+1] = prefix[i] + x
	}
	out := make(plotter.XYs, len(pts))
	for i := range pts {
		lo, hi := max(0, i-win/2), min(len(v), i+win/2+1)
		m := (prefix[hi] - prefix[lo]) / float64(hi-lo)
		if logY {
			m = math.Exp(m)
		}
		out[i] = plotter.XY{X: pts[i].X, Y: m}
	}
	return out
}

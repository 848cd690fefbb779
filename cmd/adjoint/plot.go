package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"adjoint/dsl"
	"adjoint/lib/energy"
	"adjoint/lib/npy"
	"adjoint/lib/viz"
)

func init() {
	register("plot", "draw a figure (energy-hist, dist-hist, marginals, particles, weights, trajectories, loss) to PNG or SVG", runPlot)
}

// plotKindOrder and plotKinds are the figures of adjoint plot, with what each needs: those of
// dsl.PlotKinds (the list scripts share) that the command line draws.
var plotKindOrder, plotKinds = commandPlotKinds()

func commandPlotKinds() ([]string, map[string]string) {
	var order []string
	kinds := map[string]string{}
	for _, k := range dsl.PlotKinds() {
		if k.Command != "" {
			order = append(order, k.CommandName())
			kinds[k.CommandName()] = k.Command
		}
	}
	return order, kinds
}

func plotUsage() string {
	var b strings.Builder
	b.WriteString("KIND SAMPLES.npy [--ref REF.npy] [--system dw4|lj13|lj55] -o FIG.png|FIG.svg\n\nKinds:\n")
	for _, k := range plotKindOrder {
		fmt.Fprintf(&b, "  %-12s %s\n", k, plotKinds[k])
	}
	b.WriteString("\nFlags:")
	return b.String()
}

// plotArray reads an .npy file as rows of cols numbers.
func plotArray(path, what string) (data []float64, rows, cols int, err error) {
	a, err := npy.ReadFile(path)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s: %w", what, err)
	}
	rows, cols = a.Rows()
	if len(a.Data) == 0 {
		return nil, 0, 0, fmt.Errorf("%s file %s is empty", what, path)
	}
	return a.Data, rows, cols, nil
}

func runPlot(args []string) error {
	fs := newFlagSet("plot", plotUsage())
	out := fs.String("o", "", "output file: .png or .svg (required)")
	ref := fs.String("ref", "", "reference samples (.npy) drawn against the samples")
	system := fs.String("system", "", "system of the samples: "+systemSpecHelp)
	particles := fs.Int("particles", 0, "particles per configuration (when no --system)")
	dim := fs.Int("dim", 0, "spatial dimension of a particle (when no --system)")
	width := fs.Int("width", viz.DefaultWidth, "figure width in pixels")
	height := fs.Int("height", 0, "figure height in pixels (0: the figure's default)")
	bins := fs.Int("bins", 0, "histogram bins (0: default)")
	count := fs.Int("count", 0, "configurations or coordinates to draw (0: default)")
	title := fs.String("title", "", "figure title")
	t0 := fs.Float64("t0", 0, "trajectories: time of the first step")
	t1 := fs.Float64("t1", 1, "trajectories: time of the last step")
	labels := fs.String("labels", "", "legend labels of the samples and the reference, comma separated (e.g. 'Adjoint Sampling,MCMC')")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || *out == "" {
		fs.Usage()
		return fmt.Errorf("%w: need KIND, SAMPLES.npy and -o FIG.png|FIG.svg", errUsage)
	}
	kind, samplesPath := pos[0], pos[1]
	if _, ok := plotKinds[kind]; !ok {
		return fmt.Errorf("%w: unknown kind %q (known: %s)", errUsage, kind, strings.Join(plotKindOrder, ", "))
	}
	if ext := strings.ToLower(filepath.Ext(*out)); ext != ".png" && ext != ".svg" {
		return fmt.Errorf("%w: -o %s: the file must end in .png or .svg", errUsage, *out)
	}
	if err := checkOutputs("figure", *out); err != nil {
		return err
	}
	opt := viz.Options{Title: *title, Width: *width, Height: *height, Bins: *bins, Count: *count}
	if *labels != "" {
		opt.Labels = strings.Split(*labels, ",")
	}
	var sys *energy.System
	if *system != "" {
		if sys, err = resolveSystem(*system); err != nil {
			return err
		}
		*particles, *dim = sys.Energy.Particles(), sys.Energy.SpatialDim()
	}
	gen, rows, cols, err := plotArray(samplesPath, "samples")
	if err != nil {
		return err
	}
	var refData []float64
	refCols := cols
	if *ref != "" {
		if refData, _, refCols, err = plotArray(*ref, "reference"); err != nil {
			return err
		}
		if refCols != cols {
			return fmt.Errorf("samples have %d numbers per row but the reference %d", cols, refCols)
		}
	}
	needShape := func() error {
		if *particles < 1 || *dim < 1 {
			return fmt.Errorf("%w: %s needs --system, or --particles and --dim", errUsage, kind)
		}
		if cols != *particles**dim {
			return fmt.Errorf("samples have %d numbers per row; %d particles in %d-D need %d", cols, *particles, *dim, *particles**dim)
		}
		return nil
	}
	var fig *viz.Figure
	switch kind {
	case "energy-hist":
		if sys == nil {
			if cols != 1 {
				return fmt.Errorf("%w: energy-hist of configurations needs --system (or give a 1-D array of energies)", errUsage)
			}
			fig, err = viz.EnergyHist(gen, refData, opt)
			break
		}
		if err := needShape(); err != nil {
			return err
		}
		eg, er := energies(sys, gen, cols), energies(sys, refData, cols)
		if opt.Title == "" {
			opt.Title = "Energy histogram, " + systemTitle(sys.Name)
		}
		fig, err = viz.EnergyHist(eg, er, opt)
	case "dist-hist":
		if err := needShape(); err != nil {
			return err
		}
		if opt.Title == "" && sys != nil {
			opt.Title = "Interatomic distances, " + systemTitle(sys.Name)
		}
		fig, err = viz.DistanceHist(gen, refData, *particles, *dim, opt)
	case "marginals":
		fig, err = viz.Marginals(gen, cols, refData, opt)
	case "particles":
		if err := needShape(); err != nil {
			return err
		}
		fig, err = viz.Particles(gen, *particles, *dim, opt)
	case "weights":
		if cols != 1 {
			return fmt.Errorf("weights need a 1-D array of log-weights, got rows of %d", cols)
		}
		fig, err = viz.WeightHist(gen, opt)
	case "trajectories":
		if cols < 2 {
			return fmt.Errorf("trajectories need a PATHS×STEPS array with at least 2 steps, got rows of %d", cols)
		}
		paths := make([][]float64, rows)
		for i := range paths {
			paths[i] = gen[i*cols : (i+1)*cols]
		}
		times := make([]float64, cols)
		for j := range times {
			times[j] = *t0 + (*t1-*t0)*float64(j)/float64(cols-1)
		}
		fig, err = viz.Trajectories(paths, times, opt)
	case "loss":
		if cols != 1 {
			return fmt.Errorf("loss needs a 1-D array of losses, got rows of %d", cols)
		}
		steps := make([]float64, len(gen))
		for i := range steps {
			steps[i] = float64(i + 1)
		}
		fig, err = viz.TrainingCurve(steps, gen, opt)
	}
	if err != nil {
		return err
	}
	if err := fig.Save(*out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: %s\n", *out, fig.Caption())
	return nil
}

// energies evaluates the system's energy on rows of cols numbers, in batches.
func energies(sys *energy.System, x []float64, cols int) []float64 {
	if len(x) == 0 {
		return nil
	}
	e := make([]float64, len(x)/cols)
	const batch = 4096
	for i := 0; i < len(e); i += batch {
		j := min(len(e), i+batch)
		sys.Energy.EnergyGrad(x[i*cols:j*cols], e[i:j], nil)
	}
	return e
}

// systemTitle spells a benchmark's name as papers do (dw4 → DW-4, lj13 → LJ-13).
func systemTitle(name string) string {
	up := strings.ToUpper(name)
	for i, r := range up {
		if r >= '0' && r <= '9' {
			return up[:i] + "-" + up[i:]
		}
	}
	return up
}

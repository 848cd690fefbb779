package viz_test

import (
	"fmt"
	"math"

	"adjoint/lib/energy"
	"adjoint/lib/viz"
)

func ExampleEnergyHist() {
	samples := []float64{-21.5, -20.2, -19.8, -22.1, math.NaN()}
	reference := []float64{-21, -20.5, -22, -19.5, -20.9, -21.7}
	fig, err := viz.EnergyHist(samples, reference, viz.Options{Bins: 20, Labels: []string{"Adjoint Sampling", "MCMC"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(fig.Size())
	// fig.Save("energy.png") writes the file; in a notebook the figure shows itself.
	fmt.Println(fig.Caption())
	// Output:
	// 576 384
	// Energy histogram of 5 samples; reference of 6; 20 bins on [-22.19, -19.4]; 1 non-finite sample dropped
}

func ExampleDistanceHist() {
	// Two configurations of 3 particles in 2-D.
	x := []float64{0, 0, 1, 0, 0, 1, 0, 0, 2, 0, 0, 2}
	fig, err := viz.DistanceHist(x, nil, 3, 2, viz.Options{Width: 400, Height: 300})
	if err != nil {
		fmt.Println(err)
		return
	}
	w, h := fig.Size()
	fmt.Println(w, h)
	// Output: 400 300
}

func ExampleEnergyContour() {
	e, err := energy.NewGaussian(1, 2, nil, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fig, err := viz.EnergyContour(e, -3, 3, -3, 3, []float64{0.5, 0.2, -1, 1}, viz.Options{Bins: 60})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(fig.Caption())
	// Output: 2 samples over the energy on [-3, 3]×[-3, 3] (60×60 grid, 9 contour levels)
}

func ExampleWeightHist() {
	logw := []float64{0, 0, math.Log(2), math.Log(4)}
	fig, err := viz.WeightHist(logw, viz.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(fig.Caption()) // ESS = (1+1+2+4)²/(1+1+4+16) = 64/22
	// Output: Importance-weight histogram of 4 samples: ESS 2.909 (72.7%); max normalised weight 0.5
}

func ExampleTrainingCurves() {
	steps := []float64{1, 2, 3, 4}
	loss := []float64{8, 4, 2, 1}
	fig, err := viz.TrainingCurves(steps, loss, []float64{10, 20}, []float64{1.2, 0.6}, viz.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(fig.Panels()[0]))
	// Output: 2
}

func ExampleSamplesSummary() {
	// Two configurations of 2 particles in 1-D.
	tab, err := viz.SamplesSummary([]float64{0, 2, 0, 4}, 2, 1, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tab.Caption)
	for _, row := range tab.Rows {
		fmt.Printf("%s: %s\n", row[0], row[1])
	}
	// In a notebook, the table shows itself as HTML.
	// Output:
	// Samples: 2 configurations of 2 particles in 1-D
	// configurations: 2
	// non-finite configurations: 0
	// mean interatomic distance: 3
	// mean radius of gyration: 1.5
	// max centre-of-mass norm: 2
}

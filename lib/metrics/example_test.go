package metrics

import "fmt"

// A configuration and a relabelled, shifted and mirrored copy of it are at aligned distance 0.
func ExampleAlignedDistance() {
	x := []float64{0, 0, 2, 0, 2, 1, 0, 1} // a 2×1 rectangle, 4 particles in 2-D
	y := []float64{5, 1, 3, 1, 3, 0, 5, 0} // mirrored (x → −x), shifted by (5, 0), relabelled
	d, _ := AlignedDistance(x, y, 4, 2)
	fmt.Printf("%.6f\n", d)
	// Output: 0.000000
}

func ExampleESS() {
	ess, _ := ESS([]float64{0, 0, 0, -1000})
	fmt.Printf("%.3f\n", ess)
	// Output: 3.000
}

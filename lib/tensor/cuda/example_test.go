package cuda_test

import (
	"fmt"

	"adjoint/lib/tensor/cuda"
)

// Example opens the GPU that ADJOINT_DEVICE allows, adds two vectors on it and reads the
// result back; without a GPU it says why and stops.
func Example() {
	d, err := cuda.Default()
	if err != nil {
		fmt.Println("cpu:", err)
		return
	}
	a, err := d.Upload([]float32{1, 2, 3})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Free(a)
	b, err := d.Upload([]float32{10, 20, 30})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Free(b)
	if err := d.Add(a, a, b); err != nil {
		fmt.Println(err)
		return
	}
	sum, err := d.Download(a)
	fmt.Println(d, sum, err)
}

// ExampleDevice_Sgemm multiplies row-major matrices on the GPU: C (2×2) = A (2×3) · B (3×2).
func ExampleDevice_Sgemm() {
	d, err := cuda.Default()
	if err != nil {
		fmt.Println("cpu:", err)
		return
	}
	A, _ := d.Upload([]float32{1, 2, 3, 4, 5, 6})
	B, _ := d.Upload([]float32{1, 0, 0, 1, 1, 1})
	C, _ := d.Zeros(4)
	if err := d.Sgemm(false, false, 2, 2, 3, 1, A, 3, B, 2, 0, C, 2); err != nil {
		fmt.Println(err)
		return
	}
	c, err := d.Download(C)
	fmt.Println(c, err) // [4 5 10 11]
}

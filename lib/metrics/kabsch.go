package metrics

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// NuclearNorm returns the sum of the singular values of the d×d matrix h (row-major). It is
// max over orthogonal R (rotations and reflections) of tr(R·h), the quantity Kabsch alignment
// needs: min_R ‖X − Y·R‖² = ‖X‖² + ‖Y‖² − 2·NuclearNorm(Xᵀ·Y). d = 1, 2 and 3 use closed forms;
// larger d use gonum's SVD.
func NuclearNorm(h []float64, d int) float64 {
	switch d {
	case 1:
		return math.Abs(h[0])
	case 2:
		return nuclear2(h)
	case 3:
		return nuclear3(h)
	}
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(d, d, append([]float64(nil), h[:d*d]...)), mat.SVDNone) {
		return math.NaN()
	}
	s := 0.0
	for _, v := range svd.Values(nil) {
		s += v
	}
	return s
}

// nuclear2: (σ1 + σ2)² = ‖h‖_F² + 2|det h|.
func nuclear2(h []float64) float64 {
	a, b, c, d := h[0], h[1], h[2], h[3]
	return math.Sqrt(a*a + b*b + c*c + d*d + 2*math.Abs(a*d-b*c))
}

// nuclear3 takes the eigenvalues of hᵀh in closed form (trigonometric solution of the
// characteristic cubic); the smallest singular value comes from |det h| = σ1σ2σ3.
func nuclear3(h []float64) float64 {
	// A = hᵀh.
	a00 := h[0]*h[0] + h[3]*h[3] + h[6]*h[6]
	a11 := h[1]*h[1] + h[4]*h[4] + h[7]*h[7]
	a22 := h[2]*h[2] + h[5]*h[5] + h[8]*h[8]
	a01 := h[0]*h[1] + h[3]*h[4] + h[6]*h[7]
	a02 := h[0]*h[2] + h[3]*h[5] + h[6]*h[8]
	a12 := h[1]*h[2] + h[4]*h[5] + h[7]*h[8]
	det := math.Abs(h[0]*(h[4]*h[8]-h[5]*h[7]) - h[1]*(h[3]*h[8]-h[5]*h[6]) + h[2]*(h[3]*h[7]-h[4]*h[6]))
	q := (a00 + a11 + a22) / 3
	p1 := a01*a01 + a02*a02 + a12*a12
	b00, b11, b22 := a00-q, a11-q, a22-q
	p2 := b00*b00 + b11*b11 + b22*b22 + 2*p1
	if p2 <= 1e-30*q*q || p2 == 0 {
		s := math.Sqrt(max(q, 0))
		return 3 * s
	}
	p := math.Sqrt(p2 / 6)
	// r = det(B)/2 with B = (A − qI)/p.
	detB := b00*(b11*b22-a12*a12) - a01*(a01*b22-a12*a02) + a02*(a01*a12-b11*a02)
	r := detB / (2 * p * p * p)
	r = max(-1, min(1, r))
	phi := math.Acos(r) / 3
	l1 := q + 2*p*math.Cos(phi)
	l3 := q + 2*p*math.Cos(phi+2*math.Pi/3)
	l2 := 3*q - l1 - l3
	s1 := math.Sqrt(max(l1, 0))
	s2 := math.Sqrt(max(l2, 0))
	var s3 float64
	if s1*s2 > 0 {
		s3 = det / (s1 * s2)
		// Guard against round-off when the two larger values are themselves inaccurate.
		if s3 > s2 {
			s3 = math.Sqrt(max(l3, 0))
		}
	}
	return s1 + s2 + s3
}

// KabschRotation returns the orthogonal d×d matrix R (row-major; a reflection when that fits
// better) that minimises ‖X − Y·R‖ for the n×d point sets x and y (row-major, already centred),
// via gonum's SVD of Yᵀ·X. It serves tests and notebooks; the metrics only need NuclearNorm.
func KabschRotation(x, y []float64, n, d int) ([]float64, bool) {
	h := mat.NewDense(d, d, nil)
	h.Mul(mat.NewDense(n, d, append([]float64(nil), y...)).T(), mat.NewDense(n, d, append([]float64(nil), x...)))
	var svd mat.SVD
	if !svd.Factorize(h, mat.SVDFull) {
		return nil, false
	}
	var u, v, r mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	r.Mul(&u, v.T())
	return r.RawMatrix().Data, true
}

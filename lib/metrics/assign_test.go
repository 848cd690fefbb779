package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bruteAssign enumerates all permutations (Heap's algorithm).
func bruteAssign(c []float64, n int) float64 {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	best := math.Inf(1)
	eval := func() {
		s := 0.0
		for i, j := range p {
			s += c[i*n+j]
		}
		best = min(best, s)
	}
	var gen func(k int)
	gen = func(k int) {
		if k == 1 {
			eval()
			return
		}
		for i := range k - 1 {
			gen(k - 1)
			if k%2 == 0 {
				p[i], p[k-1] = p[k-1], p[i]
			} else {
				p[0], p[k-1] = p[k-1], p[0]
			}
		}
		gen(k - 1)
	}
	gen(n)
	return best
}

// hungarianRef is a textbook O(n³) Hungarian algorithm with row and column potentials, an
// independent check for sizes beyond brute force.
func hungarianRef(c []float64, n int) float64 {
	inf := math.Inf(1)
	u := make([]float64, n+1)
	v := make([]float64, n+1)
	p := make([]int, n+1)
	way := make([]int, n+1)
	for i := 1; i <= n; i++ {
		p[0] = i
		j0 := 0
		minv := make([]float64, n+1)
		used := make([]bool, n+1)
		for j := range minv {
			minv[j] = inf
		}
		for {
			used[j0] = true
			i0, delta, j1 := p[j0], inf, 0
			for j := 1; j <= n; j++ {
				if !used[j] {
					cur := c[(i0-1)*n+j-1] - u[i0] - v[j]
					if cur < minv[j] {
						minv[j], way[j] = cur, j0
					}
					if minv[j] < delta {
						delta, j1 = minv[j], j
					}
				}
			}
			for j := 0; j <= n; j++ {
				if used[j] {
					u[p[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if p[j0] == 0 {
				break
			}
		}
		for j0 != 0 {
			j1 := way[j0]
			p[j0] = p[j1]
			j0 = j1
		}
	}
	s := 0.0
	for j := 1; j <= n; j++ {
		s += c[(p[j]-1)*n+j-1]
	}
	return s
}

func checkPerm(t *testing.T, p []int, n int) {
	t.Helper()
	seen := make([]bool, n)
	for _, j := range p {
		if j < 0 || j >= n || seen[j] {
			t.Fatalf("not a permutation: %v", p)
		}
		seen[j] = true
	}
}

func TestAssignConstructed(t *testing.T) {
	cases := []struct {
		name string
		n    int
		cost []float64
		want float64
		perm []int
	}{
		{"1x1", 1, []float64{3}, 3, []int{0}},
		{"anti-diagonal", 3, []float64{5, 5, 1, 5, 1, 5, 1, 5, 5}, 3, []int{2, 1, 0}},
		{"classic", 3, []float64{4, 1, 3, 2, 0, 5, 3, 2, 2}, 5, []int{1, 0, 2}},
		{"negative", 2, []float64{-1, -5, -3, -2}, -8, []int{1, 0}},
		{"all-equal", 3, []float64{7, 7, 7, 7, 7, 7, 7, 7, 7}, 21, nil},
	}
	var a Assigner
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, got, err := a.Assign(c.cost, c.n)
			if err != nil {
				t.Fatal(err)
			}
			checkPerm(t, p, c.n)
			if math.Abs(got-c.want) > 1e-12 {
				t.Fatalf("cost %g, want %g", got, c.want)
			}
			for i, j := range c.perm {
				if p[i] != j {
					t.Fatalf("perm %v, want %v", p, c.perm)
				}
			}
		})
	}
	if _, _, err := a.Assign([]float64{1, math.NaN(), 2, 3}, 2); err == nil {
		t.Fatal("NaN cost accepted")
	}
	if _, _, err := a.Assign([]float64{1, 2, 3}, 2); err == nil {
		t.Fatal("wrong size accepted")
	}
}

func TestAssignBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var a Assigner // reused across sizes on purpose
	for trial := range 400 {
		n := 1 + trial%8
		c := make([]float64, n*n)
		for i := range c {
			if trial%3 == 0 {
				c[i] = float64(rng.IntN(4)) // many ties
			} else {
				c[i] = rng.Float64()*10 - 3
			}
		}
		p, got, err := a.Assign(c, n)
		if err != nil {
			t.Fatal(err)
		}
		checkPerm(t, p, n)
		want := bruteAssign(c, n)
		if math.Abs(got-want) > 1e-9 {
			t.Fatalf("trial %d n=%d: cost %g, brute force %g", trial, n, got, want)
		}
	}
}

func TestAssignLargeVsHungarian(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{13, 55, 300} {
		for kind := range 3 {
			c := make([]float64, n*n)
			switch kind {
			case 0: // uniform
				for i := range c {
					c[i] = rng.Float64()
				}
			case 1: // squared distances of random points, like the transport step
				xs := make([]float64, 2*n)
				ys := make([]float64, 2*n)
				for i := range xs {
					xs[i], ys[i] = rng.NormFloat64(), rng.NormFloat64()
				}
				for i := range n {
					for j := range n {
						dx, dy := xs[2*i]-ys[2*j], xs[2*i+1]-ys[2*j+1]
						c[i*n+j] = dx*dx + dy*dy
					}
				}
			case 2: // small integers: ties everywhere
				for i := range c {
					c[i] = float64(rng.IntN(5))
				}
			}
			p, got, err := Assign(c, n)
			if err != nil {
				t.Fatal(err)
			}
			checkPerm(t, p, n)
			want := hungarianRef(c, n)
			if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
				t.Fatalf("n=%d kind=%d: cost %.12g, Hungarian %.12g", n, kind, got, want)
			}
		}
	}
}

func BenchmarkAssign55(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	n := 55
	c := make([]float64, n*n)
	pts := make([]float64, 6*n)
	for i := range pts {
		pts[i] = rng.NormFloat64()
	}
	for i := range n {
		for j := range n {
			s := 0.0
			for k := range 3 {
				d := pts[3*i+k] - pts[3*n+3*j+k]
				s += d * d
			}
			c[i*n+j] = math.Sqrt(s)
		}
	}
	var a Assigner
	for b.Loop() {
		a.Assign(c, n)
	}
}

func BenchmarkHungarianRef55(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	n := 55
	c := make([]float64, n*n)
	for i := range c {
		c[i] = rng.Float64()
	}
	for b.Loop() {
		hungarianRef(c, n)
	}
}

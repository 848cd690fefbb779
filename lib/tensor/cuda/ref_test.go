package cuda

import "math"

// Float64 references of the kernels, written from lib/tensor's definitions. Backward kernels
// are checked against vector-Jacobian products of these forwards by central differences.

func sigmoid64(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func refAct(act Act, z float64) float64 {
	switch act {
	case ActSiLU:
		return z * sigmoid64(z)
	case ActTanh:
		return math.Tanh(z)
	case ActReLU:
		return max(z, 0)
	case ActSigmoid:
		return sigmoid64(z)
	}
	return z
}

func partner(i, k int) int {
	if k < i {
		return k
	}
	return k + 1
}

func slot(i, j int) int {
	if j < i {
		return j
	}
	return j - 1
}

func refPairDiff(x []float64, B, n, d int) []float64 {
	y := make([]float64, 0, B*n*(n-1)*d)
	for b := 0; b < B; b++ {
		for i := 0; i < n; i++ {
			for k := 0; k < n-1; k++ {
				j := partner(i, k)
				for c := 0; c < d; c++ {
					y = append(y, x[(b*n+i)*d+c]-x[(b*n+j)*d+c])
				}
			}
		}
	}
	return y
}

func refSqNorm(x []float64, rows, d int) []float64 {
	y := make([]float64, rows)
	for r := range y {
		for c := 0; c < d; c++ {
			y[r] += x[r*d+c] * x[r*d+c]
		}
	}
	return y
}

func refNormDiff(D, r []float64, rows, d int) []float64 {
	y := make([]float64, rows*d)
	for e := 0; e < rows; e++ {
		inv := 1 / (math.Sqrt(r[e]+1e-8) + 1)
		for c := 0; c < d; c++ {
			y[e*d+c] = D[e*d+c] * inv
		}
	}
	return y
}

func refEdgeCombine(a, bm, r, e, wr, we []float64, act Act, B, n, H int) []float64 {
	y := make([]float64, B*n*(n-1)*H)
	for b := 0; b < B; b++ {
		for i := 0; i < n; i++ {
			for k := 0; k < n-1; k++ {
				j := partner(i, k)
				q := (b*n+i)*(n-1) + k
				for h := 0; h < H; h++ {
					z := a[(b*n+i)*H+h] + bm[(b*n+j)*H+h] + wr[h]*r[q]
					if e != nil {
						z += we[h] * e[q]
					}
					y[q*H+h] = refAct(act, z)
				}
			}
		}
	}
	return y
}

func refSumPairs(m []float64, nodes, k, H int) []float64 {
	y := make([]float64, nodes*H)
	for v := 0; v < nodes; v++ {
		for q := 0; q < k; q++ {
			for h := 0; h < H; h++ {
				y[v*H+h] += m[(v*k+q)*H+h]
			}
		}
	}
	return y
}

func refGate(m, w, bias []float64, rows, H int) ([]float64, []float64) {
	y, g := make([]float64, rows*H), make([]float64, rows)
	for r := 0; r < rows; r++ {
		s := bias[0]
		for h := 0; h < H; h++ {
			s += m[r*H+h] * w[h]
		}
		g[r] = sigmoid64(s)
		for h := 0; h < H; h++ {
			y[r*H+h] = m[r*H+h] * g[r]
		}
	}
	return y, g
}

func refDotTanh(c, w []float64, scale float64, rows, H int) []float64 {
	y := make([]float64, rows)
	for r := range y {
		var s float64
		for h := 0; h < H; h++ {
			s += c[r*H+h] * w[h]
		}
		y[r] = scale * math.Tanh(s)
	}
	return y
}

func refCoordUpdate(x, Dn, c []float64, B, n, d int) []float64 {
	y := append([]float64(nil), x...)
	for b := 0; b < B; b++ {
		for i := 0; i < n; i++ {
			for k := 0; k < n-1; k++ {
				q := (b*n+i)*(n-1) + k
				for a := 0; a < d; a++ {
					y[(b*n+i)*d+a] += Dn[q*d+a] * c[q]
				}
			}
		}
	}
	return y
}

func refRemoveMean(x []float64, B, n, d int) []float64 {
	y := make([]float64, len(x))
	for b := 0; b < B; b++ {
		for a := 0; a < d; a++ {
			var s float64
			for i := 0; i < n; i++ {
				s += x[(b*n+i)*d+a]
			}
			for i := 0; i < n; i++ {
				y[(b*n+i)*d+a] = x[(b*n+i)*d+a] - s/float64(n)
			}
		}
	}
	return y
}

// vjp is Σ_o dy[o]·∂f(in)[o]/∂in[which] by central differences.
func vjp(f func(in [][]float64) []float64, in [][]float64, which int, dy []float64) []float64 {
	const h = 1e-6
	x := in[which]
	g := make([]float64, len(x))
	for i := range x {
		old := x[i]
		x[i] = old + h
		fp := f(in)
		x[i] = old - h
		fm := f(in)
		x[i] = old
		var s float64
		for o := range dy {
			s += dy[o] * (fp[o] - fm[o])
		}
		g[i] = s / (2 * h)
	}
	return g
}

func to64(s []float32) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}

package metrics

import (
	"fmt"
	"math"
)

// Assigner solves dense square linear assignment problems with the Jonker–Volgenant algorithm
// (column reduction, reduction transfer, augmenting row reduction, then shortest augmenting
// paths). It keeps its buffers between calls, so one Assigner per goroutine solves many small
// problems without allocating. The zero value is ready to use; an Assigner is not safe for
// concurrent use.
type Assigner struct {
	n              int
	v, d           []float64
	rowsol, colsol []int
	free, collist  []int
	pred, matches  []int
}

func (a *Assigner) grow(n int) {
	if a.n == n {
		return
	}
	a.n = n
	a.v = make([]float64, n)
	a.d = make([]float64, n)
	a.rowsol = make([]int, n)
	a.colsol = make([]int, n)
	a.free = make([]int, n)
	a.collist = make([]int, n)
	a.pred = make([]int, n)
	a.matches = make([]int, n)
}

// Assign solves min Σ_i cost[i·n+σ(i)] over permutations σ of 0..n−1. cost is n×n row-major
// and must be finite. It returns σ (row i goes to column σ[i]; the slice is owned by the
// Assigner and overwritten by the next call) and the optimal total cost.
func (a *Assigner) Assign(cost []float64, n int) ([]int, float64, error) {
	if n < 0 || len(cost) != n*n {
		return nil, 0, fmt.Errorf("metrics: assignment: cost has %d entries, want %d×%d", len(cost), n, n)
	}
	if n == 0 {
		return nil, 0, nil
	}
	for i, c := range cost {
		if math.IsNaN(c) || math.IsInf(c, 0) {
			return nil, 0, fmt.Errorf("metrics: assignment: cost[%d][%d] = %g is not finite", i/n, i%n, c)
		}
	}
	return a.assignFinite(cost, n)
}

// assignFinite is Assign for a cost matrix already known to be finite and of the right size.
func (a *Assigner) assignFinite(cost []float64, n int) ([]int, float64, error) {
	a.grow(n)
	a.lapjv(cost, n)
	total := 0.0
	for i := range n {
		total += cost[i*n+a.rowsol[i]]
	}
	return a.rowsol, total, nil
}

// Assign solves a dense n×n assignment problem (see Assigner.Assign); the returned slice is
// freshly allocated.
func Assign(cost []float64, n int) ([]int, float64, error) {
	var a Assigner
	p, c, err := a.Assign(cost, n)
	if err != nil {
		return nil, 0, err
	}
	return append([]int(nil), p...), c, nil
}

// lapjv is the Jonker–Volgenant algorithm (Computing 38, 1987) for dense matrices.
func (a *Assigner) lapjv(c []float64, n int) {
	v, d := a.v, a.d
	rowsol, colsol := a.rowsol, a.colsol
	free, collist, pred, matches := a.free, a.collist, a.pred, a.matches
	if n == 1 {
		rowsol[0], colsol[0] = 0, 0
		return
	}
	for i := range n {
		matches[i] = 0
		rowsol[i] = -1
	}
	// Column reduction: each column goes to its cheapest row (the first one on ties). The
	// minima are found row by row, which reads the matrix in memory order.
	argmin := collist
	copy(v, c[:n])
	for j := range n {
		argmin[j] = 0
	}
	for i := 1; i < n; i++ {
		row := c[i*n : i*n+n]
		for j, h := range row {
			if h < v[j] {
				v[j] = h
				argmin[j] = i
			}
		}
	}
	for j := n - 1; j >= 0; j-- {
		imin := argmin[j]
		matches[imin]++
		if matches[imin] == 1 {
			rowsol[imin] = j
			colsol[j] = imin
		} else if v[j] < v[rowsol[imin]] {
			j1 := rowsol[imin]
			rowsol[imin] = j
			colsol[j] = imin
			colsol[j1] = -1
		} else {
			colsol[j] = -1
		}
	}
	// Reduction transfer.
	numfree := 0
	for i := range n {
		switch matches[i] {
		case 0:
			free[numfree] = i
			numfree++
		case 1:
			j1 := rowsol[i]
			mn := math.Inf(1)
			row := c[i*n : i*n+n]
			for j := range n {
				if j != j1 {
					if h := row[j] - v[j]; h < mn {
						mn = h
					}
				}
			}
			v[j1] -= mn
		}
	}
	// Augmenting row reduction, twice.
	for loop := 0; loop < 2 && numfree > 0; loop++ {
		k := 0
		prv := numfree
		numfree = 0
		for k < prv {
			i := free[k]
			k++
			row := c[i*n : i*n+n]
			umin := row[0] - v[0]
			j1, j2 := 0, -1
			usubmin := math.Inf(1)
			for j := 1; j < n; j++ {
				h := row[j] - v[j]
				if h < usubmin {
					if h >= umin {
						usubmin, j2 = h, j
					} else {
						usubmin, umin = umin, h
						j2, j1 = j1, j
					}
				}
			}
			i0 := colsol[j1]
			if umin < usubmin {
				v[j1] -= usubmin - umin
			} else if i0 >= 0 {
				j1 = j2
				i0 = colsol[j2]
			}
			rowsol[i] = j1
			colsol[j1] = i
			// The displaced row waits for the next pass or the augmentation phase. (The
			// original algorithm retries it at once when the price moved; on the distance
			// matrices of the metrics that costs more than it saves.)
			if i0 >= 0 {
				free[numfree] = i0
				numfree++
			}
		}
	}
	// Augmentation by shortest paths (Dijkstra on reduced costs).
	for f := range numfree {
		freerow := free[f]
		row := c[freerow*n : freerow*n+n]
		for j := range n {
			d[j] = row[j] - v[j]
			pred[j] = freerow
			collist[j] = j
		}
		low, up, last := 0, 0, 0
		endofpath := -1
		mn := 0.0
		for endofpath < 0 {
			if up == low {
				last = low - 1
				mn = d[collist[up]]
				up++
				for k := up; k < n; k++ {
					j := collist[k]
					h := d[j]
					if h <= mn {
						if h < mn {
							up = low
							mn = h
						}
						collist[k] = collist[up]
						collist[up] = j
						up++
					}
				}
				for k := low; k < up; k++ {
					if colsol[collist[k]] < 0 {
						endofpath = collist[k]
						break
					}
				}
			}
			if endofpath < 0 {
				j1 := collist[low]
				low++
				i := colsol[j1]
				ri := c[i*n : i*n+n]
				h := ri[j1] - v[j1] - mn
				for k := up; k < n; k++ {
					j := collist[k]
					v2 := ri[j] - v[j] - h
					if v2 < d[j] {
						pred[j] = i
						if v2 <= mn {
							if colsol[j] < 0 {
								endofpath = j
								break
							}
							collist[k] = collist[up]
							collist[up] = j
							up++
						}
						d[j] = v2
					}
				}
			}
		}
		// Update the prices of the columns that were scanned.
		for k := 0; k <= last; k++ {
			j1 := collist[k]
			v[j1] += d[j1] - mn
		}
		// Augment along the alternating path.
		for {
			i := pred[endofpath]
			colsol[endofpath] = i
			j1 := endofpath
			endofpath = rowsol[i]
			rowsol[i] = j1
			if i == freerow {
				break
			}
		}
	}
}

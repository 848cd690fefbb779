package dsl

import (
	"fmt"
	"strings"
)

// kernel writes one kernel: energies only, or energies and gradients. Thread tid belongs to
// group grp (configuration cfg = base + grp of the block's G) as its thread gt of Tc; every
// group has its slice of the shared arrays.
func (g *cgen) kernel(name string, withGrad bool) {
	en := g.en
	n, d := en.n, en.d
	nd := n * d
	Tc, G := g.l.Tc, g.l.G
	g.line("")
	g.open("extern \"C\" __global__ void %s(const double* __restrict__ xg, double* __restrict__ eg, double* __restrict__ gg, int B) {", name)
	g.sharedArrays(withGrad)
	g.open("for (int base = blockIdx.x * %d; base < B; base += gridDim.x * %d) {", G, G)
	g.line("const int cfg = base + grp;")
	g.line("const bool valid = cfg < B;")
	g.line("(void)valid;")
	if g.l.shared {
		g.line("double* xs = xsh + grp * %d;", nd)
		g.line("const double* xrow = xg + (long long)(valid ? cfg : 0) * %d;", nd)
		g.line("for (int q = gt; q < %d; q += %d) xs[q] = valid ? xrow[q] : 0.0;", nd, Tc)
		if withGrad {
			g.line("double* gs = gsh + grp * %d;", nd)
		}
	} else {
		// one configuration per block: cfg < B
		g.line("const double* xs = xg + (long long)cfg * %d;", nd)
		if withGrad {
			g.line("double* gs = gg + (long long)cfg * %d;", nd)
		}
	}
	if withGrad {
		g.line("for (int q = gt; q < %d; q += %d) gs[q] = 0.0;", nd, Tc)
		if en.usesCom {
			g.line("for (int k = gt; k < %d; k += %d) comg[k] = 0.0;", d, Tc)
		}
	}
	g.line("__syncthreads();")
	if en.usesCom {
		g.open("for (int k = gt; k < %d; k += %d) {", d, Tc)
		g.line("double s = 0.0;")
		g.line("for (int p = 0; p < %d; p++) s += xs[p * %d + k];", n, d)
		g.line("com[k] = s * %s;", cLit(1/float64(n)))
		g.close()
		g.line("__syncthreads();")
	}
	// pass 1: every sum's value; with a constant seed, its gradient too
	second := []int{}
	for m, k := range en.kernels {
		seed, known := 0.0, false
		if m < len(en.top.seedKnown) {
			seed, known = en.top.seedConst[m], en.top.seedKnown[m]
		}
		switch {
		case !withGrad || known && seed == 0:
			g.sum(m, k, "value", "")
		case known:
			g.sum(m, k, "value+grad", cLit(seed)+" * "+cLit(k.scale))
		default:
			g.sum(m, k, "value", "")
			second = append(second, m)
		}
	}
	g.top(withGrad)
	g.line("__syncthreads();")
	for _, m := range second {
		g.sum(m, en.kernels[m], "grad", fmt.Sprintf("seeds[%d] * %s", m, cLit(en.kernels[m].scale)))
	}
	if withGrad {
		if len(second) > 0 {
			g.line("__syncthreads();")
		}
		g.open("if (valid) {")
		g.open("for (int q = gt; q < %d; q += %d) {", nd, Tc)
		if en.usesCom {
			g.line("gg[(long long)cfg * %d + q] = gs[q] + comg[q %% %d] * %s;", nd, d, cLit(1/float64(n)))
		} else {
			g.line("gg[(long long)cfg * %d + q] = gs[q];", nd)
		}
		g.close()
		g.close()
	}
	g.line("__syncthreads();")
	g.close()
	g.close()
}

// sum writes the loop of sum m over its lanes. mode "value" accumulates the value into
// sums[m]; "value+grad" also adds the gradient times the seed expression; "grad" only adds
// the gradient (the value is known), skipping the loop when the seed is 0.
func (g *cgen) sum(m int, k *compiledCtx, mode, seed string) {
	withGrad := mode != "value"
	withValue := mode != "grad"
	t := k.val
	if withGrad {
		t = k.full
	}
	g.open("{ // sum %d (%s)", m, mode)
	if withValue {
		g.line("double acc = 0.0;")
	}
	if withGrad {
		g.line("const double sd = %s;", seed)
	}
	if mode == "grad" {
		g.open("if (sd != 0.0) {")
	}
	g.open("for (int l = gt; l < %d; l += %d) {", k.lanes, g.l.Tc)
	g.laneParticles(m, k)
	g.pairDifference(k)
	inputs := g.sumInputs(m, k)
	outs := g.tape(t, inputs)
	if g.err != nil {
		return
	}
	if withValue {
		g.line("acc += %s;", outs[0])
	}
	if withGrad {
		g.scatterSum(k, outs)
	}
	g.close()
	if mode == "grad" {
		g.close()
	}
	if withValue {
		g.line("red[tid] = acc;")
		g.line("__syncthreads();")
		if g.l.Tc > 1 {
			g.open("for (int w = %d; w > 0; w >>= 1) {", g.l.Tc/2)
			g.line("if (gt < w) red[tid] += red[tid + w];")
			g.line("__syncthreads();")
			g.close()
		}
		g.line("if (gt == 0) sums[%d] = %s * red[tid];", m, cLit(k.scale))
		g.line("__syncthreads();")
	}
	g.close()
}

// scatterSum adds one lane's gradient, times sd, to gs (and comg).
func (g *cgen) scatterSum(k *compiledCtx, outs []string) {
	d := g.en.d
	grad := func(i int) string { return outs[1+i] }
	gR2 := ""
	gD := make([]string, d)
	for i, s := range k.specs {
		switch s.kind {
		case inR2:
			if grad(i) != "0.0" {
				gR2 = grad(i)
			}
		case inD:
			if grad(i) != "0.0" {
				gD[s.k] = grad(i)
			}
		}
	}
	for kk := 0; kk < d; kk++ {
		var parts []string
		if gR2 != "" {
			parts = append(parts, fmt.Sprintf("2.0 * %s * d%d", gR2, kk))
		}
		if gD[kk] != "" {
			parts = append(parts, gD[kk])
		}
		if len(parts) == 0 {
			continue
		}
		g.open("{")
		g.line("const double v = (%s) * sd;", strings.Join(parts, " + "))
		g.line("atomicAdd(&gs[pi * %d + %d], v);", d, kk)
		g.line("atomicAdd(&gs[pj * %d + %d], -v);", d, kk)
		g.close()
	}
	for i, s := range k.specs {
		gi := grad(i)
		if gi == "0.0" {
			continue
		}
		switch s.kind {
		case inCoord:
			g.line("atomicAdd(&gs[%s], %s * sd);", g.coordIndex(s.p, s.k), gi)
		case inCom:
			g.line("atomicAdd(&comg[%d], %s * sd);", s.k, gi)
		case inU:
			g.open("{")
			g.line("const double v = %s * sd;", gi)
			g.line("atomicAdd(&gs[%s], v);", g.coordIndex(s.p, s.k))
			g.line("atomicAdd(&comg[%d], -v);", s.k)
			g.close()
		case inQU, inQX:
			g.open("{")
			g.line("const double f = 2.0 * sd * %s;", gi)
			for kk := 0; kk < d; kk++ {
				if s.kind == inQU {
					g.line("const double u%d = xs[pi * %d + %d] - com[%d];", kk, d, kk, kk)
					g.line("atomicAdd(&gs[pi * %d + %d], f * u%d);", d, kk, kk)
					g.line("atomicAdd(&comg[%d], -(f * u%d));", kk, kk)
				} else {
					g.line("atomicAdd(&gs[pi * %d + %d], f * xs[pi * %d + %d]);", d, kk, d, kk)
				}
			}
			g.close()
		}
	}
}

// top writes the top-level expression, evaluated by each group's first thread: the energy, the seeds of the
// sums and the gradient by fixed coordinates and the centre of mass.
func (g *cgen) top(withGrad bool) {
	en := g.en
	c := en.top
	t := c.val
	if withGrad {
		t = c.full
	}
	g.open("if (gt == 0) { // top level")
	inputs := make([]string, len(c.specs))
	for i, s := range c.specs {
		switch {
		case s.kind == inSum:
			inputs[i] = fmt.Sprintf("sums[%d]", s.k)
		case s.kind == inCoord && s.p >= 0:
			inputs[i] = "xs[" + g.coordIndex(s.p, s.k) + "]"
		case s.kind == inCom:
			inputs[i] = fmt.Sprintf("com[%d]", s.k)
		case s.kind == inU && s.p >= 0:
			inputs[i] = fmt.Sprintf("(xs[%s] - com[%d])", g.coordIndex(s.p, s.k), s.k)
		default:
			g.fail("top-level input kind %d (particle %d)", s.kind, s.p)
			inputs[i] = "0.0"
		}
	}
	outs := g.tape(t, inputs)
	if g.err != nil {
		return
	}
	g.line("if (valid) eg[cfg] = %s;", outs[0])
	if withGrad {
		for i, s := range c.specs {
			gi := outs[1+i]
			switch s.kind {
			case inSum:
				g.line("seeds[%d] = %s;", s.k, gi)
			case inCoord:
				if gi != "0.0" {
					g.line("gs[%s] += %s;", g.coordIndex(s.p, s.k), gi)
				}
			case inCom:
				if gi != "0.0" {
					g.line("comg[%d] += %s;", s.k, gi)
				}
			case inU:
				if gi != "0.0" {
					g.line("gs[%s] += %s;", g.coordIndex(s.p, s.k), gi)
					g.line("comg[%d] -= %s;", s.k, gi)
				}
			}
		}
	}
	g.close()
}

// sharedArrays declares the block's shared arrays and each group's slice of them.
func (g *cgen) sharedArrays(withGrad bool) {
	en := g.en
	d := en.d
	nd := en.n * d
	M := max(1, len(en.kernels))
	T, Tc, G := g.l.T, g.l.Tc, g.l.G
	g.line("__shared__ double red[%d];", T)
	g.line("__shared__ double sumsh[%d];", G*M)
	if withGrad {
		g.line("__shared__ double seedsh[%d];", G*M)
	}
	if en.usesCom {
		g.line("__shared__ double comsh[%d];", G*d)
		if withGrad {
			g.line("__shared__ double comgsh[%d];", G*d)
		}
	}
	if g.l.shared {
		g.line("__shared__ double xsh[%d];", G*nd)
		if withGrad {
			g.line("__shared__ double gsh[%d];", G*nd)
		}
	}
	g.line("const int tid = threadIdx.x;")
	if G == 1 {
		g.line("const int gt = tid, grp = 0;")
	} else {
		g.line("const int gt = tid & %d, grp = tid / %d;", Tc-1, Tc)
	}
	if !withGrad {
		g.line("(void)gg;")
	}
	g.line("double* sums = sumsh + grp * %d;", M)
	if withGrad {
		g.line("double* seeds = seedsh + grp * %d;", M)
	}
	if en.usesCom {
		g.line("double* com = comsh + grp * %d;", d)
		if withGrad {
			g.line("double* comg = comgsh + grp * %d;", d)
		}
	}
}

// laneParticles writes the particle pi (particle sums) or pair pi, pj (pair sums) of lane l.
func (g *cgen) laneParticles(m int, k *compiledCtx) {
	n := g.en.n
	switch k.kind {
	case SumParticles:
		g.line("const int pi = l;")
	case SumPairsLess, SumPairsNe:
		P := n * (n - 1) / 2
		g.line("int pi, pj;")
		if k.lanes > P {
			g.line("if (l < %d) adj_pair(l, %d, &pi, &pj); else adj_pair(l - %d, %d, &pj, &pi);", P, n, P, n)
		} else {
			g.line("adj_pair(l, %d, &pi, &pj);", n)
		}
	default:
		g.fail("sum %d of unknown kind %d", m, k.kind)
	}
}

// pairDifference writes the pair difference d0, d1, … (minimum image in a periodic box) and
// the squared distance r2 when the sum's body reads them.
func (g *cgen) pairDifference(k *compiledCtx) {
	en := g.en
	d := en.d
	needD := false
	for _, s := range k.specs {
		if s.kind == inD || s.kind == inR2 {
			needD = true
		}
	}
	if needD && k.kind == SumParticles {
		g.fail("pair quantities in a particle sum")
	}
	if needD {
		for kk := 0; kk < d; kk++ {
			g.line("double d%d = xs[pi * %d + %d] - xs[pj * %d + %d];", kk, d, kk, d, kk)
			if len(en.box) > 0 {
				L := cLit(en.box[kk])
				g.line("d%d -= %s * rint(d%d / %s);", kk, L, kk, L)
			}
		}
		if d == 3 && len(en.box) == 0 {
			g.line("const double r2 = d0 * d0 + d1 * d1 + d2 * d2 + %s;", cLit(en.soften))
		} else {
			g.line("double r2 = %s;", cLit(en.soften))
			for kk := 0; kk < d; kk++ {
				g.line("r2 += d%d * d%d;", kk, kk)
			}
		}
	}
}

// sumInputs is the C expression of each input of a sum's tape within lane l.
func (g *cgen) sumInputs(m int, k *compiledCtx) []string {
	d := g.en.d
	inputs := make([]string, len(k.specs))
	for i, s := range k.specs {
		switch s.kind {
		case inCoord:
			inputs[i] = "xs[" + g.coordIndex(s.p, s.k) + "]"
		case inD:
			inputs[i] = fmt.Sprintf("d%d", s.k)
		case inR2:
			inputs[i] = "r2"
		case inCom:
			inputs[i] = fmt.Sprintf("com[%d]", s.k)
		case inU:
			inputs[i] = fmt.Sprintf("(xs[%s] - com[%d])", g.coordIndex(s.p, s.k), s.k)
		case inQU, inQX:
			if s.p != refI || k.kind != SumParticles {
				g.fail("radial input outside a particle sum")
			}
			var terms []string
			for kk := 0; kk < d; kk++ {
				u := fmt.Sprintf("xs[pi * %d + %d]", d, kk)
				if s.kind == inQU {
					u = fmt.Sprintf("(%s - com[%d])", u, kk)
				}
				terms = append(terms, u+" * "+u)
			}
			inputs[i] = "0.0 + " + strings.Join(terms, " + ")
		default:
			g.fail("input kind %d inside sum %d", s.kind, m)
			inputs[i] = "0.0"
		}
	}
	return inputs
}

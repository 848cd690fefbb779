package dsl

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// CUDAOptions tune the CUDA C that CUDASource generates.
type CUDAOptions struct {
	// Name prefixes the two kernels: NAME_e (energies) and NAME_eg (energies and gradients).
	// It must be a C identifier; empty means "adj_dsl".
	Name string
	// Threads is the number of threads per block, a power of two from 32 to 1024; 0 picks
	// one (128, or the threads of one configuration when more).
	Threads int
	// ThreadsPerConfig is the number of threads that share one configuration, a power of two
	// from 1 to Threads; 0 picks the smallest that covers the largest sum's particles or pairs
	// (at most 256). A block evaluates Threads/ThreadsPerConfig configurations side by side;
	// 1 gives one thread per configuration.
	ThreadsPerConfig int
	// GlobalScratch keeps the configuration and its gradient in global memory instead of
	// shared memory (chosen anyway when they do not fit in 40 KiB of shared memory); a block
	// then evaluates one configuration at a time with all its threads.
	GlobalScratch bool
}

// cudaLayout is how the generated kernels spread a batch over threads: blocks of T threads,
// G configurations per block side by side, Tc = T/G threads per configuration.
type cudaLayout struct {
	T, Tc, G int
	shared   bool // configuration and gradient in shared memory
}

// cudaProgram is a generated source with what launching it needs.
type cudaProgram struct {
	src           string
	kernE, kernEG string
	layout        cudaLayout
}

// cudaSharedLimit bounds the static shared memory of a generated kernel (the per-block limit
// is 48 KiB).
const cudaSharedLimit = 40 << 10

// CUDASource returns CUDA C computing the energy, and its gradient, of batches of
// configurations in double precision, generated from the same compiled expression graphs
// (value tapes and reverse-mode gradient tapes) as the CPU evaluation. It declares
//
//	extern "C" __global__ void NAME_e(const double* x, double* e, double* grad, int B)
//	extern "C" __global__ void NAME_eg(const double* x, double* e, double* grad, int B)
//
// x holds B configurations of n·d doubles, e receives B energies and grad (NAME_eg only; NAME_e
// ignores it) B·n·d gradients. A group of threads evaluates one configuration (blocks hold
// one or more groups and stride over the batch): the group's threads share the particles
// (particle sums) or pairs (pair sums) of each sum, reduce the partial sums in shared memory,
// and its first thread evaluates the top-level expression. Gradients are accumulated with
// atomicAdd on doubles (compute capability 6.0 or newer). The kernels must be launched with
// the block size and no more blocks than CUDALayout gives.
//
// Double precision is used throughout: the CPU evaluation is float64, energies such as
// Lennard-Jones span many orders of magnitude near contact, and the batch evaluation of an
// energy is a small part of a sampler's step, so the GPU's lower double-precision rate costs
// little.
func (en *Energy) CUDASource(opt CUDAOptions) (string, error) {
	p, err := en.cudaProgram(opt)
	if err != nil {
		return "", err
	}
	return p.src, nil
}

// CUDALayout returns the launch shape the kernels of CUDASource(opt) expect: threads per
// block (blockDim.x) and configurations per block (a batch of B needs ⌈B/perBlock⌉ blocks;
// fewer blocks stride over it).
func (en *Energy) CUDALayout(opt CUDAOptions) (threads, perBlock int, err error) {
	l, err := en.cudaLayout(opt)
	return l.T, l.G, err
}

func pow2(v int) bool { return v > 0 && v&(v-1) == 0 }

func (en *Energy) cudaLayout(opt CUDAOptions) (cudaLayout, error) {
	if en == nil {
		return cudaLayout{}, fmt.Errorf("dsl: CUDA source of a nil energy")
	}
	if opt.Threads != 0 && (!pow2(opt.Threads) || opt.Threads < 32 || opt.Threads > 1024) {
		return cudaLayout{}, fmt.Errorf("dsl: %d threads per block: want a power of two from 32 to 1024", opt.Threads)
	}
	if opt.ThreadsPerConfig != 0 && (!pow2(opt.ThreadsPerConfig) || opt.ThreadsPerConfig > 1024 ||
		opt.Threads != 0 && opt.ThreadsPerConfig > opt.Threads) {
		return cudaLayout{}, fmt.Errorf("dsl: %d threads per configuration: want a power of two from 1 to the threads per block", opt.ThreadsPerConfig)
	}
	lanes := 1
	for _, k := range en.kernels {
		lanes = max(lanes, k.lanes)
	}
	Tc := opt.ThreadsPerConfig
	if Tc == 0 {
		Tc = 1
		for Tc < lanes && Tc < 256 {
			Tc *= 2
		}
		if opt.Threads != 0 {
			Tc = min(Tc, opt.Threads)
		}
	}
	T := opt.Threads
	if T == 0 {
		T = max(Tc, 128)
	}
	l := cudaLayout{T: T, Tc: Tc, G: T / Tc, shared: !opt.GlobalScratch}
	nd := en.n * en.d
	M := max(1, len(en.kernels))
	perCfg := 8 * (2*nd + 2*en.d + 2*M)
	if l.shared {
		for l.G > 1 && 8*l.T+l.G*perCfg > cudaSharedLimit {
			l.G /= 2
			l.T = l.G * l.Tc
		}
		l.shared = 8*l.T+l.G*perCfg <= cudaSharedLimit
	}
	if !l.shared {
		l = cudaLayout{T: T, Tc: T, G: 1}
	}
	return l, nil
}

func validCIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func (en *Energy) cudaProgram(opt CUDAOptions) (*cudaProgram, error) {
	l, err := en.cudaLayout(opt)
	if err != nil {
		return nil, err
	}
	name := opt.Name
	if name == "" {
		name = "adj_dsl"
	}
	if !validCIdent(name) {
		return nil, fmt.Errorf("dsl: CUDA kernel name %q is not a C identifier", name)
	}
	for _, k := range en.kernels {
		k.buildLists()
	}
	g := &cgen{en: en, l: l}
	g.prelude()
	p := &cudaProgram{kernE: name + "_e", kernEG: name + "_eg", layout: l}
	g.kernel(p.kernE, false)
	g.kernel(p.kernEG, true)
	if g.err != nil {
		return nil, g.err
	}
	p.src = g.b.String()
	return p, nil
}

// cgen writes CUDA C.
type cgen struct {
	b   strings.Builder
	en  *Energy
	l   cudaLayout
	ind int
	err error
}

func (g *cgen) line(format string, args ...any) {
	g.b.WriteString(strings.Repeat("    ", g.ind))
	fmt.Fprintf(&g.b, format, args...)
	g.b.WriteByte('\n')
}

func (g *cgen) open(format string, args ...any) {
	g.line(format, args...)
	g.ind++
}

func (g *cgen) close() {
	g.ind--
	g.line("}")
}

func (g *cgen) fail(format string, args ...any) {
	if g.err == nil {
		g.err = fmt.Errorf("dsl: CUDA source: "+format, args...)
	}
}

// cLit is a C double literal that reads back as exactly v.
func cLit(v float64) string {
	switch {
	case math.IsNaN(v):
		return "adj_nan()"
	case math.IsInf(v, 1):
		return "adj_inf()"
	case math.IsInf(v, -1):
		return "(-adj_inf())"
	}
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	if v < 0 || v == 0 && math.Signbit(v) {
		if v == 0 {
			s = "-0.0"
		}
		return "(" + s + ")"
	}
	return s
}

const cudaPrelude = `// Generated from a DSL energy declaration: energies and gradients in double precision.
#ifndef ADJ_DSL_HELPERS
#define ADJ_DSL_HELPERS
__device__ __forceinline__ double adj_inf() { return __longlong_as_double(0x7ff0000000000000LL); }
__device__ __forceinline__ double adj_nan() { return __longlong_as_double(0x7ff8000000000000LL); }
__device__ __forceinline__ double adj_sign(double a) { return a > 0.0 ? 1.0 : (a < 0.0 ? -1.0 : 0.0); }
// min and max as Go's math.Min and math.Max: -Inf (+Inf) wins, then NaN; -0 < +0.
__device__ __forceinline__ double adj_min(double a, double b) {
    if (a == -adj_inf() || b == -adj_inf()) return -adj_inf();
    if (a != a || b != b) return a + b;
    if (a == b) return __double_as_longlong(a) < 0 ? a : b;
    return a < b ? a : b;
}
__device__ __forceinline__ double adj_max(double a, double b) {
    if (a == adj_inf() || b == adj_inf()) return adj_inf();
    if (a != a || b != b) return a + b;
    if (a == b) return __double_as_longlong(a) < 0 ? b : a;
    return a > b ? a : b;
}
__device__ __forceinline__ double adj_b(bool c) { return c ? 1.0 : 0.0; }
// adj_pair maps p in [0, n(n-1)/2) to the pair i < j, row by row (0,1), (0,2), …, (1,2), …
__device__ __forceinline__ void adj_pair(int p, int n, int* pi, int* pj) {
    const int m = 2 * n - 1;
    int i = (int)(((double)m - sqrt((double)m * (double)m - 8.0 * (double)p)) * 0.5);
    if (i < 0) i = 0;
    if (i > n - 2) i = n - 2;
    while (i > 0 && i * (m - i) / 2 > p) i--;
    while (i < n - 2 && (i + 1) * (m - i - 1) / 2 <= p) i++;
    *pi = i;
    *pj = p - i * (m - i) / 2 + i + 1;
}
#endif
`

func (g *cgen) prelude() { g.b.WriteString(cudaPrelude) }

// cOp is the C expression of one tape instruction, given its operands' expressions.
func cOp(o op, a, b, c string, k float64) (string, bool) {
	switch o {
	case opConst:
		return cLit(k), true
	case opAdd:
		return a + " + " + b, true
	case opSub:
		return a + " - " + b, true
	case opMul:
		return a + " * " + b, true
	case opDiv:
		return a + " / " + b, true
	case opNeg:
		return "-" + a, true
	case opSqrt:
		return "sqrt(" + a + ")", true
	case opExp:
		return "exp(" + a + ")", true
	case opLog:
		return "log(" + a + ")", true
	case opSin:
		return "sin(" + a + ")", true
	case opCos:
		return "cos(" + a + ")", true
	case opTan:
		return "tan(" + a + ")", true
	case opTanh:
		return "tanh(" + a + ")", true
	case opSinh:
		return "sinh(" + a + ")", true
	case opCosh:
		return "cosh(" + a + ")", true
	case opAbs:
		return "fabs(" + a + ")", true
	case opSign:
		return "adj_sign(" + a + ")", true
	case opRound:
		return "rint(" + a + ")", true // round half to even, as math.RoundToEven
	case opPow:
		return "pow(" + a + ", " + b + ")", true
	case opPowC:
		return "pow(" + a + ", " + cLit(k) + ")", true
	case opMin:
		return "adj_min(" + a + ", " + b + ")", true
	case opMax:
		return "adj_max(" + a + ", " + b + ")", true
	case opLt:
		return "adj_b(" + a + " < " + b + ")", true
	case opLe:
		return "adj_b(" + a + " <= " + b + ")", true
	case opEq:
		return "adj_b(" + a + " == " + b + ")", true
	case opNe:
		return "adj_b(" + a + " != " + b + ")", true
	case opSelect:
		return "(" + a + " != 0.0 ? " + b + " : " + c + ")", true
	case opAddC:
		return a + " + " + cLit(k), true
	case opMulC:
		return a + " * " + cLit(k), true
	case opRSubC:
		return cLit(k) + " - " + a, true
	case opRDivC:
		return cLit(k) + " / " + a, true
	case opCopy:
		return a, true
	case opMulAdd:
		return a + " * " + b + " + " + c, true
	}
	return "", false
}

// tape writes a tape's straight-line code (inside the current block) with inputs[i] the C
// expression of input slot i, and returns the C expression of each output.
func (g *cgen) tape(t *tape, inputs []string) []string {
	if len(inputs) != t.nin {
		g.fail("tape with %d inputs given %d", t.nin, len(inputs))
		return nil
	}
	// inputs and constants are written only where the code or an output reads them
	read := map[int32]bool{}
	for _, in := range t.code {
		read[in.a], read[in.b], read[in.c] = true, true, true
	}
	for _, o := range t.outs {
		read[o] = true
	}
	kind := map[int32]string{}
	for i, in := range inputs {
		kind[int32(i)] = "in"
		if read[int32(i)] {
			g.line("const double t%d = %s;", i, in)
		}
	}
	for _, c := range t.consts {
		kind[c.slot] = "const"
		if read[c.slot] {
			g.line("const double t%d = %s;", c.slot, cLit(c.v))
		}
	}
	var temps []string
	for _, in := range t.code {
		if _, ok := kind[in.dst]; !ok {
			kind[in.dst] = "temp"
			temps = append(temps, fmt.Sprintf("t%d", in.dst))
		}
	}
	if len(temps) > 0 {
		g.line("double %s;", strings.Join(temps, ", "))
	}
	s := func(i int32) string {
		if i < 0 {
			return ""
		}
		return fmt.Sprintf("t%d", i)
	}
	for _, in := range t.code {
		e, ok := cOp(in.op, s(in.a), s(in.b), s(in.c), in.k)
		if !ok {
			g.fail("no C form for tape operation %d", in.op)
			return nil
		}
		g.line("t%d = %s;", in.dst, e)
	}
	outs := make([]string, len(t.outs))
	for i, o := range t.outs {
		if o < 0 {
			outs[i] = "0.0"
		} else {
			outs[i] = s(o)
		}
	}
	return outs
}

// particle is the C expression of a particle reference in a sum over pi (and pj).
func particle(p int) string {
	switch p {
	case refI:
		return "pi"
	case refJ:
		return "pj"
	}
	return strconv.Itoa(p)
}

// coordIndex is the C index of coordinate k of particle reference p.
func (g *cgen) coordIndex(p, k int) string {
	if p >= 0 {
		return strconv.Itoa(p*g.en.d + k)
	}
	return fmt.Sprintf("%s * %d + %d", particle(p), g.en.d, k)
}

// kernel writes one kernel: energies only, or energies and gradients. Thread tid belongs to
// group grp (configuration cfg = base + grp of the block's G) as its thread gt of Tc; every
// group has its slice of the shared arrays.
func (g *cgen) kernel(name string, withGrad bool) {
	en := g.en
	n, d := en.n, en.d
	nd := n * d
	M := max(1, len(en.kernels))
	T, Tc, G := g.l.T, g.l.Tc, g.l.G
	g.line("")
	g.open("extern \"C\" __global__ void %s(const double* __restrict__ xg, double* __restrict__ eg, double* __restrict__ gg, int B) {", name)
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
	en := g.en
	n, d := en.n, en.d
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

package dsl

import (
	"fmt"
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

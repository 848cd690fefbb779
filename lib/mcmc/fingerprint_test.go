package mcmc

import (
	"hash/fnv"
	"math"
	"testing"

	"adjoint/lib/energy"
)

// fingerprint hashes the bits of the samples, energies, acceptance and mean step of a result.
func fingerprint(r *Result) uint64 {
	h := fnv.New64a()
	put := func(v float64) {
		b := math.Float64bits(v)
		var buf [8]byte
		for i := range buf {
			buf[i] = byte(b >> (8 * i))
		}
		h.Write(buf[:])
	}
	for _, v := range r.Samples {
		put(v)
	}
	for _, v := range r.Energies {
		put(v)
	}
	put(r.Accept)
	put(r.MeanStep)
	return h.Sum64()
}

// TestFingerprint pins the samples of fixed seeds, so that changes to the sampler's code that
// should not change its output are checked to not do so.
func TestFingerprint(t *testing.T) {
	quiet(t)
	dw4, _ := energy.Benchmark("dw4")
	q, _ := energy.NewQuadratic(2, 2, 0.7)
	gauss := &energy.System{Name: "gauss", Energy: q, Temperature: 2}
	for _, c := range []struct {
		name string
		sys  *energy.System
		opt  Options
		want uint64
	}{
		{"dw4 mala anneal", dw4, Options{Samples: 40, Chains: 10, Burn: 30, Thin: 3, Seed: 9, AnnealFrom: 3}, 0x2074be3299448f2e},
		{"dw4 hmc", dw4, Options{Method: HMC, Samples: 30, Chains: 7, Burn: 20, Thin: 2, Seed: 3, Leapfrog: 5}, 0xadb5660360e93b68},
		{"gauss mala init", gauss, Options{Samples: 25, Chains: 5, Burn: 15, Thin: 2, Seed: 1, Init: []float64{0.1, 0.2, -0.3, 0.4}}, 0xf97544a6b2865a46},
		{"gauss hmc", gauss, Options{Method: HMC, Samples: 20, Chains: 4, Burn: 11, Thin: 1, Seed: 5}, 0xf52f0d15b5f645e4},
	} {
		res, err := Sample(c.sys, c.opt)
		if err != nil {
			t.Fatal(err)
		}
		if got := fingerprint(res); got != c.want {
			t.Errorf("%s: fingerprint %#x, want %#x", c.name, got, c.want)
		}
	}
}

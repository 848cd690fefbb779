package dsl

import (
	"testing"
)

var fuzzSeeds = []string{
	dw4Src, lj13Src,
	"system ring { particles 1 in 2d; box 6.283 x 6.283 periodic\n energy = -cos(x[0].x) - cos(x[0].y) + 0.5*cos(x[0].x - x[0].y) }",
	"sde ve { sigma = geometric(1e-3, 1.5); steps 200 }\nsde mine { sigma(t) = 2*exp(-3*t) + 0.01; steps 300 }",
	"sampler s = adjoint(dw4, ve) { net egnn(layers 3, hidden 64); batch 512; buffer 10000 }\ntrain s for 10 minutes\nx = sample s 2000",
	"report eval(x, \"lib/refdata/test_split_DW4.npy\")\nplot energy_hist(x)",
	"system w { particles 3 in 2d; energy = sum pairs i≠j: where(r[i,j] < 1, smin(r[i,j], 2, 0.1), x[i][0]) + com.y }",
	"let a = 1, b = -2e-3\nsystem q { particles 2 in 3d; let c = a*b; energy = c*dot(dr[0,1], x[1] - com) ^ 2 }",
	"system e { particles 2 in 2d; energy = ((((1)))) + -+-x[0].x ** 3 // comment\n}",
	"system m { particles 3 in 2d; energy = sum pairs i<j: -logsumexp(-9*(r[i,j]-1)^2, -r[i,j]) + smin(x[0].x, x[1].x, x[2].x, 0.2) + smax(x[0].y, 1, 0.5) }",
	"x = load \"f.npy\"; save x \"g.npy\"; print 1+2",
	"x = sample s 4000 resample\nrefine x 100\ny = refine x 10 method hmc\nrefine = 2",
}

// FuzzParse checks that the parser never panics and reports located errors.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		prog, err := Parse(src, "f.adj")
		if err == nil && prog == nil {
			t.Fatal("no program and no error")
		}
		if err != nil {
			list, ok := err.(ErrorList)
			if !ok || len(list) == 0 {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if list[0].Pos.Line < 1 || list[0].Pos.Col < 1 {
				t.Fatalf("error without a position: %v", err)
			}
		}
	})
}

// FuzzCheck checks that checking (which compiles energies and schedules) never panics.
func FuzzCheck(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 4000 {
			return
		}
		err := Check(src, "f.adj")
		if err != nil {
			if _, ok := err.(ErrorList); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
		}
	})
}

package dsl

import (
	"testing"

	"adjoint/lib/adjoint"
	"adjoint/lib/display"
)

// TestLoadDeclaredSystem: a checkpoint of a system the script declared (not a benchmark)
// reloads with that system, which the checkpoint records by name only.
func TestLoadDeclaredSystem(t *testing.T) {
	src := `system springpair {
  particles 2 in 2d
  energy = sum i: norm2(x[i] - com)
  symmetry translation
}
sde ve { sigma = geometric(1e-3, 1.5); steps 10 }
sampler s = adjoint(springpair, ve) { net mlp(layers 1, hidden 8); batch 16; buffer 32; grad_steps 2 }
train s for 1 epochs
save s "s.ckpt"
s2 = load "s.ckpt"
`
	s := NewSession()
	s.Dir = t.TempDir()
	defer display.SetSink(nil)()
	binds, err := s.Exec(t.Context(), src, "l.adj", &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	var got *adjoint.Sampler
	for _, b := range binds {
		if b.Name == "s2" {
			got, _ = b.Value.(*adjoint.Sampler)
		}
	}
	if got == nil || got.Config().System.Name != "springpair" || got.Epoch() != 1 || !got.Config().System.Symmetry.Translation {
		t.Fatalf("reloaded sampler %v", got)
	}
}

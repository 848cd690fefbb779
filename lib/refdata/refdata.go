// Package refdata holds the reference samples of the benchmark Boltzmann densities, embedded
// in the binary: the test and validation splits of DW-4 and LJ-13 that the published
// evaluations use, and exact DW-4 samples made by importance resampling (`adjoint refgen`).
// README.md in this directory says where each file comes from.
//
// Files are named as in the repository (e.g. "test_split_DW4.npy"; the ".npy" may be left
// out). Load returns an array; Path returns a file on disk for APIs that take a path.
package refdata

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"adjoint/internal/atomicfile"
	"adjoint/lib/npy"
)

//go:embed *.npy
var files embed.FS

// Names of the embedded files.
const (
	DW4Test   = "test_split_DW4.npy"       // DW-4 test split, 10000 × 8, not centred
	DW4Val    = "val_split_DW4.npy"        // DW-4 validation split, 10000 × 8, not centred
	DW4Exact  = "exact_DW4.npy"            // exact DW-4 samples, 10000 × 8, centred
	LJ13Test  = "test_split_LJ13-1000.npy" // LJ-13 test split, 10000 × 39
	LJ13Val   = "val_split_LJ13-1000.npy"  // LJ-13 validation split, 10000 × 39
	extension = ".npy"
)

// ErrUnknown is wrapped by the errors about a name that is not embedded.
var ErrUnknown = errors.New("refdata: no such reference file")

// Names returns the names of the embedded files, sorted.
func Names() []string {
	ents, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

// canonical adds the extension when it is missing.
func canonical(name string) string {
	if !strings.HasSuffix(name, extension) {
		return name + extension
	}
	return name
}

// Bytes returns the content of an embedded .npy file.
func Bytes(name string) ([]byte, error) {
	b, err := files.ReadFile(canonical(name))
	if err != nil {
		return nil, fmt.Errorf("%w: %q (have %s)", ErrUnknown, name, strings.Join(Names(), ", "))
	}
	return b, nil
}

// Load reads an embedded file.
func Load(name string) (*npy.Array, error) {
	b, err := Bytes(name)
	if err != nil {
		return nil, err
	}
	a, err := npy.Read(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("refdata: %s: %w", name, err)
	}
	return a, nil
}

// Test returns the name of the test split of a benchmark system ("dw4" or "lj13"): the
// reference of the published evaluations.
func Test(system string) (string, error) {
	switch system {
	case "dw4":
		return DW4Test, nil
	case "lj13":
		return LJ13Test, nil
	}
	return "", fmt.Errorf("%w: no reference samples for %q (there are for dw4 and lj13)", ErrUnknown, system)
}

// Exact returns the name of the exact (importance-resampled) samples of a system: "dw4" only.
func Exact(system string) (string, error) {
	if system == "dw4" {
		return DW4Exact, nil
	}
	return "", fmt.Errorf("%w: no exact samples for %q (there are for dw4)", ErrUnknown, system)
}

// Path returns the path of a copy of an embedded file on disk, for APIs that read a path. The
// copy is written once under the user's cache directory (or the temporary directory), in a
// folder named after its content, and reused.
func Path(name string) (string, error) {
	b, err := Bytes(name)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	base, err := os.UserCacheDir()
	if err != nil || base == "" {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "adjoint", "refdata", hex.EncodeToString(sum[:8]))
	p := filepath.Join(dir, canonical(name))
	if st, err := os.Stat(p); err == nil && st.Size() == int64(len(b)) {
		return p, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("refdata: %w", err)
	}
	if err := atomicfile.WriteFile(p, b, 0o644); err != nil {
		return "", fmt.Errorf("refdata: %w", err)
	}
	return p, nil
}

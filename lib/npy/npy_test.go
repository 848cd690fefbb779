package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"adjoint/internal/testutil"
)

func TestReadSharedData(t *testing.T) {
	cases := []struct {
		file string
		rows int
		cols int
	}{
		{"test_split_DW4.npy", 10000, 8},
		{"val_split_DW4.npy", 10000, 8},
		{"test_split_LJ13-1000.npy", 10000, 39},
		{"val_split_LJ13-1000.npy", 10000, 39},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join(testutil.SharedDir(t), c.file)
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("reference data missing: %v", err)
			}
			a, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r, k := a.Rows()
			if r != c.rows || k != c.cols || a.DType != Float32 || len(a.Data) != c.rows*c.cols {
				t.Fatalf("got shape %v dtype %s len %d", a.Shape, a.DType, len(a.Data))
			}
			for i, v := range a.Data {
				if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 100 {
					t.Fatalf("implausible value %g at %d", v, i)
				}
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	cases := []struct {
		name  string
		shape []int
		dtype string
	}{
		{"scalar64", []int{}, Float64},
		{"vector32", []int{7}, Float32},
		{"matrix64", []int{3, 5}, Float64},
		{"cube32", []int{2, 3, 4}, Float32},
		{"empty", []int{0, 3}, Float64},
		{"long-shape", []int{1, 1, 1, 1, 1, 1, 1, 2}, Float64},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := numel(c.shape)
			data := make([]float64, n)
			for i := range data {
				data[i] = float64(i)*0.37 - 1.5
			}
			var buf bytes.Buffer
			if err := Write(&buf, c.shape, data, c.dtype); err != nil {
				t.Fatal(err)
			}
			if buf.Len() < 64 || (buf.Len()-n*dsize(c.dtype))%64 != 0 {
				t.Fatalf("header not padded to 64 bytes: total %d", buf.Len())
			}
			a, err := Read(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if a.DType != c.dtype || len(a.Shape) != len(c.shape) {
				t.Fatalf("got %s %v", a.DType, a.Shape)
			}
			for i := range c.shape {
				if a.Shape[i] != c.shape[i] {
					t.Fatalf("shape %v, want %v", a.Shape, c.shape)
				}
			}
			for i, v := range data {
				want := v
				if c.dtype == Float32 {
					want = float64(float32(v))
				}
				if a.Data[i] != want {
					t.Fatalf("value %d: %g want %g", i, a.Data[i], want)
				}
			}
		})
	}
}

func dsize(dtype string) int {
	if dtype == Float32 {
		return 4
	}
	return 8
}

// rawNpy builds an .npy file by hand.
func rawNpy(major byte, dict string, payload []byte) []byte {
	var b bytes.Buffer
	b.Write(magic)
	b.Write([]byte{major, 0})
	h := dict + "\n"
	if major == 1 {
		binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	} else {
		binary.Write(&b, binary.LittleEndian, uint32(len(h)))
	}
	b.WriteString(h)
	b.Write(payload)
	return b.Bytes()
}

func TestHeaderVersionsAndByteOrder(t *testing.T) {
	le := binary.LittleEndian.AppendUint64(nil, math.Float64bits(2.5))
	le = binary.LittleEndian.AppendUint64(le, math.Float64bits(-1))
	be := binary.BigEndian.AppendUint32(nil, math.Float32bits(2.5))
	be = binary.BigEndian.AppendUint32(be, math.Float32bits(-1))
	cases := []struct {
		name string
		file []byte
	}{
		{"v1", rawNpy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", le)},
		{"v2", rawNpy(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", le)},
		{"v3", rawNpy(3, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1), }", le)},
		{"big-endian", rawNpy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", be)},
		{"double-quotes-reordered", rawNpy(1, "{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<f8\"}", le)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := Read(bytes.NewReader(c.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Data) != 2 || a.Data[0] != 2.5 || a.Data[1] != -1 {
				t.Fatalf("data %v", a.Data)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	one := binary.LittleEndian.AppendUint64(nil, 0)
	good := rawNpy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", append(append(one, one...), one...))
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"bad-magic", []byte("PK\x03\x04 not npy at all"), "bad magic"},
		{"version", rawNpy(4, "{}", nil), "version"},
		{"fortran", rawNpy(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", nil), "Fortran"},
		{"object", rawNpy(1, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", nil), "object"},
		{"int", rawNpy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", nil), "not supported"},
		{"structured", rawNpy(1, "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }", nil), "structured"},
		{"truncated-data", good[:len(good)-5], "truncated data"},
		{"truncated-header", good[:20], "truncated header"},
		{"no-shape", rawNpy(1, "{'descr': '<f8', 'fortran_order': False}", nil), "shape"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(c.file))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want ErrFormat mentioning %q", err, c.want)
			}
		})
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing.npy")); err == nil || !strings.Contains(err.Error(), "missing.npy") {
		t.Fatalf("missing file: %v", err)
	}
	if err := Write(&bytes.Buffer{}, []int{2}, []float64{1}, Float64); err == nil {
		t.Fatal("shape/data mismatch accepted")
	}
	if err := Write(&bytes.Buffer{}, []int{1}, []float64{1}, "int32"); err == nil {
		t.Fatal("int32 accepted")
	}
}

// TestNumpyInterop checks files against numpy itself when Debian's python3-numpy is installed.
func TestNumpyInterop(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("python3-numpy not available in CI (scripts/setup.sh installs it): %v", err)
		}
		t.Skipf("python3-numpy not available: %v", err)
	}
	dir := t.TempDir()
	ours := filepath.Join(dir, "ours.npy")
	data := []float64{1.5, -2.25, 3, 4e-3, 5e10, -6}
	if err := WriteFile(ours, []int{2, 3}, data, Float32); err != nil {
		t.Fatal(err)
	}
	theirs := filepath.Join(dir, "theirs.npy")
	script := `import numpy as np, sys
a = np.load(sys.argv[1])
assert a.dtype == np.float32 and a.shape == (2, 3), (a.dtype, a.shape)
assert np.array_equal(a, np.array([[1.5, -2.25, 3], [4e-3, 5e10, -6]], dtype=np.float32)), a
b = np.arange(24, dtype='<f8').reshape(2, 3, 4) / 7
np.save(sys.argv[2], b)
np.save(sys.argv[2] + '.be.npy', b.astype('>f4'))
np.save(sys.argv[2] + '.f.npy', np.asfortranarray(b))
`
	out, err := exec.Command(py, "-c", script, ours, theirs).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy rejected our file: %v\n%s", err, out)
	}
	for _, f := range []string{theirs, theirs + ".be.npy"} {
		a, err := ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Shape) != 3 || a.Shape[0] != 2 || a.Shape[1] != 3 || a.Shape[2] != 4 {
			t.Fatalf("%s: shape %v", f, a.Shape)
		}
		for i, v := range a.Data {
			want := float64(i) / 7
			if a.DType == Float32 {
				want = float64(float32(want))
			}
			if v != want {
				t.Fatalf("%s: value %d = %g, want %g", f, i, v, want)
			}
		}
	}
	if _, err := ReadFile(theirs + ".f.npy"); err == nil || !strings.Contains(err.Error(), "Fortran") {
		t.Fatalf("Fortran-ordered file: %v", err)
	}
}

func ExampleWrite() {
	var buf bytes.Buffer
	_ = Write(&buf, []int{2, 2}, []float64{1, 2, 3, 4}, Float32)
	a, _ := Read(&buf)
	r, c := a.Rows()
	fmt.Println(r, c, a.DType, a.Data)
	// Output: 2 2 float32 [1 2 3 4]
}

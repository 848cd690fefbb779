// Package npy reads and writes NumPy .npy files of float32 and float64 arrays (little-endian
// or big-endian on read, C order, any shape, format versions 1.0, 2.0 and 3.0).
//
// Data are always handed over as float64 in C (row-major) order; the on-disk dtype is kept in
// Array.DType ("float32" or "float64") and chosen on write.
package npy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"adjoint/internal/atomicfile"
)

// Supported dtype names.
const (
	Float32 = "float32"
	Float64 = "float64"
)

var magic = []byte("\x93NUMPY")

// Array is an n-dimensional array read from an .npy file.
type Array struct {
	Shape []int     // dimensions, C order; empty for a scalar
	Data  []float64 // values in C order, converted to float64
	DType string    // on-disk dtype: "float32" or "float64"
}

// Len returns the number of elements (the product of Shape).
func (a *Array) Len() int { return numel(a.Shape) }

// Rows returns Shape[0] and the product of the remaining dimensions, so a B×n×d array
// reads as B rows of n·d numbers. A scalar is 1×1, a vector of length L is L×1.
func (a *Array) Rows() (rows, cols int) {
	if len(a.Shape) == 0 {
		return 1, 1
	}
	return a.Shape[0], numel(a.Shape[1:])
}

func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

// ErrFormat is wrapped by every error about the content of a file (as opposed to I/O errors).
var ErrFormat = errors.New("npy: unsupported or malformed file")

// ReadFile reads an .npy file.
func ReadFile(path string) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	defer f.Close()
	a, err := Read(bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// header is the parsed header dictionary.
type header struct {
	descr   string
	fortran bool
	shape   []int
}

// Read reads one .npy array from r.
func Read(r io.Reader) (*Array, error) {
	pre := make([]byte, 8)
	if _, err := io.ReadFull(r, pre); err != nil {
		return nil, fmt.Errorf("%w: reading magic: %v", ErrFormat, err)
	}
	if !bytes.Equal(pre[:6], magic) {
		return nil, fmt.Errorf("%w: not an .npy file (bad magic %q)", ErrFormat, pre[:6])
	}
	major, minor := pre[6], pre[7]
	var hlen int
	switch major {
	case 1:
		b := make([]byte, 2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("%w: reading header length: %v", ErrFormat, err)
		}
		hlen = int(binary.LittleEndian.Uint16(b))
	case 2, 3:
		b := make([]byte, 4)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("%w: reading header length: %v", ErrFormat, err)
		}
		l := binary.LittleEndian.Uint32(b)
		if l > 1<<24 {
			return nil, fmt.Errorf("%w: header length %d too large", ErrFormat, l)
		}
		hlen = int(l)
	default:
		return nil, fmt.Errorf("%w: format version %d.%d not supported (have 1.0, 2.0, 3.0)", ErrFormat, major, minor)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(r, hb); err != nil {
		return nil, fmt.Errorf("%w: truncated header: %v", ErrFormat, err)
	}
	h, err := parseHeader(string(hb))
	if err != nil {
		return nil, err
	}
	if h.fortran {
		return nil, fmt.Errorf("%w: Fortran-ordered arrays are not supported (save with C order)", ErrFormat)
	}
	var order binary.ByteOrder
	var size int
	var dtype string
	switch h.descr {
	case "<f4", "=f4", ">f4":
		size, dtype = 4, Float32
	case "<f8", "=f8", ">f8":
		size, dtype = 8, Float64
	default:
		if strings.Contains(h.descr, "O") {
			return nil, fmt.Errorf("%w: object arrays (descr %q) are not supported", ErrFormat, h.descr)
		}
		return nil, fmt.Errorf("%w: dtype %q not supported (only float32 and float64)", ErrFormat, h.descr)
	}
	if h.descr[0] == '>' {
		order = binary.BigEndian
	} else {
		order = binary.LittleEndian
	}
	n := numel(h.shape)
	if n > math.MaxInt/size {
		return nil, fmt.Errorf("%w: shape %v too large", ErrFormat, h.shape)
	}
	data := make([]float64, n)
	buf := make([]byte, 1<<16)
	per := len(buf) / size
	for off := 0; off < n; {
		k := min(per, n-off)
		if _, err := io.ReadFull(r, buf[:k*size]); err != nil {
			return nil, fmt.Errorf("%w: truncated data: expected %d values of shape %v, file ends after about %d", ErrFormat, n, h.shape, off)
		}
		if size == 4 {
			for i := range k {
				data[off+i] = float64(math.Float32frombits(order.Uint32(buf[4*i:])))
			}
		} else {
			for i := range k {
				data[off+i] = math.Float64frombits(order.Uint64(buf[8*i:]))
			}
		}
		off += k
	}
	return &Array{Shape: h.shape, Data: data, DType: dtype}, nil
}

// parseHeader parses the Python dict literal of an .npy header, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (10000, 8), }
func parseHeader(s string) (header, error) {
	var h header
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return h, fmt.Errorf("%w: header is not a dict: %q", ErrFormat, s)
	}
	body := s[1 : len(s)-1]
	seen := map[string]bool{}
	for {
		body = strings.TrimLeft(body, " ,\t\n")
		if body == "" {
			break
		}
		key, rest, err := pyString(body)
		if err != nil {
			return h, fmt.Errorf("%w: header key: %v in %q", ErrFormat, err, s)
		}
		rest = strings.TrimLeft(rest, " ")
		if !strings.HasPrefix(rest, ":") {
			return h, fmt.Errorf("%w: header: missing ':' after %q", ErrFormat, key)
		}
		rest = strings.TrimLeft(rest[1:], " ")
		switch key {
		case "descr":
			if strings.HasPrefix(rest, "[") {
				return h, fmt.Errorf("%w: structured dtypes are not supported", ErrFormat)
			}
			h.descr, rest, err = pyString(rest)
			if err != nil {
				return h, fmt.Errorf("%w: descr: %v", ErrFormat, err)
			}
		case "fortran_order":
			switch {
			case strings.HasPrefix(rest, "True"):
				h.fortran, rest = true, rest[4:]
			case strings.HasPrefix(rest, "False"):
				h.fortran, rest = false, rest[5:]
			default:
				return h, fmt.Errorf("%w: fortran_order is not True/False", ErrFormat)
			}
		case "shape":
			if !strings.HasPrefix(rest, "(") {
				return h, fmt.Errorf("%w: shape is not a tuple", ErrFormat)
			}
			end := strings.IndexByte(rest, ')')
			if end < 0 {
				return h, fmt.Errorf("%w: unterminated shape tuple", ErrFormat)
			}
			h.shape = []int{}
			for _, f := range strings.Split(rest[1:end], ",") {
				f = strings.TrimSpace(f)
				f = strings.TrimSuffix(f, "L")
				if f == "" {
					continue
				}
				v, err := strconv.Atoi(f)
				if err != nil || v < 0 {
					return h, fmt.Errorf("%w: bad shape entry %q", ErrFormat, f)
				}
				h.shape = append(h.shape, v)
			}
			rest = rest[end+1:]
		default:
			return h, fmt.Errorf("%w: unknown header key %q", ErrFormat, key)
		}
		seen[key] = true
		body = rest
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return h, fmt.Errorf("%w: header lacks %q", ErrFormat, k)
		}
	}
	return h, nil
}

// pyString parses a quoted Python string literal (no escapes) at the start of s.
func pyString(s string) (string, string, error) {
	if s == "" || (s[0] != '\'' && s[0] != '"') {
		return "", s, fmt.Errorf("expected a quoted string at %q", trunc(s))
	}
	q := s[0]
	end := strings.IndexByte(s[1:], q)
	if end < 0 {
		return "", s, fmt.Errorf("unterminated string at %q", trunc(s))
	}
	return s[1 : 1+end], s[end+2:], nil
}

func trunc(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}

// WriteFile writes data with the given shape as an .npy file of dtype "float32" or "float64"
// (empty means float64), atomically (a temporary file, synced and renamed into place).
func WriteFile(path string, shape []int, data []float64, dtype string) error {
	if err := atomicfile.Write(path, 0o644, func(w io.Writer) error { return Write(w, shape, data, dtype) }); err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	return nil
}

// Write writes data with the given shape as little-endian, C-ordered .npy to w (version 1.0
// header when it fits, 2.0 otherwise).
func Write(w io.Writer, shape []int, data []float64, dtype string) error {
	var descr string
	size := 8
	switch dtype {
	case Float64, "", "f8", "<f8":
		descr = "<f8"
	case Float32, "f4", "<f4":
		descr, size = "<f4", 4
	default:
		return fmt.Errorf("npy: dtype %q not supported for writing (float32 or float64)", dtype)
	}
	for _, s := range shape {
		if s < 0 {
			return fmt.Errorf("npy: negative dimension in shape %v", shape)
		}
	}
	if numel(shape) != len(data) {
		return fmt.Errorf("npy: shape %v holds %d values, data has %d", shape, numel(shape), len(data))
	}
	var sh strings.Builder
	sh.WriteByte('(')
	for i, s := range shape {
		if i > 0 {
			sh.WriteString(", ")
		}
		sh.WriteString(strconv.Itoa(s))
	}
	if len(shape) == 1 {
		sh.WriteByte(',')
	}
	sh.WriteByte(')')
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, sh.String())
	// Pad so that magic + version + length + header is a multiple of 64, ending in '\n'.
	var pre []byte
	for _, ver := range []byte{1, 2} {
		lenBytes := 2
		if ver == 2 {
			lenBytes = 4
		}
		total := 6 + 2 + lenBytes + len(dict) + 1
		pad := (64 - total%64) % 64
		hl := len(dict) + pad + 1
		if ver == 1 && hl > math.MaxUint16 {
			continue
		}
		pre = append(pre, magic...)
		pre = append(pre, ver, 0)
		if ver == 1 {
			pre = binary.LittleEndian.AppendUint16(pre, uint16(hl))
		} else {
			pre = binary.LittleEndian.AppendUint32(pre, uint32(hl))
		}
		pre = append(pre, dict...)
		pre = append(pre, bytes.Repeat([]byte{' '}, pad)...)
		pre = append(pre, '\n')
		break
	}
	if _, err := w.Write(pre); err != nil {
		return fmt.Errorf("npy: write header: %w", err)
	}
	buf := make([]byte, 0, 1<<16)
	for i, v := range data {
		if size == 4 {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(v)))
		} else {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
		}
		if len(buf)+8 > cap(buf) || i == len(data)-1 {
			if _, err := w.Write(buf); err != nil {
				return fmt.Errorf("npy: write data: %w", err)
			}
			buf = buf[:0]
		}
	}
	return nil
}

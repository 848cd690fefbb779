package nn

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"

	"adjoint/internal/atomicfile"
)

// File format (version 1), little-endian:
//
//	magic    8 bytes  "ADJNNET\x00"
//	version  uint32   1
//	hlen     uint32   length of the JSON header
//	header   hlen bytes of JSON: kind ("mlp" | "egnn"), config, dtype ("float32"),
//	         params (name and shape of each, in order), step, lr
//	params   every parameter's values as float32, in header order
//	moments  Adam's first then second moments as float64, in header order
//	crc      uint32   CRC-32 (IEEE) of everything before it
const (
	fileMagic   = "ADJNNET\x00"
	fileVersion = 1
	maxHeader   = 1 << 20
)

type paramInfo struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
}

type fileHeader struct {
	Kind   string          `json:"kind"`
	Config json.RawMessage `json:"config"`
	DType  string          `json:"dtype"`
	Params []paramInfo     `json:"params"`
	Step   int64           `json:"step"`
	LR     float64         `json:"lr"`
	// AvgDecay and AvgSteps describe the parameter average (average.go) stored after the
	// Adam moments as float64s; absent when none is kept.
	AvgDecay float64 `json:"avg_decay,omitempty"`
	AvgSteps int64   `json:"avg_steps,omitempty"`
}

func (b *base) save(w io.Writer, kind string, cfg any) error {
	c, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("save %s: config: %w", kind, err)
	}
	h := fileHeader{Kind: kind, Config: c, DType: fileDTypeF32, Step: b.step, LR: b.lr}
	moments := [][][]float64{b.m, b.v}
	if b.avg != nil {
		h.AvgDecay, h.AvgSteps = b.avg.decay, b.avg.n
		moments = append(moments, b.avg.vals)
	}
	for i, p := range b.params {
		h.Params = append(h.Params, paramInfo{Name: b.names[i], Shape: p.Shape()})
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("save %s: header: %w", kind, err)
	}
	var buf bytes.Buffer
	buf.WriteString(fileMagic)
	var u4 [4]byte
	binary.LittleEndian.PutUint32(u4[:], fileVersion)
	buf.Write(u4[:])
	binary.LittleEndian.PutUint32(u4[:], uint32(len(hj)))
	buf.Write(u4[:])
	buf.Write(hj)
	for _, p := range b.params {
		for i := 0; i < p.Len(); i++ {
			binary.LittleEndian.PutUint32(u4[:], math.Float32bits(float32(p.At(i))))
			buf.Write(u4[:])
		}
	}
	var u8 [8]byte
	for _, mom := range moments {
		for _, s := range mom {
			for _, x := range s {
				binary.LittleEndian.PutUint64(u8[:], math.Float64bits(x))
				buf.Write(u8[:])
			}
		}
	}
	binary.LittleEndian.PutUint32(u4[:], crc32.ChecksumIEEE(buf.Bytes()))
	buf.Write(u4[:])
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("save %s: %w", kind, err)
	}
	return nil
}

// Save writes the MLP (architecture, parameters, Adam state) in the versioned format.
func (m *MLP) Save(w io.Writer) error { return m.save(w, "mlp", m.Config()) }

// Load reads a model written by Save (an *MLP or an *EGNN, float32).
func Load(r io.Reader) (Model, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	if len(raw) < len(fileMagic)+12 || string(raw[:len(fileMagic)]) != fileMagic {
		return nil, errors.New("load model: not a model file (bad magic)")
	}
	p := raw[len(fileMagic):]
	ver := binary.LittleEndian.Uint32(p)
	if ver != fileVersion {
		return nil, fmt.Errorf("load model: unsupported format version %d (this build reads %d)", ver, fileVersion)
	}
	body, tail := raw[:len(raw)-4], raw[len(raw)-4:]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(tail) {
		return nil, errors.New("load model: checksum mismatch (file truncated or corrupt)")
	}
	hlen := int(binary.LittleEndian.Uint32(p[4:]))
	p = body[len(fileMagic)+8:]
	if hlen > maxHeader || hlen > len(p) {
		return nil, fmt.Errorf("load model: header length %d out of range", hlen)
	}
	var h fileHeader
	if err := json.Unmarshal(p[:hlen], &h); err != nil {
		return nil, fmt.Errorf("load model: header: %w", err)
	}
	p = p[hlen:]
	if h.DType != fileDTypeF32 {
		return nil, fmt.Errorf("load model: dtype %q not supported", h.DType)
	}
	var (
		model Model
		b     *base
	)
	switch h.Kind {
	case "mlp":
		var c MLPConfig
		if err := json.Unmarshal(h.Config, &c); err != nil {
			return nil, fmt.Errorf("load model: mlp config: %w", err)
		}
		m, err := NewMLP(c)
		if err != nil {
			return nil, fmt.Errorf("load model: %w", err)
		}
		model, b = m, &m.base
	case "egnn":
		var c EGNNConfig
		if err := json.Unmarshal(h.Config, &c); err != nil {
			return nil, fmt.Errorf("load model: egnn config: %w", err)
		}
		m, err := NewEGNN(c)
		if err != nil {
			return nil, fmt.Errorf("load model: %w", err)
		}
		model, b = m, &m.base
	default:
		return nil, fmt.Errorf("load model: unknown kind %q", h.Kind)
	}
	if len(h.Params) != len(b.params) {
		return nil, fmt.Errorf("load model: %d parameters in file, architecture has %d", len(h.Params), len(b.params))
	}
	total := 0
	for i, pi := range h.Params {
		want := b.params[i].Shape()
		if pi.Name != b.names[i] || !equalInts(pi.Shape, want) {
			return nil, fmt.Errorf("load model: parameter %d is %s%v in file, %s%v in architecture", i, pi.Name, pi.Shape, b.names[i], want)
		}
		total += b.params[i].Len()
	}
	moments := [][][]float64{b.m, b.v}
	if h.AvgDecay != 0 {
		if err := b.SetAverage(h.AvgDecay); err != nil {
			return nil, fmt.Errorf("load model: %w", err)
		}
		b.avg.n = h.AvgSteps
		moments = append(moments, b.avg.vals)
	}
	if want := total*4 + len(moments)*total*8; len(p) != want {
		return nil, fmt.Errorf("load model: %d data bytes, want %d", len(p), want)
	}
	for _, t := range b.params {
		for i := 0; i < t.Len(); i++ {
			t.Set(i, float64(math.Float32frombits(binary.LittleEndian.Uint32(p))))
			p = p[4:]
		}
	}
	for _, mom := range moments {
		for _, s := range mom {
			for i := range s {
				s[i] = math.Float64frombits(binary.LittleEndian.Uint64(p))
				p = p[8:]
			}
		}
	}
	b.step = h.Step
	if h.LR > 0 {
		b.lr = h.LR
	}
	return model, nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// SaveFile writes m to path atomically (a temporary file, synced and renamed into place).
func SaveFile(m Model, path string) error {
	if err := atomicfile.Write(path, 0o644, m.Save); err != nil {
		return fmt.Errorf("nn: save: %w", err)
	}
	return nil
}

// LoadFile reads a model written by SaveFile or Save.
func LoadFile(path string) (Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	defer f.Close()
	m, err := Load(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

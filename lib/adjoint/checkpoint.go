package adjoint

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"time"

	"adjoint/internal/atomicfile"
	"adjoint/lib/energy"
	"adjoint/lib/nn"
	"adjoint/lib/sde"
)

// checkpointMagic opens every checkpoint file.
const checkpointMagic = "ADJOINT-SAMPLER 1\n"

type ckptHeader struct {
	System           string            `json:"system"`
	Temperature      float64           `json:"temperature"`
	Particles        int               `json:"particles"`
	SpatialDim       int               `json:"spatial_dim"`
	Schedule         *sde.ScheduleSpec `json:"schedule,omitempty"`
	ScheduleName     string            `json:"schedule_name"`
	Steps            int               `json:"steps"`
	Net              NetConfig         `json:"net"`
	NetNote          string            `json:"net_note"`
	Batch            int               `json:"batch"`
	TrainBatch       int               `json:"train_batch"`
	Buffer           int               `json:"buffer"`
	GradSteps        int               `json:"grad_steps"`
	LR               float64           `json:"lr"`
	Epochs           int               `json:"epochs"`
	ClipNorm         float64           `json:"clip_norm"`
	Seed             int64             `json:"seed"`
	NoBaseCorrection bool              `json:"no_base_correction"`
	PrefillBase      int               `json:"prefill_base,omitempty"`
	TimeSampling     string            `json:"time_sampling,omitempty"`
	Integrator       string            `json:"integrator,omitempty"`
	LRFinal          float64           `json:"lr_final,omitempty"`

	Epoch      int       `json:"epoch"`
	GradTaken  int       `json:"grad_steps_taken"`
	Losses     []float64 `json:"losses"`
	TrainEvals int64     `json:"train_evals"`
	WallNS     int64     `json:"wall_ns"`
	LastEnergy *float64  `json:"last_energy,omitempty"`
	RNG        []byte    `json:"rng"`
	BufN       int       `json:"buffer_len"`
	BufNext    int       `json:"buffer_next"`
	ModelBytes int       `json:"model_bytes"`
}

// Save writes a checkpoint (configuration, network with optimiser state, replay buffer, random
// state, progress) to path atomically: a temporary file in the same directory is synced and
// renamed over path. A schedule from sde.FromFunc and a non-benchmark system are recorded by
// name only and must be supplied again to LoadWith.
func (s *Sampler) Save(path string) error {
	var mb bytes.Buffer
	if err := s.model.Save(&mb); err != nil {
		return fmt.Errorf("adjoint: save network: %w", err)
	}
	rng, err := s.pcg.MarshalBinary()
	if err != nil {
		return fmt.Errorf("adjoint: save random state: %w", err)
	}
	c := s.cfg
	h := ckptHeader{
		System: c.System.Name, Temperature: c.System.Tau(), Particles: s.space.Particles, SpatialDim: s.space.SpatialDim,
		ScheduleName: c.Schedule.Name(), Steps: c.Steps, Net: c.Net, NetNote: s.netNote, Batch: c.Batch,
		TrainBatch: c.TrainBatch, Buffer: c.Buffer, GradSteps: c.GradSteps, LR: c.LR, Epochs: c.Epochs,
		ClipNorm: c.ClipNorm, Seed: c.Seed, NoBaseCorrection: c.NoBaseCorrection, PrefillBase: c.PrefillBase,
		TimeSampling: c.TimeSampling, LRFinal: c.LRFinal, Integrator: c.Integrator,
		Epoch: s.epoch, GradTaken: s.steps, Losses: s.losses, TrainEvals: s.trainEvals, WallNS: int64(s.wall),
		RNG: rng, BufN: s.buf.n, BufNext: s.buf.next, ModelBytes: mb.Len(),
	}
	if !math.IsNaN(s.lastEnergy) {
		e := s.lastEnergy
		h.LastEnergy = &e
	}
	if spec, ok := sde.SpecOf(c.Schedule); ok {
		h.Schedule = &spec
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("adjoint: save: %w", err)
	}
	err = atomicfile.Write(path, 0o644, func(w io.Writer) error {
		io.WriteString(w, checkpointMagic)
		binary.Write(w, binary.LittleEndian, uint64(len(hj)))
		w.Write(hj)
		w.Write(mb.Bytes())
		if err := writeFloats(w, s.buf.x); err != nil {
			return err
		}
		return writeFloats(w, s.buf.y)
	})
	if err != nil {
		return fmt.Errorf("adjoint: save: %w", err)
	}
	return nil
}

func writeFloats(w io.Writer, v []float64) error {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	_, err := w.Write(b)
	return err
}

func readFloats(r io.Reader, n int) ([]float64, error) {
	b := make([]byte, 8*n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v, nil
}

// Load reads a checkpoint of a benchmark system (dw4, lj13, lj55) with a geometric or constant
// schedule; see LoadWith for other systems and schedules.
func Load(path string) (*Sampler, error) { return LoadWith(path, nil, nil) }

// SystemResolver, when set, rebuilds systems that are not benchmarks by name when a checkpoint
// is loaded without a system (the DSL installs one for its declared systems).
var SystemResolver func(name string) (*energy.System, error)

// LoadWith reads a checkpoint; sys and sched, when not nil, replace the system and schedule
// recorded in it (needed for non-benchmark systems and FromFunc schedules). Training resumed from
// a checkpoint continues exactly as the uninterrupted run would have.
func LoadWith(path string, sys *energy.System, sched sde.Schedule) (*Sampler, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("adjoint: load: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	magic := make([]byte, len(checkpointMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != checkpointMagic {
		return nil, fmt.Errorf("adjoint: load %s: not a sampler checkpoint", path)
	}
	var hl uint64
	if err := binary.Read(r, binary.LittleEndian, &hl); err != nil || hl > 1<<30 {
		return nil, fmt.Errorf("adjoint: load %s: bad header", path)
	}
	hj := make([]byte, hl)
	if _, err := io.ReadFull(r, hj); err != nil {
		return nil, fmt.Errorf("adjoint: load %s: %w", path, err)
	}
	var h ckptHeader
	if err := json.Unmarshal(hj, &h); err != nil {
		return nil, fmt.Errorf("adjoint: load %s: header: %w", path, err)
	}
	if sys == nil {
		sys, err = energy.Benchmark(h.System)
		if err != nil && SystemResolver != nil {
			sys, err = SystemResolver(h.System)
		}
		if err != nil {
			return nil, fmt.Errorf("adjoint: load %s: system %q must be supplied (LoadWith): %w", path, h.System, err)
		}
		if h.Temperature > 0 {
			sys.Temperature = h.Temperature
		}
	}
	if sys.Energy == nil || sys.Energy.Particles() != h.Particles || sys.Energy.SpatialDim() != h.SpatialDim {
		return nil, fmt.Errorf("adjoint: load %s: system does not match the checkpoint's %d particles × %d dims", path, h.Particles, h.SpatialDim)
	}
	if sched == nil {
		if h.Schedule == nil {
			return nil, fmt.Errorf("adjoint: load %s: schedule %q must be supplied (LoadWith)", path, h.ScheduleName)
		}
		if sched, err = h.Schedule.Schedule(); err != nil {
			return nil, fmt.Errorf("adjoint: load %s: %w", path, err)
		}
	}
	mbytes := make([]byte, h.ModelBytes)
	if _, err := io.ReadFull(r, mbytes); err != nil {
		return nil, fmt.Errorf("adjoint: load %s: network: %w", path, err)
	}
	model, err := nn.Load(bytes.NewReader(mbytes))
	if err != nil {
		return nil, fmt.Errorf("adjoint: load %s: network: %w", path, err)
	}
	cfg := Config{
		System: sys, Schedule: sched, Steps: h.Steps, Net: h.Net, Batch: h.Batch, TrainBatch: h.TrainBatch,
		Buffer: h.Buffer, GradSteps: h.GradSteps, LR: h.LR, Epochs: h.Epochs, ClipNorm: h.ClipNorm, Seed: h.Seed,
		NoBaseCorrection: h.NoBaseCorrection, PrefillBase: h.PrefillBase, Model: model,
		TimeSampling: h.TimeSampling, LRFinal: h.LRFinal, Integrator: h.Integrator,
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("adjoint: load %s: %w", path, err)
	}
	cfg.Model = nil
	s := newSampler(cfg, model, h.NetNote)
	if err := s.pcg.UnmarshalBinary(h.RNG); err != nil {
		return nil, fmt.Errorf("adjoint: load %s: random state: %w", path, err)
	}
	s.rng = rand.New(s.pcg)
	dim := sys.Dim()
	if h.BufN < 0 || h.BufN > h.Buffer || h.BufNext < 0 || h.BufNext >= max(h.Buffer, 1) {
		return nil, fmt.Errorf("adjoint: load %s: bad buffer state", path)
	}
	if s.buf.x, err = readFloats(r, h.BufN*dim); err != nil {
		return nil, fmt.Errorf("adjoint: load %s: buffer: %w", path, err)
	}
	if s.buf.y, err = readFloats(r, h.BufN*dim); err != nil {
		return nil, fmt.Errorf("adjoint: load %s: buffer: %w", path, err)
	}
	s.buf.n, s.buf.next = h.BufN, h.BufNext
	s.epoch, s.steps, s.losses, s.trainEvals, s.wall = h.Epoch, h.GradTaken, h.Losses, h.TrainEvals, time.Duration(h.WallNS)
	if h.LastEnergy != nil {
		s.lastEnergy = *h.LastEnergy
	}
	return s, nil
}

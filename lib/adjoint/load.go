package adjoint

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"

	"adjoint/lib/energy"
	"adjoint/lib/nn"
	"adjoint/lib/sde"
)

// LoadOptions supply what a checkpoint records by name only.
type LoadOptions struct {
	// System, when not nil, replaces the system recorded in the checkpoint (it must have the
	// same particles and dimensions).
	System *energy.System
	// Resolve, when System is nil and the checkpoint's system is not a benchmark (dw4, lj13,
	// lj55), rebuilds the system from the name recorded in the checkpoint, e.g. from the
	// systems a DSL script declared.
	Resolve func(name string) (*energy.System, error)
	// FromSource, when System is nil and the checkpoint recorded the text that declares its
	// system (energy.System.Source, as systems declared in the DSL have), rebuilds the system
	// from that text (dsl.SystemFromSource); it is tried before Resolve.
	FromSource func(name, source string) (*energy.System, error)
	// Schedule, when not nil, replaces the recorded schedule (needed for sde.FromFunc
	// schedules without a recorded source, which checkpoints record by name only).
	Schedule sde.Schedule
	// ScheduleFromSource, when Schedule is nil and the checkpoint recorded the text that
	// declared its schedule (sde.WithSource, as DSL sdes with sigma(t) = … have), rebuilds the
	// schedule from that text (dsl.ScheduleFromSource).
	ScheduleFromSource func(name, source string) (sde.Schedule, error)
}

// Load reads a checkpoint of a benchmark system (dw4, lj13, lj55) with a geometric or constant
// schedule; see LoadCheckpoint for other systems and schedules.
func Load(path string) (*Sampler, error) { return LoadCheckpoint(path, LoadOptions{}) }

// LoadWith reads a checkpoint; sys and sched, when not nil, replace the system and schedule
// recorded in it (LoadCheckpoint with LoadOptions{System: sys, Schedule: sched}).
func LoadWith(path string, sys *energy.System, sched sde.Schedule) (*Sampler, error) {
	return LoadCheckpoint(path, LoadOptions{System: sys, Schedule: sched})
}

// LoadCheckpoint reads a checkpoint written by Sampler.Save, with the system and schedule that
// opt supplies where the checkpoint records them by name only. Training resumed from a
// checkpoint continues exactly as the uninterrupted run would have.
func LoadCheckpoint(path string, opt LoadOptions) (*Sampler, error) {
	s, err := loadCheckpoint(path, opt)
	if err != nil {
		return nil, fmt.Errorf("adjoint: load %s: %w", path, err)
	}
	return s, nil
}

func loadCheckpoint(path string, opt LoadOptions) (*Sampler, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	h, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	cfg, err := h.config(opt)
	if err != nil {
		return nil, err
	}
	mbytes := make([]byte, h.ModelBytes)
	if _, err := io.ReadFull(r, mbytes); err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	model, err := nn.Load(bytes.NewReader(mbytes))
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	cfg.Model = model
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Model = nil
	s := newSampler(cfg, model, h.NetNote)
	if err := h.restore(s, r); err != nil {
		return nil, err
	}
	return s, nil
}

// readHeader checks the magic line and reads the JSON header.
func readHeader(r io.Reader) (*ckptHeader, error) {
	magic := make([]byte, len(checkpointMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != checkpointMagic {
		return nil, fmt.Errorf("not a sampler checkpoint")
	}
	var hl uint64
	if err := binary.Read(r, binary.LittleEndian, &hl); err != nil || hl > 1<<30 {
		return nil, fmt.Errorf("bad header")
	}
	hj := make([]byte, hl)
	if _, err := io.ReadFull(r, hj); err != nil {
		return nil, err
	}
	var h ckptHeader
	if err := json.Unmarshal(hj, &h); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	return &h, nil
}

// system is the checkpoint's system: opt.System, a benchmark, or what opt.Resolve rebuilds from
// the recorded name, at the recorded temperature.
func (h *ckptHeader) system(opt LoadOptions) (*energy.System, error) {
	sys := opt.System
	if sys == nil {
		var err error
		sys, err = energy.Benchmark(h.System)
		if err != nil && h.SystemSource != "" && opt.FromSource != nil {
			if sys, err = opt.FromSource(h.System, h.SystemSource); err != nil {
				return nil, fmt.Errorf("system %q from its recorded source: %w", h.System, err)
			}
		}
		if err != nil && opt.Resolve != nil {
			sys, err = opt.Resolve(h.System)
		}
		if err != nil {
			hint := ""
			if h.SystemSource != "" {
				hint = " or rebuilt from its recorded source (LoadOptions.FromSource, dsl.LoadSampler)"
			}
			return nil, fmt.Errorf("system %q must be supplied (LoadOptions)%s: %w", h.System, hint, err)
		}
		if h.Temperature > 0 {
			sys.Temperature = h.Temperature
		}
	}
	if sys.Energy == nil || sys.Energy.Particles() != h.Particles || sys.Energy.SpatialDim() != h.SpatialDim {
		return nil, fmt.Errorf("system does not match the checkpoint's %d particles × %d dims", h.Particles, h.SpatialDim)
	}
	return sys, nil
}

// config rebuilds the recorded configuration (without its network); settings recorded as
// names are parsed, the empty name being the default.
func (h *ckptHeader) config(opt LoadOptions) (Config, error) {
	sys, err := h.system(opt)
	if err != nil {
		return Config{}, err
	}
	sched := opt.Schedule
	switch {
	case sched != nil:
	case h.Schedule == nil:
		return Config{}, fmt.Errorf("schedule %q must be supplied (LoadOptions)", h.ScheduleName)
	case h.Schedule.Kind == "source" && opt.ScheduleFromSource != nil:
		if sched, err = opt.ScheduleFromSource(h.ScheduleName, h.Schedule.Source); err != nil {
			return Config{}, fmt.Errorf("schedule %q from its recorded source: %w", h.ScheduleName, err)
		}
	case h.Schedule.Kind == "source":
		return Config{}, fmt.Errorf("schedule %q was declared in a script: rebuild it from its recorded source (LoadOptions.ScheduleFromSource, dsl.LoadSampler) or supply it (LoadOptions.Schedule)", h.ScheduleName)
	default:
		if sched, err = h.Schedule.Schedule(); err != nil {
			return Config{}, err
		}
	}
	ts, err := ParseTimeSampling(h.TimeSampling)
	if err != nil {
		return Config{}, err
	}
	in, err := ParseIntegrator(h.Integrator)
	if err != nil {
		return Config{}, err
	}
	nt, err := ParseNetTime(h.NetTime)
	if err != nil {
		return Config{}, err
	}
	return Config{
		System: sys, Schedule: sched, Steps: h.Steps, SampleSteps: h.SampleSteps, Net: h.Net, Batch: h.Batch, TrainBatch: h.TrainBatch,
		Buffer: h.Buffer, GradSteps: h.GradSteps, LR: h.LR, Epochs: h.Epochs, ClipNorm: h.ClipNorm, Seed: h.Seed,
		NoBaseCorrection: h.NoBaseCorrection, PrefillBase: h.PrefillBase,
		TimeSampling: ts, NetTime: nt, LRFinal: h.LRFinal, Integrator: in, Reweight: h.Reweight,
		RefineBuffer: h.RefineBuffer, RefineMethod: h.RefineMethod, EMA: h.EMA, Defensive: h.Defensive, Langevin: h.Langevin,
		MixTarget: h.MixTarget, RBCandidates: h.RBCandidates,
	}, nil
}

// restore sets the random state, progress and replay buffer (read from r) of a new sampler.
func (h *ckptHeader) restore(s *Sampler, r io.Reader) error {
	if err := s.pcg.UnmarshalBinary(h.RNG); err != nil {
		return fmt.Errorf("random state: %w", err)
	}
	s.rng = rand.New(s.pcg)
	dim := s.cfg.System.Dim()
	if h.BufN < 0 || h.BufN > h.Buffer || h.BufNext < 0 || h.BufNext >= max(h.Buffer, 1) {
		return fmt.Errorf("bad buffer state")
	}
	var err error
	if s.buf.x, err = readFloats(r, h.BufN*dim); err != nil {
		return fmt.Errorf("buffer: %w", err)
	}
	if s.buf.y, err = readFloats(r, h.BufN*dim); err != nil {
		return fmt.Errorf("buffer: %w", err)
	}
	s.buf.n, s.buf.next = h.BufN, h.BufNext
	if h.BufEpochs {
		if s.buf.ep, err = readInt32s(r, h.BufN); err != nil {
			return fmt.Errorf("buffer epochs: %w", err)
		}
	} else {
		s.buf.inferEpochs(h.Epoch, h.Batch)
	}
	if h.BufLogW {
		if s.buf.lw, err = readFloats(r, h.BufN); err != nil {
			return fmt.Errorf("buffer log weights: %w", err)
		}
	}
	if s.cfg.Reweight > 0 {
		s.reweightBeta, _ = s.buf.temper(s.cfg.Reweight)
	}
	s.epoch, s.steps, s.losses, s.trainEvals, s.wall = h.Epoch, h.GradTaken, h.Losses, h.TrainEvals, time.Duration(h.WallNS)
	s.langevinA, s.langevinSet = h.LangevinA, h.Langevin && h.LangevinSet
	if h.LastEnergy != nil {
		s.lastEnergy = *h.LastEnergy
	}
	s.nonFinite = h.NonFinite
	s.refineStep = h.RefineStep
	return nil
}

package adjoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"adjoint/internal/atomicfile"
	"adjoint/lib/sde"
)

// checkpointMagic opens every checkpoint file.
const checkpointMagic = "ADJOINT-SAMPLER 1\n"

type ckptHeader struct {
	System           string            `json:"system"`
	SystemSource     string            `json:"system_source,omitempty"` // energy.System.Source
	Temperature      float64           `json:"temperature"`
	Particles        int               `json:"particles"`
	SpatialDim       int               `json:"spatial_dim"`
	Schedule         *sde.ScheduleSpec `json:"schedule,omitempty"`
	ScheduleName     string            `json:"schedule_name"`
	Steps            int               `json:"steps"`
	SampleSteps      int               `json:"sample_steps,omitempty"`
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
	NetTime          string            `json:"net_time,omitempty"`
	Integrator       string            `json:"integrator,omitempty"`
	LRFinal          float64           `json:"lr_final,omitempty"`
	Reweight         float64           `json:"reweight,omitempty"`
	RefineBuffer     int               `json:"refine_buffer,omitempty"`
	RefineMethod     string            `json:"refine_method,omitempty"`
	RefineStep       float64           `json:"refine_step,omitempty"`
	EMA              float64           `json:"ema,omitempty"`
	Defensive        float64           `json:"defensive,omitempty"`
	Langevin         bool              `json:"langevin,omitempty"`
	MixTarget        bool              `json:"mix_target,omitempty"`
	RBCandidates     int               `json:"rb_candidates,omitempty"`
	LangevinA        float64           `json:"langevin_curvature,omitempty"`
	LangevinSet      bool              `json:"langevin_curvature_set,omitempty"`

	Epoch      int       `json:"epoch"`
	GradTaken  int       `json:"grad_steps_taken"`
	Losses     []float64 `json:"losses"`
	TrainEvals int64     `json:"train_evals"`
	WallNS     int64     `json:"wall_ns"`
	LastEnergy *float64  `json:"last_energy,omitempty"`
	NonFinite  int64     `json:"non_finite_energies,omitempty"`
	RNG        []byte    `json:"rng"`
	BufN       int       `json:"buffer_len"`
	BufNext    int       `json:"buffer_next"`
	// BufEpochs says that the buffer's insertion epochs (int32, one per sample) follow its
	// targets; checkpoints written before they were recorded lack them.
	BufEpochs bool `json:"buffer_epochs,omitempty"`
	// BufLogW says that the buffer's log importance weights (float64, one per sample) follow
	// its epochs; only samplers under Config.Reweight keep them.
	BufLogW    bool `json:"buffer_log_weights,omitempty"`
	ModelBytes int  `json:"model_bytes"`
}

// Save writes a checkpoint (configuration, network with optimiser state, replay buffer with the
// epochs its samples were inserted at, random state, progress) to path atomically: a temporary
// file in the same directory is synced and renamed over path. A schedule from sde.FromFunc and
// a non-benchmark system are recorded by name only and must be supplied again to
// LoadCheckpoint.
func (s *Sampler) Save(path string) error {
	var mb bytes.Buffer
	if err := s.model.Save(&mb); err != nil {
		return fmt.Errorf("adjoint: save network: %w", err)
	}
	h, err := s.header(mb.Len())
	if err != nil {
		return fmt.Errorf("adjoint: save: %w", err)
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
		if err := writeFloats(w, s.buf.y); err != nil {
			return err
		}
		if err := writeInt32s(w, s.buf.ep); err != nil {
			return err
		}
		if s.buf.lw != nil {
			return writeFloats(w, s.buf.lw)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("adjoint: save: %w", err)
	}
	return nil
}

// header records the sampler's configuration and state, with a network of modelBytes bytes.
func (s *Sampler) header(modelBytes int) (*ckptHeader, error) {
	rng, err := s.pcg.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("random state: %w", err)
	}
	c := s.cfg
	h := &ckptHeader{
		System: c.System.Name, SystemSource: c.System.Source, Temperature: c.System.Tau(), Particles: s.space.Particles, SpatialDim: s.space.SpatialDim,
		ScheduleName: c.Schedule.Name(), Steps: c.Steps, SampleSteps: c.SampleSteps, Net: c.Net, NetNote: s.netNote, Batch: c.Batch,
		TrainBatch: c.TrainBatch, Buffer: c.Buffer, GradSteps: c.GradSteps, LR: c.LR, Epochs: c.Epochs,
		ClipNorm: c.ClipNorm, Seed: c.Seed, NoBaseCorrection: c.NoBaseCorrection, PrefillBase: c.PrefillBase,
		TimeSampling: c.TimeSampling.String(), NetTime: netTimeField(c.NetTime), LRFinal: c.LRFinal, Integrator: c.Integrator.String(), Reweight: c.Reweight,
		RefineBuffer: c.RefineBuffer, RefineMethod: c.RefineMethod, RefineStep: s.refineStep,
		EMA: c.EMA, Defensive: c.Defensive, Langevin: c.Langevin, MixTarget: c.MixTarget, RBCandidates: c.RBCandidates, LangevinA: s.langevinA, LangevinSet: s.langevinSet,
		Epoch: s.epoch, GradTaken: s.steps, Losses: s.losses, TrainEvals: s.trainEvals, WallNS: int64(s.wall),
		RNG: rng, BufN: s.buf.n, BufNext: s.buf.next, BufEpochs: true, BufLogW: s.buf.lw != nil, ModelBytes: modelBytes, NonFinite: s.nonFinite,
	}
	if !math.IsNaN(s.lastEnergy) {
		e := s.lastEnergy
		h.LastEnergy = &e
	}
	if spec, ok := sde.SpecOf(c.Schedule); ok {
		h.Schedule = &spec
	}
	return h, nil
}

func writeFloats(w io.Writer, v []float64) error {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	_, err := w.Write(b)
	return err
}

func writeInt32s(w io.Writer, v []int32) error {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	_, err := w.Write(b)
	return err
}

func readInt32s(r io.Reader, n int) ([]int32, error) {
	b := make([]byte, 4*n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	v := make([]int32, n)
	for i := range v {
		v[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
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

// netTimeField is the checkpoint's record of Config.NetTime: empty for the paper's t, so that
// files without the setting read back as they were written.
func netTimeField(nt NetTime) string {
	if nt == NetTimeT {
		return ""
	}
	return nt.String()
}

package adjoint

import (
	"fmt"
	"strings"
)

// Integrator is the discretisation of the SDE used to draw samples (in training and sampling).
// Its zero value is the paper's Euler–Maruyama.
type Integrator int

const (
	// IntegratorEM is Euler–Maruyama with σ at the left end of each step ("em").
	IntegratorEM Integrator = iota
	// IntegratorKappa matches each step's noise and drift to the base increment
	// κ(t_{k+1}) − κ(t_k) (sde.Space.IntegrateKappa), so the uncontrolled chain has exactly the
	// base marginals on the grid ("kappa").
	IntegratorKappa
)

var integratorNames = []string{"em", "kappa"}

// String returns the integrator's name: "em" or "kappa".
func (in Integrator) String() string { return nameOf(integratorNames, int(in), "Integrator") }

// ParseIntegrator reads an integrator name: "em" (or "") or "kappa".
func ParseIntegrator(s string) (Integrator, error) {
	i, err := parseName("integrator", s, integratorNames)
	return Integrator(i), err
}

// MarshalText writes the integrator's name.
func (in Integrator) MarshalText() ([]byte, error) {
	return marshalName(integratorNames, int(in), "integrator")
}

// UnmarshalText reads an integrator's name.
func (in *Integrator) UnmarshalText(b []byte) error {
	v, err := ParseIntegrator(string(b))
	if err == nil {
		*in = v
	}
	return err
}

// TimeSampling is how gradient steps draw the time t of their bridge samples. Its zero value is
// the paper's t ~ U[0, 1].
type TimeSampling int

const (
	// TimeUniform draws t ~ U[0, 1] ("uniform").
	TimeUniform TimeSampling = iota
	// TimeKappa draws the odd rows of each batch uniformly in γ = κ(t)/κ(1) instead; the even
	// rows stay uniform in t ("kappa").
	TimeKappa
	// TimeSigma2 draws every row uniformly in γ = κ(t)/κ(1) ("sigma2"): the density of t is
	// then σ(t)²/κ(1), the weight each time has in the path's KL divergence ½∫σ(t)²‖Δv‖² dt,
	// which a control error at time t costs.
	TimeSigma2
)

var timeSamplingNames = []string{"uniform", "kappa", "sigma2"}

// String returns the time sampling's name: "uniform", "kappa" or "sigma2".
func (ts TimeSampling) String() string { return nameOf(timeSamplingNames, int(ts), "TimeSampling") }

// ParseTimeSampling reads a time sampling name: "uniform" (or ""), "kappa" or "sigma2".
func ParseTimeSampling(s string) (TimeSampling, error) {
	i, err := parseName("time sampling", s, timeSamplingNames)
	return TimeSampling(i), err
}

// MarshalText writes the time sampling's name.
func (ts TimeSampling) MarshalText() ([]byte, error) {
	return marshalName(timeSamplingNames, int(ts), "time sampling")
}

// UnmarshalText reads a time sampling's name.
func (ts *TimeSampling) UnmarshalText(b []byte) error {
	v, err := ParseTimeSampling(string(b))
	if err == nil {
		*ts = v
	}
	return err
}

// NetTime is the time input the controller network reads. Its zero value is the paper's t.
type NetTime int

const (
	// NetTimeT feeds the network t itself ("t").
	NetTimeT NetTime = iota
	// NetTimeKappa feeds it ½(t + κ(t)/κ(1)) ("kappa"). Under a geometric schedule κ(t)/κ(1)
	// passes 0.9 by t ≈ 0.16, so with t alone the network sees the part of the trajectory where
	// most of the noise is injected, and where the samples' fine structure is set, as a sliver
	// of its input range; the average spreads that part over about half the range while keeping
	// late times apart. The network's function of time is the same family, so this changes only
	// how easily it resolves the early times.
	NetTimeKappa
)

var netTimeNames = []string{"t", "kappa"}

// String returns the time input's name: "t" or "kappa".
func (nt NetTime) String() string { return nameOf(netTimeNames, int(nt), "NetTime") }

// ParseNetTime reads a time input name: "t" (or "") or "kappa".
func ParseNetTime(s string) (NetTime, error) {
	i, err := parseName("network time input", s, netTimeNames)
	return NetTime(i), err
}

// MarshalText writes the time input's name.
func (nt NetTime) MarshalText() ([]byte, error) {
	return marshalName(netTimeNames, int(nt), "network time input")
}

// UnmarshalText reads a time input's name.
func (nt *NetTime) UnmarshalText(b []byte) error {
	v, err := ParseNetTime(string(b))
	if err == nil {
		*nt = v
	}
	return err
}

// Device is where NewSampler puts the network it builds. Its zero value is the CPU.
type Device int

const (
	// DeviceCPU keeps the network on the CPU ("cpu").
	DeviceCPU Device = iota
	// DeviceCUDA puts the EGNN on the GPU that cuda.Default selects ("cuda").
	DeviceCUDA
)

var deviceNames = []string{"cpu", "cuda"}

// String returns the device's name: "cpu" or "cuda".
func (d Device) String() string { return nameOf(deviceNames, int(d), "Device") }

// ParseDevice reads a device name: "cpu" (or "") or "cuda".
func ParseDevice(s string) (Device, error) {
	i, err := parseName("device", s, deviceNames)
	return Device(i), err
}

// MarshalText writes the device's name.
func (d Device) MarshalText() ([]byte, error) { return marshalName(deviceNames, int(d), "device") }

// UnmarshalText reads a device's name.
func (d *Device) UnmarshalText(b []byte) error {
	v, err := ParseDevice(string(b))
	if err == nil {
		*d = v
	}
	return err
}

// nameOf is names[i], or Type(i) for a value outside the table.
func nameOf(names []string, i int, typ string) string {
	if i >= 0 && i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("%s(%d)", typ, i)
}

// parseName finds s (case-insensitively, "" for the first) in names.
func parseName(what, s string, names []string) (int, error) {
	if s == "" {
		return 0, nil
	}
	for i, n := range names {
		if strings.EqualFold(s, n) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("adjoint: unknown %s %q (%s)", what, s, strings.Join(names, " or "))
}

// marshalName is the text form of names[i], an error outside the table.
func marshalName(names []string, i int, what string) ([]byte, error) {
	if i < 0 || i >= len(names) {
		return nil, fmt.Errorf("adjoint: %s %d is not one of %s", what, i, strings.Join(names, ", "))
	}
	return []byte(names[i]), nil
}

// checkName says whether i is a value of the table.
func checkName(names []string, i int, what string) error {
	_, err := marshalName(names, i, what)
	return err
}

// NetKind is the kind of controller network. Its zero value picks one from the system's
// symmetries (Config.NetKind).
type NetKind int

const (
	// NetAuto picks the EGNN for systems with rotation and permutation symmetry and more than
	// one particle, the MLP otherwise ("auto", or "").
	NetAuto NetKind = iota
	// NetEGNN is the E(n)-equivariant graph network of the paper ("egnn").
	NetEGNN
	// NetMLP is a multilayer perceptron on the flattened coordinates ("mlp").
	NetMLP
)

var netKindNames = []string{"auto", "egnn", "mlp"}

// String returns the network kind's name: "auto", "egnn" or "mlp".
func (k NetKind) String() string { return nameOf(netKindNames, int(k), "NetKind") }

// ParseNetKind reads a network kind: "auto" (or ""), "egnn" or "mlp".
func ParseNetKind(s string) (NetKind, error) {
	i, err := parseName("network kind", s, netKindNames)
	return NetKind(i), err
}

// MarshalText writes the network kind's name.
func (k NetKind) MarshalText() ([]byte, error) {
	return marshalName(netKindNames, int(k), "network kind")
}

// UnmarshalText reads a network kind's name.
func (k *NetKind) UnmarshalText(b []byte) error {
	v, err := ParseNetKind(string(b))
	if err == nil {
		*k = v
	}
	return err
}

// Package nn holds the controller networks of the library (MLP and EGNN), the Adam optimiser,
// initialisation, and save/load, built on lib/tensor.
package nn

import "io"

// Model is a controller network v_θ(x, t) trained by regression, the contract between the
// networks and the trainer in lib/adjoint. Batches are flat float32 slices: x holds B states of
// Dim() numbers (particle-major), t holds B times; B is len(t).
type Model interface {
	// Dim is the state dimension n·d the model takes and returns.
	Dim() int
	// Forward evaluates the network into out (length B·Dim()) without recording gradients.
	Forward(x, t, out []float32) error
	// TrainStep takes one optimiser step on the regression loss
	// (1/B) Σ_b ‖v_θ(x_b, t_b) − target_b‖² and returns the loss before the step.
	TrainStep(x, t, target []float32) (float64, error)
	// SetLearningRate changes the optimiser's learning rate.
	SetLearningRate(lr float64)
	// NumParams is the number of trainable scalars.
	NumParams() int
	// Save writes the architecture, parameters and optimiser state in the versioned format.
	Save(w io.Writer) error
}

// Differentiable is a Model whose loss gradient can be read without an optimiser step, as
// diagnostics of the training signal need (the MLP, the EGNN and the DeviceEGNN have it).
type Differentiable interface {
	Model
	// LossGrad evaluates TrainStep's loss on the batch and writes its gradient with respect to
	// the parameters into grad (NumParams() values); parameters and optimiser state are left
	// unchanged.
	LossGrad(x, t, target []float32, grad []float64) (float64, error)
}

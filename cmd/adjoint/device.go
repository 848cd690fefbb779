package main

import (
	"adjoint/lib/tensor/cuda"
)

func init() {
	register("device", "print one JSON line describing the GPU found, or why none", runDevice)
}

// runDevice prints cuda.Probe's report: the device, the CUDA libraries loaded and, without a
// GPU, the reason (ADJOINT_DEVICE=cpu, no driver, no device, …).
func runDevice(args []string) error {
	fs := newFlagSet("device", "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	cuda.SetLog(nil)
	return emitJSON(cuda.Probe())
}

//go:build !linux

package worker

import "os/exec"

// setDeathSignal does nothing here: the worker exits when its request pipe closes.
func setDeathSignal(cmd *exec.Cmd) {}

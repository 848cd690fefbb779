package dsl

import (
	"fmt"
	"sync"

	"adjoint/lib/energy"
)

// declared systems, for reloading checkpoints of DSL systems by name
var (
	registryMu sync.Mutex
	registry   = map[string]*energy.System{}
)

// declaredSystem returns a copy of the system a script declared under name, for reloading a
// checkpoint that records its system by name (adjoint.LoadOptions.Resolve).
func declaredSystem(name string) (*energy.System, error) {
	registryMu.Lock()
	sys, ok := registry[name]
	registryMu.Unlock()
	if !ok {
		return nil, fmt.Errorf("no system %q has been declared", name)
	}
	c := *sys
	return &c, nil
}

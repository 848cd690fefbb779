package dsl

import (
	"fmt"
	"sync"

	"adjoint/lib/adjoint"
	"adjoint/lib/energy"
)

// declared systems, for reloading checkpoints of DSL systems by name
var (
	registryMu sync.Mutex
	registry   = map[string]*energy.System{}
)

func init() {
	prev := adjoint.SystemResolver
	adjoint.SystemResolver = func(name string) (*energy.System, error) {
		registryMu.Lock()
		sys, ok := registry[name]
		registryMu.Unlock()
		if ok {
			c := *sys
			return &c, nil
		}
		if prev != nil {
			return prev(name)
		}
		return nil, fmt.Errorf("no system %q has been declared", name)
	}
}

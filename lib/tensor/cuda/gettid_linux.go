//go:build linux

package cuda

import "syscall"

// gettid identifies the calling OS thread (to run nested Do calls inline on the device thread).
func gettid() int { return syscall.Gettid() }

//go:build !linux

package cuda

// gettid is unknown here: nested Do calls are not detected (devices open only on Linux).
func gettid() int { return -1 }

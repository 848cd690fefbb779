//go:build race

package interp

// raceEnabled reports whether the race detector is on: yaegi's ExecuteWithContext writes its
// results from a goroutine after it returned on cancellation, which the fallback stop relies on.
const raceEnabled = true

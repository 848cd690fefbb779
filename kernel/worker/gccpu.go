package worker

import (
	"runtime/metrics"
	"time"
)

// gcCPU is the CPU time the garbage collector has used (an estimate of the runtime). The
// deadlock watchdog leaves it out of the process's CPU time: a cell that holds more than the
// memory limit makes the collector run again and again while the cell itself is blocked.
func gcCPU() time.Duration {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return time.Duration(s[0].Value.Float64() * float64(time.Second))
}

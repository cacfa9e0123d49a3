//go:build linux

package parser

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) the test process has used. The
// benchmarks divide lines by it, not by wall time: on a shared machine the
// wall clock counts the time other processes held the cores.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

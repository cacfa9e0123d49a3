package main

import (
	"os"
	"runtime/debug"
)

// tuneGC sets the collector for a command whose allocation pattern we have
// measured, unless the user set GOGC or GOMEMLIMIT: the soft limit keeps
// memory bounded whatever the percent lets the heap grow to.
func tuneGC(percent int, softLimit int64) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(percent)
	debug.SetMemoryLimit(softLimit)
}

//go:build !linux

package parser

import "time"

// processCPU is unknown here: benchmarks report wall-clock rates only.
func processCPU() time.Duration { return 0 }

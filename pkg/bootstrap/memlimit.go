package bootstrap

import (
	"os"
	"runtime/debug"
)

// Soft memory limits set on purpose, so a process's memory follows what
// it holds rather than the collector's default of letting the heap double
// past it: the collector works harder near the limit (at most half the
// CPU). GOMEMLIMIT, when set, wins (the runtime reads it).
const (
	// MemoryLimitWorker is each worker binary's: the production shape's
	// target is 96 MB of RSS per worker.
	MemoryLimitWorker = 80 << 20
	// MemoryLimitAllInOne is `tajo run`'s, which also holds the embedded
	// NATS server: the target is 256 MB of RSS at any user count.
	MemoryLimitAllInOne = 200 << 20
)

// SetMemoryLimit applies limit unless GOMEMLIMIT is set, and returns the
// limit in force.
func SetMemoryLimit(limit int64) int64 {
	if os.Getenv("GOMEMLIMIT") != "" || limit <= 0 {
		return debug.SetMemoryLimit(-1)
	}
	debug.SetMemoryLimit(limit)
	return limit
}

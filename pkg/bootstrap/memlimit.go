package bootstrap

import (
	"os"
	"runtime/debug"
)

// Soft memory limits set on purpose: above what a process holds live, so
// the collector does not run without pause, and below what the collector's
// default (the heap doubling past what is live) would reach as the state
// grows. A limit under the live heap costs throughput: at 100,000 users
// the all-in-one held about 160 MB live (the embedded server's block
// caches most of it), and a 200 MiB limit ran the sync at half the rate of
// no limit (0.12-0.15 of the baseline against 0.19-0.30, same runs), 400
// MiB at 0.18-0.20. GOMEMLIMIT, when set, wins (the runtime reads it).
const (
	// MemoryLimitWorker is each worker binary's: the loader holds about
	// 95 MB live at 100,000 users (two imports' worth of upserts and their
	// state), the others under 20 MB.
	MemoryLimitWorker = 192 << 20
	// MemoryLimitAllInOne is `tajo run`'s, which also holds the embedded
	// NATS server.
	MemoryLimitAllInOne = 512 << 20
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

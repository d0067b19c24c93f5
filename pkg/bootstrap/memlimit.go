package bootstrap

import (
	"os"
	"runtime/debug"
)

// The collector's settings, chosen on purpose and measured (make bench, all
// in one process, ratio to the bare-JetStream baseline of the same run):
//
//   - A soft memory limit under twice the live heap makes the collector run
//     without pause once the heap nears it. The all-in-one holds about
//     360 MB live in the middle of a 300,000-user sync (the embedded
//     server's block buffers, its deduplication window, two imports' worth
//     of upserts held by the loader): under the 512 MiB limit it used to
//     have, that sync ran at 0.13 of the baseline (peak RSS 545 MB); with
//     a 1 GiB limit at 0.30 (1,016 MB).
//   - A lower GOGC keeps the heap nearer what is live at about the same
//     speed: GOGC=50 ran the same sync at 0.31-0.32 with a peak RSS of
//     776-880 MB, GOGC=25 at 0.21-0.32 with 624-699 MB. Lower costs CPU
//     for every byte allocated: with GOGC=25 tracing's extra allocations
//     cost 5-22% more CPU (tracing_cpu_cost), with GOGC=50 3-5%.
//
// So the processes collect at GOGC=50 and keep a limit well above the live
// heap, as a guard against growth, not as the collector's pace. GOGC and
// GOMEMLIMIT, when set, win (the runtime reads them).
const (
	// GCPercent is the collector's target: the heap grows by half of what
	// is live before the next collection.
	GCPercent = 50
	// MemoryLimitWorker is each worker binary's: the loader holds about
	// 95 MB live at 100,000 users (two imports' worth of upserts and their
	// state), the others under 20 MB.
	MemoryLimitWorker = 384 << 20
	// MemoryLimitAllInOne is `tajo run`'s, which also holds the embedded
	// NATS server.
	MemoryLimitAllInOne = 1 << 30
)

// SetMemoryLimit applies GCPercent unless GOGC is set and limit unless
// GOMEMLIMIT is set, and returns the limit in force.
func SetMemoryLimit(limit int64) int64 {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
	if os.Getenv("GOMEMLIMIT") != "" || limit <= 0 {
		return debug.SetMemoryLimit(-1)
	}
	debug.SetMemoryLimit(limit)
	return limit
}

package bootstrap

import (
	"runtime/debug"
	"testing"
)

func TestSetMemoryLimitYieldsToGOMEMLIMIT(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOMEMLIMIT", "")
	t.Setenv("GOGC", "")
	if got := SetMemoryLimit(MemoryLimitWorker); got != MemoryLimitWorker || debug.SetMemoryLimit(-1) != MemoryLimitWorker {
		t.Fatalf("the worker limit was not applied: %d", debug.SetMemoryLimit(-1))
	}
	if got := debug.SetGCPercent(GCPercent); got != GCPercent {
		t.Fatalf("GOGC is %d, want %d", got, GCPercent)
	}
	debug.SetMemoryLimit(1 << 40) // what the runtime would have read from GOMEMLIMIT
	debug.SetGCPercent(80)        // and from GOGC
	t.Setenv("GOMEMLIMIT", "1TiB")
	t.Setenv("GOGC", "80")
	if got := SetMemoryLimit(MemoryLimitWorker); got != 1<<40 {
		t.Fatalf("GOMEMLIMIT is set, yet the limit became %d", got)
	}
	if got := debug.SetGCPercent(80); got != 80 {
		t.Fatalf("GOGC is set, yet the collector's target became %d", got)
	}
}

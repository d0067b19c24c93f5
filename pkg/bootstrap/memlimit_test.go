package bootstrap

import (
	"runtime/debug"
	"testing"
)

func TestSetMemoryLimitYieldsToGOMEMLIMIT(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	t.Setenv("GOMEMLIMIT", "")
	if got := SetMemoryLimit(MemoryLimitWorker); got != MemoryLimitWorker || debug.SetMemoryLimit(-1) != MemoryLimitWorker {
		t.Fatalf("the worker limit was not applied: %d", debug.SetMemoryLimit(-1))
	}
	debug.SetMemoryLimit(1 << 40) // what the runtime would have read from GOMEMLIMIT
	t.Setenv("GOMEMLIMIT", "1TiB")
	if got := SetMemoryLimit(MemoryLimitWorker); got != 1<<40 {
		t.Fatalf("GOMEMLIMIT is set, yet the limit became %d", got)
	}
}

package chaos_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/tools/sandbox/faults"
	"github.com/tajo-sync/tajo/tools/tajo/internal/chaos"
)

// lightFaults leaves out timeouts: each holds a request until the client's
// timeout, too long for a test in `make test`; `make chaos` has them.
const lightFaults = "429=0.02,5xx=0.03,reset=0.01,truncate=0.01,latency=2ms±1ms"

// The short chaos run of `make test`: 2,000 users through the worker
// processes on an external nats-server with a light fault mix, each worker
// kind killed once and the server restarted once, compared with a
// fault-free run. Its length is set by the services' recovery times, not by
// the users: a loader killed mid-import holds the import lease until its
// TTL (2 minutes) and its batch until the AckWait (1 minute).
func TestShortChaosRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds four binaries and runs two syncs; run without -short")
	}
	spec, err := faults.Parse(lightFaults)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 7*time.Minute)
	defer cancel()
	var log bytes.Buffer
	rep, err := chaos.Run(ctx, chaos.Options{
		// One busy process beside the run: the timing of a shared machine,
		// where make chaos once lost a contact.
		Users: 2000, Seed: 5, Faults: spec, Kills: 1, NATSRestarts: 1, BatchSize: 200, CPUHog: 1,
		WorkDir: t.TempDir(), Timeout: 5 * time.Minute, Log: &log,
	})
	t.Log("\n" + log.String())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep.Print(&out)
	t.Log("\n" + out.String())
	if !rep.OK() {
		t.Fatalf("the chaos run failed its checks (report above)")
	}
	faulted := 0
	for _, status := range []string{"429", "500", "502", "503", "reset", "truncated"} {
		faulted += rep.Statuses[status]
	}
	if faulted == 0 {
		t.Errorf("no faults reached the workers: requests by status %v", rep.Statuses)
	}
}

package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// A run exported whole ends as soon as its last batches are written: Wait
// looks at it every 50 ms from then on, whatever its poll, so that a short
// sync (an incremental: a second or two) is not told done up to a poll
// late.
func TestWaitLooksOftenAtAnExportedRun(t *testing.T) {
	ctx := context.Background()
	_, _, js := natsxtest.Start(t)
	if err := natsx.Provision(ctx, js, natsx.ProvisionOptions{}); err != nil {
		t.Fatal(err)
	}
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	run := &proto.SyncRun{V: proto.SchemaVersion, ID: "20261207T000000Z-tail00", Resource: "users",
		Type: "incremental", Status: proto.RunExported, StartedAt: time.Now().UnixMilli()}
	if err := st.PutRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	// No worker runs: the run stays exported, not drained.
	wctx, cancel := context.WithTimeout(ctx, 600*time.Millisecond)
	defer cancel()
	looks := 0
	_, err = app.Wait(wctx, js, st, run.ID, time.Second, func(app.Progress) { looks++ })
	if err == nil {
		t.Fatal("Wait returned for a run no worker handled")
	}
	// Every 50 ms: about 12 looks in 600 ms; at the 1 s poll, one.
	if looks < 4 {
		t.Errorf("Wait looked at an exported run %d times in 600 ms with a 1 s poll; want it every 50 ms", looks)
	}
}

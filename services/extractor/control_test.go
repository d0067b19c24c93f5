package extractor

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/state"
)

// unreachableBraze is Braze down: each run the schedule starts fails at
// once, which is all this test needs (the run is recorded with its type).
type unreachableBraze struct{}

var errDown = errors.New("braze is down (test)")

func (unreachableBraze) FindSegment(context.Context, string) (braze.Segment, error) {
	return braze.Segment{}, errDown
}

func (unreachableBraze) ExportSegment(context.Context, braze.ExportSegmentRequest) (braze.ExportSegmentResult, error) {
	return braze.ExportSegmentResult{}, errDown
}

func (unreachableBraze) WaitExport(context.Context, string, func() (io.WriteCloser, error), braze.Backoff) (int64, error) {
	return 0, errDown
}

// TestScheduleFullEvery: the scheduled syncs are incremental, and a full
// re-export once FullEvery has passed (connectors.braze.sync.users.full_every
// acts in the extractor service, as in tajo run); a start is not a full one.
func TestScheduleFullEvery(t *testing.T) {
	_, nc, js := natsxtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(js, unreachableBraze{}, st, Config{FieldsToExport: []string{"external_id"}, FullEvery: 500 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.Run(runCtx, nc, 100*time.Millisecond) }()

	var order []string
	seen := map[string]bool{}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && len(order) < 12; time.Sleep(10 * time.Millisecond) {
		r, err := st.LastRun(ctx, Resource)
		if err != nil || seen[r.ID] {
			continue
		}
		seen[r.ID] = true
		order = append(order, r.Type)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(order) < 8 {
		t.Fatalf("only %d scheduled syncs seen: %v", len(order), order)
	}
	if order[0] != "incremental" {
		t.Errorf("first scheduled sync after start = %s, want incremental", order[0])
	}
	fulls := 0
	for k, typ := range order {
		if typ == "full" {
			fulls++
			if k > 0 && order[k-1] == "full" {
				t.Errorf("two full syncs in a row: %v", order)
			}
		}
	}
	if fulls == 0 {
		t.Errorf("no full re-export in %v (every 100ms, full every 500ms)", order)
	}
}

package dlq_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/dlq"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/proto"
)

// stage runs a real pipeline.Worker on raw.braze.users that dead-letters
// every line not starting with '{' until fixed is set, and records the
// headers of every message it handled.
type stage struct {
	fixed atomic.Bool
	mu    sync.Mutex
	seen  []nats.Header
	acked atomic.Int64
}

func runStage(t *testing.T, js jetstream.JetStream) *stage {
	t.Helper()
	st := &stage{}
	w, err := pipeline.NewWorker(js, pipeline.Config{
		Stream: proto.StreamRaw, Subject: proto.SubjectRawBrazeUsers, Stage: proto.StageTransformer,
		BatchWait: 10 * time.Millisecond,
	}, pipeline.HandlerFunc(func(_ context.Context, batch []*pipeline.Msg) []error {
		errs := make([]error, len(batch))
		for i, m := range batch {
			st.mu.Lock()
			st.seen = append(st.seen, m.Header)
			st.mu.Unlock()
			if !st.fixed.Load() && !strings.HasPrefix(string(m.Data), "{") {
				errs[i] = pipeline.Permanent("malformed_json", errors.New("not a JSON object"))
				continue
			}
			st.acked.Add(1)
		}
		return errs
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	return st
}

func (s *stage) last() nats.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen) == 0 {
		return nil
	}
	return s.seen[len(s.seen)-1]
}

func (s *stage) handled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

// waitLetters waits until the DLQ holds n letters and returns them.
func waitLetters(t *testing.T, ctx context.Context, js jetstream.JetStream, n int) []dlq.Item {
	t.Helper()
	var items []dlq.Item
	eventually(t, "dead letters", func() bool {
		var err error
		items, err = dlq.List(ctx, js, dlq.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(items) == n
	})
	return items
}

func TestReplayRoundTrip(t *testing.T) {
	ctx, js := start(t)
	st := runStage(t, js)

	m := nats.NewMsg(proto.SubjectRawBrazeUsers)
	m.Data = []byte("oops")
	m.Header.Set(proto.HeaderMsgID, "original-id")
	m.Header.Set(proto.HeaderRunID, "run-7")
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	first := waitLetters(t, ctx, js, 1)[0]
	if first.Letter.Stage != proto.StageTransformer || first.Letter.OriginalSubject != proto.SubjectRawBrazeUsers {
		t.Fatalf("first letter: %+v", first.Letter)
	}

	// Still bad: the replay goes back to raw.braze.users with attempt 1 and
	// a new id (the original's would be deduplicated away), and ends up in
	// the DLQ again as a new letter carrying the attempt.
	rep, err := dlq.ReplayFilter(ctx, js, dlq.Filter{Stage: "transformer"})
	if err != nil || len(rep.Failed) != 0 || rep.Total() != 1 || rep.Replayed[proto.SubjectRawBrazeUsers] != 1 {
		t.Fatalf("replay: %+v, %v", rep, err)
	}
	second := waitLetters(t, ctx, js, 1)[0]
	if second.ID == first.ID {
		t.Fatal("the replayed letter was not removed from the DLQ")
	}
	if _, err := dlq.Get(ctx, js, first.ID); !errors.Is(err, dlq.ErrNotFound) {
		t.Fatalf("replayed letter still there: %v", err)
	}
	h := st.last()
	if got := h.Get(dlq.HeaderReplayAttempt); got != "1" {
		t.Fatalf("replayed message attempt %q, want 1", got)
	}
	if h.Get(proto.HeaderRunID) != "run-7" || h.Get(proto.HeaderMsgID) == "original-id" {
		t.Fatalf("replayed headers: %v", h)
	}
	if got := second.Letter.Headers[dlq.HeaderReplayAttempt]; len(got) != 1 || got[0] != "1" {
		t.Fatalf("second letter headers %v", second.Letter.Headers)
	}

	// Replayed by id it counts on; once the stage is fixed the message is
	// handled and the DLQ is empty.
	st.fixed.Store(true)
	rep, err = dlq.Replay(ctx, js, []uint64{second.ID})
	if err != nil || rep.Total() != 1 || len(rep.Failed) != 0 {
		t.Fatalf("replay by id: %+v, %v", rep, err)
	}
	eventually(t, "the fixed stage to ack", func() bool { return st.acked.Load() == 1 })
	if got := st.last().Get(dlq.HeaderReplayAttempt); got != "2" {
		t.Fatalf("second replay attempt %q, want 2", got)
	}
	waitLetters(t, ctx, js, 0)
	if n := st.handled(); n != 3 {
		t.Fatalf("stage handled %d messages, want 3 (original and two replays)", n)
	}
}

func TestReplayReportsWhatItCouldNotDo(t *testing.T) {
	ctx, js := start(t)
	publish(t, ctx, js,
		letter{stage: "loader", reason: "x", data: "to-nowhere", subject: "nowhere.at.all"},
		letter{stage: "loader", reason: "x", data: "ok"}, // raw.braze.users: RAW stores it
	)
	items, err := dlq.List(ctx, js, dlq.Filter{})
	if err != nil || len(items) != 2 {
		t.Fatalf("list: %v %v", items, err)
	}
	const missing = 999
	rep, err := dlq.Replay(ctx, js, []uint64{items[0].ID, missing, items[1].ID})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total() != 1 || rep.Replayed[proto.SubjectRawBrazeUsers] != 1 || len(rep.Failed) != 2 {
		t.Fatalf("report %+v", rep)
	}
	if f := rep.Failed[0]; f.ID != items[0].ID || !strings.Contains(f.Err.Error(), "nowhere.at.all") {
		t.Fatalf("failure 0: %d %v", f.ID, f.Err)
	}
	if f := rep.Failed[1]; f.ID != missing || !errors.Is(f.Err, dlq.ErrNotFound) {
		t.Fatalf("failure 1: %d %v", f.ID, f.Err)
	}
	left, err := dlq.List(ctx, js, dlq.Filter{})
	if err != nil || len(left) != 1 || left[0].ID != items[0].ID {
		t.Fatalf("the letter that could not be published must stay: %v %v", left, err)
	}
	raw, err := js.Stream(ctx, proto.StreamRaw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := raw.GetLastMsgForSubject(ctx, proto.SubjectRawBrazeUsers)
	if err != nil || string(got.Data) != "ok" || got.Header.Get(dlq.HeaderReplayAttempt) != "1" || got.Header.Get("X-Test") != "1" {
		t.Fatalf("replayed message on RAW: %+v %v", got, err)
	}
}

func TestReplayFilterStopsAtLimitAndSkipsNewLetters(t *testing.T) {
	ctx, js := start(t)
	st := runStage(t, js) // dead-letters every replay again
	publish(t, ctx, js, mixed...)
	rep, err := dlq.ReplayFilter(ctx, js, dlq.Filter{Stage: "transformer", Limit: 2})
	if err != nil || rep.Total() != 2 {
		t.Fatalf("replay with limit: %+v %v", rep, err)
	}
	eventually(t, "two replays handled", func() bool { return st.handled() == 2 })
	waitLetters(t, ctx, js, len(mixed))
	// Everything: the letters dead-lettered again while it runs are not
	// replayed a second time by the same call.
	rep, err = dlq.ReplayFilter(ctx, js, dlq.Filter{Stage: "transformer"})
	if err != nil || rep.Total() != 4 {
		t.Fatalf("replay of the transformer's letters: %+v %v", rep, err)
	}
}

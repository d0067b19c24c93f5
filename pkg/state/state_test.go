package state_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
)

func newStore(t *testing.T) (*state.Store, jetstream.JetStream) {
	t.Helper()
	_, _, js := natsxtest.Start(t)
	s, err := state.NewStore(context.Background(), js)
	if err != nil {
		t.Fatal(err)
	}
	return s, js
}

func TestRuns(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if _, err := s.GetRun(ctx, "nope"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("GetRun of a missing run = %v, want ErrNotFound", err)
	}
	if _, err := s.LastRun(ctx, "users"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("LastRun with none = %v, want ErrNotFound", err)
	}
	r := &proto.SyncRun{ID: state.NewID(), Resource: "users", Type: "full", Status: proto.RunRunning, StartedAt: 1}
	if err := s.PutRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLastRun(ctx, "users", r.ID); err != nil {
		t.Fatal(err)
	}
	r.Status, r.Exported = proto.RunExported, 1000
	if err := s.PutRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := s.LastRun(ctx, "users")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != r.ID || got.Status != proto.RunExported || got.Exported != 1000 || got.V != proto.SchemaVersion {
		t.Fatalf("LastRun = %+v", got)
	}
}

func TestCursors(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if v, err := s.GetCursor(ctx, "brevo.contacts"); err != nil || v != "" {
		t.Fatalf("unset cursor = %q, %v; want empty, nil", v, err)
	}
	if err := s.PutCursor(ctx, "brevo.contacts", "2026-11-28T13:00:00Z"); err != nil {
		t.Fatal(err)
	}
	if v, err := s.GetCursor(ctx, "brevo.contacts"); err != nil || v != "2026-11-28T13:00:00Z" {
		t.Fatalf("cursor = %q, %v", v, err)
	}
}

func TestDrained(t *testing.T) {
	s, js := newStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cons, err := js.CreateOrUpdateConsumer(ctx, proto.StreamRaw, jetstream.ConsumerConfig{
		Durable: "d", FilterSubject: "raw.test.d", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	check := func(want bool, when string) {
		t.Helper()
		got, err := s.Drained(ctx, js, proto.StreamRaw, "d")
		if err != nil || got != want {
			t.Fatalf("%s: Drained = %v, %v; want %v", when, got, err, want)
		}
	}
	check(true, "empty")
	for i := range 2 {
		if _, err := js.Publish(ctx, "raw.test.d", fmt.Appendf(nil, "%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	check(false, "pending")
	batch, err := cons.FetchNoWait(2)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if len(msgs) != 2 {
		t.Fatalf("fetched %d", len(msgs))
	}
	check(false, "delivered, unacked")
	if err := msgs[0].NakWithDelay(time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := msgs[1].DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}
	check(false, "one waiting for a delayed redelivery")
	if _, err := s.Drained(ctx, js, proto.StreamRaw, "missing"); err == nil {
		t.Fatal("Drained of a missing consumer: want error")
	}
}

func TestNewIDIsSortableAndUnique(t *testing.T) {
	re := regexp.MustCompile(`^\d{8}T\d{6}Z-[0-9a-f]{6}$`)
	seen := map[string]bool{}
	for range 100 {
		id := state.NewID()
		if !re.MatchString(id) || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}

// Every process of an install gets the same secret, made once, and two
// secrets differ.
func TestSecretIsSharedAndUnguessable(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := st.Secret(ctx, "brevo.notify")
			if err != nil {
				t.Error(err)
			}
			got[i] = s
		}()
	}
	wg.Wait()
	for _, s := range got {
		if s != got[0] || len(s) != 64 {
			t.Fatalf("secrets %v: want one 64-hex-digit secret for everyone", got)
		}
	}
	other, err := st.Secret(ctx, "other")
	if err != nil || other == got[0] {
		t.Fatalf("another secret: %q, %v", other, err)
	}
}

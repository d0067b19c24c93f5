package loader_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/loader"
)

// gateBrevo is Brevo's events API at the edge: it records every event
// written (by ext_id, which the test sets to the event's id) and holds the
// first CreateEvents call until released.
type gateBrevo struct {
	entered, release chan struct{}
	once             sync.Once

	mu      sync.Mutex
	written map[string]int
}

func (g *gateBrevo) CreateEvents(ctx context.Context, evs []brevo.Event) (brevo.EventResult, error) {
	first := false
	g.once.Do(func() { first = true })
	if first {
		close(g.entered)
		select {
		case <-g.release:
		case <-ctx.Done():
			return brevo.EventResult{}, ctx.Err()
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, e := range evs {
		g.written[e.ExtID]++
	}
	return brevo.EventResult{}, nil
}

func (g *gateBrevo) CreateEvent(ctx context.Context, e brevo.Event) error {
	_, err := g.CreateEvents(ctx, []brevo.Event{e})
	return err
}

func (g *gateBrevo) UpsertContact(context.Context, brevo.Contact) (bool, error) { return false, nil }

// TestEventsConcurrentBatchesWriteAnIDOnce: with batches handled at once,
// an event id one batch is writing is not written by another batch (a
// re-send racing the first delivery): that one is retried, and on its
// retry the seen-set has it. Each id reaches Brevo once; the counter
// counts each once.
func TestEventsConcurrentBatchesWriteAnIDOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _, js := natsxtest.Start(t)
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	bv := &gateBrevo{entered: make(chan struct{}), release: make(chan struct{}), written: map[string]int{}}
	w, err := loader.NewEvents(ctx, js, bv, st.KeyValue(), loader.EventsConfig{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	msg := func(id string) *pipeline.Msg {
		data, err := proto.Encode(&proto.BrevoEvent{V: proto.SchemaVersion, ID: id, Name: "email_opened", ExtID: id})
		if err != nil {
			t.Fatal(err)
		}
		return &pipeline.Msg{Subject: proto.SubjectOpsBrevoEvents, Data: data, NumDelivered: 1}
	}
	first := make(chan []error, 1)
	go func() { first <- w.HandleBatch(ctx, []*pipeline.Msg{msg("x"), msg("y")}) }()
	select {
	case <-bv.entered:
	case <-ctx.Done():
		t.Fatal("the first batch never called Brevo")
	}
	// x is being written by the first batch: retried, not written; z is.
	errs := w.HandleBatch(ctx, []*pipeline.Msg{msg("x"), msg("z")})
	var perm *pipeline.PermanentError
	if errs[0] == nil || errors.As(errs[0], &perm) {
		t.Fatalf("x, being written by another batch, got %v; want a retryable error", errs[0])
	}
	if errs[1] != nil {
		t.Fatalf("z: %v", errs[1])
	}
	close(bv.release)
	for i, err := range <-first {
		if err != nil {
			t.Fatalf("first batch, event %d: %v", i, err)
		}
	}
	// The retry: x is in the seen-set now.
	for i, err := range w.HandleBatch(ctx, []*pipeline.Msg{msg("x"), msg("z")}) {
		if err != nil {
			t.Fatalf("retry, event %d: %v", i, err)
		}
	}
	bv.mu.Lock()
	defer bv.mu.Unlock()
	for _, id := range []string{"x", "y", "z"} {
		if bv.written[id] != 1 {
			t.Fatalf("Brevo got %s %d times, want once (all: %v)", id, bv.written[id], bv.written)
		}
	}
	if n, err := loader.EventsProcessed(ctx, st.KeyValue()); err != nil || n != 3 {
		t.Fatalf("eventsProcessed = %d, %v; want 3", n, err)
	}
	bv.mu.Unlock()
	// Another replica moves the counter: this one's next count, from a
	// revision no longer the last, still adds up.
	w2, err := loader.NewEvents(ctx, js, bv, st.KeyValue(), loader.EventsConfig{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []*loader.Events{w2, w} {
		for i, err := range h.HandleBatch(ctx, []*pipeline.Msg{msg("r" + time.Now().String())}) {
			if err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
		}
	}
	bv.mu.Lock()
	if n, err := loader.EventsProcessed(ctx, st.KeyValue()); err != nil || n != 5 {
		t.Fatalf("eventsProcessed = %d, %v; want 5 after a replica's count", n, err)
	}
}

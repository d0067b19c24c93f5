package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/proto"
)

// A producer ahead of its consumer by more than the backlog's bound waits:
// Wait returns only once the consumer has taken enough that three quarters
// of the bound are left, and at once while the consumer keeps up. A
// consumer that does not exist yet holds nothing back.
func TestBacklogHoldsTheProducerBack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js := setup(t)

	const durable = "backlog-test"
	b := pipeline.NewBacklog(js, proto.StreamRaw, durable, 40, nil)
	publishN(t, js, testSubject, 60, 10)
	if err := b.Wait(ctx); err != nil {
		t.Fatalf("no consumer yet: %v, want Wait to return at once", err)
	}

	cons := natsxtest.Durable(t, js, proto.StreamRaw, durable, testSubject)
	waited := make(chan error, 1)
	b = pipeline.NewBacklog(js, proto.StreamRaw, durable, 40, nil)
	go func() { waited <- b.Wait(ctx) }()

	// 60 waiting, over the bound: Wait holds on while the consumer takes 15
	// (45 left), and returns once it has taken 30 (30 left, three quarters
	// of 40).
	natsxtest.Take(t, ctx, cons, 15)
	select {
	case err := <-waited:
		t.Fatalf("Wait returned (%v) with 45 waiting, over the bound of 40", err)
	case <-time.After(time.Second):
	}
	natsxtest.Take(t, ctx, cons, 15)
	select {
	case err := <-waited:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait still holding on with 30 waiting, three quarters of the bound")
	}

	// Caught up: no wait at all.
	start := time.Now()
	if err := b.Wait(ctx); err != nil || time.Since(start) > time.Second {
		t.Fatalf("Wait with the consumer caught up: %v after %s", err, time.Since(start))
	}

	// A cancelled producer stops waiting.
	publishN(t, js, testSubject, 60, 10) // (ids repeat: deduplicated, so 30 + 0 new)
	cctx, ccancel := context.WithCancel(ctx)
	ccancel()
	if err := pipeline.NewBacklog(js, proto.StreamRaw, durable, 10, nil).Wait(cctx); err == nil {
		t.Fatal("Wait on a cancelled context returned nil")
	}
}

package extractor

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// keepLease, as the schedule and the segments mirror (keepLeading) use it:
// a lease taken over is given up (lost called, reported true) once it
// could not be refreshed for half its ttl; a lease kept until the context
// ends is not reported lost.
func TestKeepLease(t *testing.T) {
	ctx, _, st := startStore(t, 30*time.Second)
	const ttl = 400 * time.Millisecond
	log := slog.New(slog.DiscardHandler)

	// A longer ttl here: refreshes that a busy machine slows must not
	// lose it.
	const keptTTL = 2 * time.Second
	held, err := st.AcquireLease(ctx, "kept", "a", keptTTL)
	if err != nil {
		t.Fatal(err)
	}
	kctx, stop := context.WithCancel(ctx)
	lost := keepLeading(kctx, stop, held, keptTTL, log)
	time.Sleep(keptTTL * 3 / 5) // two refreshes
	stop()
	if <-lost {
		t.Error("a lease kept until its context ended was reported lost")
	}

	taken, err := st.AcquireLease(ctx, "taken", "a", ttl)
	if err != nil {
		t.Fatal(err)
	}
	if err := taken.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AcquireLease(ctx, "taken", "b", ttl); err != nil {
		t.Fatal(err)
	}
	lctx, stepDown := context.WithCancel(ctx)
	defer stepDown()
	start := time.Now()
	select {
	case wasLost := <-keepLeading(lctx, stepDown, taken, ttl, log):
		if !wasLost || lctx.Err() == nil {
			t.Errorf("a lease taken over: lost %v, context %v; want lost and the context cancelled", wasLost, lctx.Err())
		}
		if d := time.Since(start); d < ttl/2 {
			t.Errorf("gave the lease up after %s, before half its ttl", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a lease taken over was not given up within 10s")
	}
}

package natsxtest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Durable creates (or finds) a pull consumer that acknowledges explicitly,
// as a stage's worker would: a test plays that stage with Take.
func Durable(t testing.TB, js jetstream.JetStream, stream, durable, subject string) jetstream.Consumer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
		Durable: durable, FilterSubject: subject, AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		t.Fatalf("creating consumer %s on %s: %v", durable, stream, err)
	}
	return c
}

// SettledPending waits until c's undelivered messages stop changing (the
// same non-zero count for two seconds, read every 200 ms) and returns
// them: what a producer held back by c has published.
func SettledPending(t testing.TB, ctx context.Context, c jetstream.Consumer) uint64 {
	t.Helper()
	var last uint64
	for stable := 0; stable < 10; {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for the pending count of %s to settle: %v (last %d)", c.CachedInfo().Name, ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
		info, err := c.Info(ctx)
		if err != nil {
			t.Fatalf("reading consumer %s: %v", c.CachedInfo().Name, err)
		}
		if n := info.NumPending; n == last && n > 0 {
			stable++
		} else {
			last, stable = n, 0
		}
	}
	return last
}

// Take fetches and acknowledges n messages from c, in fetches of at most
// 1,000, as the stage behind it would.
func Take(t testing.TB, ctx context.Context, c jetstream.Consumer, n int) {
	t.Helper()
	for taken := 0; taken < n; {
		if ctx.Err() != nil {
			t.Fatalf("took %d of %d messages: %v", taken, n, ctx.Err())
		}
		batch, err := c.Fetch(min(n-taken, 1000), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatalf("fetching from %s: %v", c.CachedInfo().Name, err)
		}
		for m := range batch.Messages() {
			if err := m.Ack(); err != nil {
				t.Fatalf("acknowledging: %v", err)
			}
			taken++
		}
	}
}

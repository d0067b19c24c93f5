package natsxtest

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/proto"
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

// Take fetches and acknowledges messages from c carrying n items (a pack
// of pkg/pipeline counts as its items, another message as one), in fetches
// of at most 1,000, as the stage behind it would.
func Take(t testing.TB, ctx context.Context, c jetstream.Consumer, n int) {
	t.Helper()
	for taken := 0; taken < n; {
		if ctx.Err() != nil {
			t.Fatalf("took %d of %d items: %v", taken, n, ctx.Err())
		}
		batch, err := c.Fetch(min(n-taken, 1000), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatalf("fetching from %s: %v", c.CachedInfo().Name, err)
		}
		for m := range batch.Messages() {
			if err := m.Ack(); err != nil {
				t.Fatalf("acknowledging: %v", err)
			}
			taken += Items(m.Headers())
		}
	}
}

// Items is how many items a message carries: a pack's count (its
// proto.HeaderPack), else 1.
func Items(h nats.Header) int {
	if n, err := strconv.Atoi(h.Get(proto.HeaderPack)); err == nil && n > 0 {
		return n
	}
	return 1
}

// StreamItems counts the items (see Items) of the messages on subject in
// stream with a sequence above after (one read a message: for tests'
// streams), and returns the last sequence read.
func StreamItems(t testing.TB, ctx context.Context, js jetstream.JetStream, stream, subject string, after uint64) (items int, last uint64) {
	t.Helper()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("opening stream %s: %v", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("reading stream %s: %v", stream, err)
	}
	last = max(after, info.State.LastSeq)
	if info.State.LastSeq <= after {
		return 0, last
	}
	for seq := after + 1; seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound):
			continue // acknowledged off a work queue, or deleted
		case err != nil:
			t.Fatalf("reading message %d of stream %s: %v", seq, stream, err)
		}
		if m.Subject == subject {
			items += Items(m.Header)
		}
	}
	return items, last
}

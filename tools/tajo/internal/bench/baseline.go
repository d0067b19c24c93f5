package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Baseline moves n messages through two JetStream hops with no work between
// them: publish to stream A; consume A, publish each message to stream B and
// ack it once B confirmed; consume and ack B. It returns messages per second
// from the first publish to the last ack.
func Baseline(ctx context.Context, nc *nats.Conn, n int, payload func(i int) []byte) (float64, error) {
	// One JetStream context per role: each tracks its own async publishes,
	// up to twice the window publish keeps in flight (the default, 4,000, is
	// below the window: a slow ack would stall the publisher into an error).
	var jss [3]jetstream.JetStream
	for i := range jss {
		js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(2*window))
		if err != nil {
			return 0, err
		}
		jss[i] = js
	}
	js := jss[0]
	for _, s := range []string{"BENCH_A", "BENCH_B"} {
		_ = js.DeleteStream(ctx, s)
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
			Name: s, Subjects: []string{"bench." + s}, Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage,
		}); err != nil {
			return 0, fmt.Errorf("creating baseline stream %s: %w", s, err)
		}
		defer js.DeleteStream(context.WithoutCancel(ctx), s)
	}
	start := time.Now()
	errc := make(chan error, 3)
	go func() { errc <- publish(ctx, jss[0], "bench.BENCH_A", n, payload) }()
	go func() { errc <- hop(ctx, jss[1], "BENCH_A", n, "bench.BENCH_B") }()
	go func() { errc <- hop(ctx, jss[2], "BENCH_B", n, "") }()
	for range 3 {
		if err := <-errc; err != nil {
			return 0, err
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

const window = 4096

func publish(ctx context.Context, js jetstream.JetStream, subject string, n int, payload func(int) []byte) error {
	for i := range n {
		if _, err := js.PublishAsync(subject, payload(i), jetstream.WithStallWait(time.Minute)); err != nil {
			return fmt.Errorf("baseline publish: %w", err)
		}
		if js.PublishAsyncPending() >= window {
			select {
			case <-js.PublishAsyncComplete():
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	select {
	case <-js.PublishAsyncComplete():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// hop consumes n messages from stream, republishing each to next (when set)
// before acking it.
func hop(ctx context.Context, js jetstream.JetStream, stream string, n int, next string) error {
	c, err := js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
		Durable: "bench", AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 4 * window,
	})
	if err != nil {
		return fmt.Errorf("baseline consumer on %s: %w", stream, err)
	}
	got := 0
	for got < n {
		batch, err := c.Fetch(500, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return fmt.Errorf("baseline fetch from %s: %w", stream, err)
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("baseline fetch from %s: %w", stream, err)
		}
		if next != "" {
			futs := make([]jetstream.PubAckFuture, 0, len(msgs))
			for _, m := range msgs {
				f, err := js.PublishAsync(next, m.Data(), jetstream.WithStallWait(time.Minute))
				if err != nil {
					return fmt.Errorf("baseline republish: %w", err)
				}
				futs = append(futs, f)
			}
			for _, f := range futs {
				select {
				case <-f.Ok():
				case err := <-f.Err():
					return fmt.Errorf("baseline republish: %w", err)
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		for _, m := range msgs {
			if err := m.Ack(); err != nil {
				return fmt.Errorf("baseline ack: %w", err)
			}
		}
		got += len(msgs)
	}
	return nil
}

// PublishConsume moves n messages through one bare JetStream hop: publish
// to a stream while a consumer takes and acks them. It returns messages
// per second from the first publish to the last ack: the baseline of the
// events line, whose messages the gateway publishes once and the pipeline
// takes off the bus.
func PublishConsume(ctx context.Context, nc *nats.Conn, n int, payload func(i int) []byte) (float64, error) {
	var jss [2]jetstream.JetStream
	for i := range jss {
		js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(2*window))
		if err != nil {
			return 0, err
		}
		jss[i] = js
	}
	const name = "BENCH_EVENTS"
	_ = jss[0].DeleteStream(ctx, name)
	if _, err := jss[0].CreateStream(ctx, jetstream.StreamConfig{
		Name: name, Subjects: []string{"bench." + name}, Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage,
	}); err != nil {
		return 0, fmt.Errorf("creating baseline stream %s: %w", name, err)
	}
	defer jss[0].DeleteStream(context.WithoutCancel(ctx), name)
	start := time.Now()
	errc := make(chan error, 2)
	go func() { errc <- publish(ctx, jss[0], "bench."+name, n, payload) }()
	go func() { errc <- hop(ctx, jss[1], name, n, "") }()
	for range 2 {
		if err := <-errc; err != nil {
			return 0, err
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Backlog holds a producer back while the consumer it feeds is too far
// behind: a stage that outruns the next would otherwise fill the work
// stream with everything it can produce (a whole export), and the server
// would keep the freshly written blocks of it in memory. With a Backlog,
// what waits in a work stream is bounded by High, not by the user count.
//
// Wait reads the consumer's messages not yet delivered (NumPending: what
// it holds, delivered and unacknowledged, is bounded by its own
// max_ack_pending; one request, made once per batch or per thousands of
// lines), and while they exceed High, waits until they are back to three
// quarters of it, reading them again every poll. It never fails the
// producer: a consumer that does not exist yet, or a server that does not
// answer, holds nothing back (the stream keeps what is published).
type Backlog struct {
	js      jetstream.JetStream
	stream  string
	durable string
	high    uint64
	poll    time.Duration
	log     *slog.Logger
	mu      sync.Mutex // one check at a time; producers waiting together wait for the same thing
	cons    jetstream.Consumer
	waited  time.Duration // in total, for the log
}

// NewBacklog bounds what waits for durable on stream to high messages
// (0: no bound; Wait returns at once).
func NewBacklog(js jetstream.JetStream, stream, durable string, high int, log *slog.Logger) *Backlog {
	if log == nil {
		log = slog.Default()
	}
	return &Backlog{js: js, stream: stream, durable: durable, high: uint64(max(high, 0)),
		poll: 200 * time.Millisecond, log: log}
}

// Wait returns once the consumer's undelivered messages are at most High,
// or ctx's error.
func (b *Backlog) Wait(ctx context.Context) error {
	if b == nil || b.high == 0 {
		return ctx.Err()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	pending, ok := b.pending(ctx)
	if !ok || pending <= b.high {
		return ctx.Err()
	}
	start := time.Now()
	resume := b.high * 3 / 4
	for pending > resume {
		if !sleep(ctx, b.poll) {
			return ctx.Err()
		}
		if pending, ok = b.pending(ctx); !ok {
			break
		}
	}
	b.waited += time.Since(start)
	b.log.Debug("waited for the next stage to catch up", "stream", b.stream, "consumer", b.durable,
		"waited", time.Since(start), "in_total", b.waited)
	return ctx.Err()
}

// pending reads the consumer's undelivered messages; ok false when it
// cannot be read.
func (b *Backlog) pending(ctx context.Context) (uint64, bool) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if b.cons == nil {
		c, err := b.js.Consumer(ctx, b.stream, b.durable)
		if err != nil {
			if !errors.Is(err, jetstream.ErrConsumerNotFound) && ctx.Err() == nil {
				b.log.Debug("reading the next stage's backlog", "error", fmt.Errorf("consumer %s/%s: %w", b.stream, b.durable, err))
			}
			return 0, false
		}
		b.cons = c
	}
	info, err := b.cons.Info(ctx)
	if err != nil {
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			b.cons = nil
		}
		return 0, false
	}
	return info.NumPending, true
}

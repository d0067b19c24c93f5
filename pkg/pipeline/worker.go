package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Worker consumes one durable pull consumer and runs a Handler over its
// messages in batches. Create it with NewWorker and Run it once.
type Worker struct {
	js   jetstream.JetStream
	cfg  Config
	h    Handler
	cons jetstream.Consumer
	pol  policy
	log  *slog.Logger
	// finished counts the batches handlers finished, dispatched those the
	// session handed out (only the session, one at a time, touches it):
	// their difference is exactly the busy handlers. freed wakes the
	// session when a handler finishes (batcher.go).
	finished   atomic.Int64
	dispatched int64
	freed      chan struct{}
	streamCache
	// packs remembers the items settled of the packs asked for again (pack.go).
	packs packMemo
	// msgSpanName names the spans of the messages on cfg.Subject.
	msgSpanName string

	running atomic.Bool
}

// NewWorker validates cfg and creates or updates the durable pull consumer
// it describes. Replicas calling it with the same Config share the consumer.
// It waits on the server at most 10s.
func NewWorker(js jetstream.JetStream, cfg Config, h Handler) (*Worker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, fmt.Errorf("pipeline worker for stage %q: handler is nil", cfg.Stage)
	}
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cons, err := ensureConsumer(ctx, js, cfg)
	if err != nil {
		return nil, err
	}
	return &Worker{
		js: js, cfg: cfg, h: h, cons: cons, msgSpanName: cfg.Stage + " " + cfg.Subject,
		pol:   policy{maxDeliver: cfg.MaxDeliver, backoff: cfg.Backoff, rand: rand.Float64},
		freed: make(chan struct{}, 1),
		log:   cfg.Logger.With("stage", cfg.Stage, "durable", cfg.Durable),
	}, nil
}

// ConsumerConfig is the durable consumer a Worker with cfg uses.
func ConsumerConfig(cfg Config) jetstream.ConsumerConfig {
	cfg = cfg.withDefaults()
	return jetstream.ConsumerConfig{
		Durable:       cfg.Durable,
		Description:   "tajo " + cfg.Stage + " workers",
		FilterSubject: cfg.Subject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		// The runtime dead-letters at cfg.MaxDeliver; the server must never
		// drop a message on its own.
		MaxDeliver:    -1,
		MaxAckPending: packsOf(cfg.MaxAckPending, cfg.PackItems),
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
}

func ensureConsumer(ctx context.Context, js jetstream.JetStream, cfg Config) (jetstream.Consumer, error) {
	cons, err := js.CreateOrUpdateConsumer(ctx, cfg.Stream, ConsumerConfig(cfg))
	if err != nil {
		return nil, fmt.Errorf("creating consumer %s on stream %s (filter %s): %w", cfg.Durable, cfg.Stream, cfg.Subject, err)
	}
	return cons, nil
}

// Durable is the name of the consumer the worker reads.
func (w *Worker) Durable() string { return w.cfg.Durable }

// Run fetches and handles messages until ctx is cancelled. Then it stops
// fetching, naks what it fetched but had not started, waits up to
// DrainTimeout for in-flight batches to be handled and settled, and
// returns nil. It returns an error only if consuming cannot go on (the
// connection was closed).
func (w *Worker) Run(ctx context.Context) error {
	if !w.running.CompareAndSwap(false, true) {
		return fmt.Errorf("pipeline worker %s: Run called twice; create a Worker per Run", w.cfg.Durable)
	}
	// Handlers outlive ctx by up to DrainTimeout so in-flight work finishes.
	hctx, hcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hcancel()

	batches := make(chan []*Msg)
	var wg sync.WaitGroup
	for range w.cfg.Concurrency {
		wg.Go(func() {
			for b := range batches {
				w.handle(hctx, b)
				w.finished.Add(1)
				select {
				case w.freed <- struct{}{}:
				default: // a wake-up is pending already
				}
			}
		})
	}
	w.log.Info("worker started", "subject", w.cfg.Subject, "concurrency", w.cfg.Concurrency, "batch_size", w.cfg.BatchSize)

	err := w.fetch(ctx, batches)
	close(batches)

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(w.cfg.DrainTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		w.log.Warn("in-flight batches outlived the drain timeout; cancelling them", "drain_timeout", w.cfg.DrainTimeout)
		hcancel()
		<-done
	}
	// Acks are fire-and-forget: make sure the server has them before
	// reporting the batches finished.
	if ferr := w.js.Conn().FlushTimeout(5 * time.Second); ferr != nil && err == nil {
		w.log.Warn("flushing acks at shutdown failed; unacked messages return after ack_wait", "error", ferr)
	}
	w.log.Info("worker stopped")
	return err
}

// fetch runs fetch sessions until ctx is done. A session ends when ctx is
// done, when the worker is paused, or when the message iterator fails.
func (w *Worker) fetch(ctx context.Context, batches chan<- []*Msg) error {
	failures := 0
	for {
		if err := w.waitUnpaused(ctx); err != nil {
			return nil
		}
		err := w.session(ctx, batches)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, jetstream.ErrConnectionClosed):
			return fmt.Errorf("consuming %s/%s: %w", w.cfg.Stream, w.cfg.Durable, err)
		case err != nil:
			failures++
			w.log.Warn("consuming failed; recreating the consumer", "error", err, "failures", failures)
			if !sleep(ctx, w.pol.backoff.delay(uint64(failures), rand.Float64)) {
				return nil
			}
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			cons, cerr := ensureConsumer(cctx, w.js, w.cfg)
			cancel()
			if cerr != nil {
				w.log.Warn("recreating consumer failed", "error", cerr)
				continue
			}
			w.cons = cons
		default:
			failures = 0
		}
	}
}

// waitUnpaused returns nil once Paused reports false, or ctx's error.
func (w *Worker) waitUnpaused(ctx context.Context) error {
	if w.cfg.Paused == nil || !w.cfg.Paused() {
		return ctx.Err()
	}
	w.log.Info("paused: not fetching")
	t := time.NewTicker(w.cfg.PausePoll)
	defer t.Stop()
	for w.cfg.Paused() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	w.log.Info("resumed")
	return ctx.Err()
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

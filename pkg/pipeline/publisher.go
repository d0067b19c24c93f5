package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/telemetry"
	"github.com/tajo-sync/tajo/proto"
)

// DefaultAckTimeout is how long a Publisher waits for the stream to
// acknowledge one publish before it counts it as failed.
const DefaultAckTimeout = 30 * time.Second

// Publisher publishes asynchronously to JetStream with at most maxPending
// publishes awaiting their acknowledgement, and reports failures on Flush.
//
// It is safe for concurrent use, but Flush reports on every publish made
// before it by any goroutine and clears the failure it returns: a handler
// that must know its own outputs were stored (to ack its inputs only then)
// uses a Publisher of its own, e.g. one per batch. A Publisher starts no
// goroutine and needs no Close, so one per batch is cheap.
type Publisher struct {
	js         jetstream.JetStream
	slots      chan struct{} // one token per un-acked publish
	AckTimeout time.Duration // per publish; default DefaultAckTimeout

	mu      sync.Mutex
	pending []*pubEntry // in publish order; resolved entries are trimmed from the front
	err     error       // first failure since the last Flush

	pack    int                  // items a pack holds (pack.go); 0: no packs
	packMu  sync.Mutex           // guards packs and scratch
	packs   map[string]*openPack // by subject
	scratch []byte               // where a pack is encoded (pack.go)
}

type pubEntry struct {
	p        *Publisher
	f        jetstream.PubAckFuture
	subject  string
	msgID    string
	deadline time.Time

	once sync.Once
	done chan struct{}
	err  error
}

// NewPublisher returns a Publisher allowing maxPending un-acked publishes
// (default 4096 when maxPending <= 0).
func NewPublisher(js jetstream.JetStream, maxPending int) *Publisher {
	if maxPending <= 0 {
		maxPending = 4096
	}
	return &Publisher{js: js, slots: make(chan struct{}, maxPending), AckTimeout: DefaultAckTimeout}
}

// natsTraceOff is the value of telemetry.NATSTraceOff's header, shared by
// every message (nats.go only reads it).
var natsTraceOff = []string{telemetry.NATSTraceOff[1]}

// Publish sends data to subject with Nats-Msg-Id msgID (when not empty) and
// the headers hdr (not modified; with a traceparent, telemetry.NATSTraceOff
// is added) without waiting for the stream's
// acknowledgement. It blocks while maxPending publishes are un-acked. A
// returned error means the message was not sent; a failure to store it is
// reported by the next Flush.
func (p *Publisher) Publish(ctx context.Context, subject string, msgID string, hdr nats.Header, data []byte) error {
	m := &nats.Msg{Subject: subject, Data: data, Header: make(nats.Header, len(hdr)+1)}
	for k, v := range hdr {
		m.Header[k] = v
	}
	if msgID != "" {
		m.Header.Set(proto.HeaderMsgID, msgID)
	}
	if _, traced := hdr[traceparent]; traced {
		m.Header[telemetry.NATSTraceOff[0]] = natsTraceOff
	}
	if err := checkSize(p.js.Conn(), m); err != nil {
		return fmt.Errorf("publishing to %s (msg id %s): %w", subject, msgID, err)
	}
	if p.pack > 0 {
		p.packMu.Lock()
		defer p.packMu.Unlock()
		return p.add(ctx, m, msgID)
	}
	return p.publish(ctx, m, msgID)
}

// publish sends m without waiting for its acknowledgement (see Publish).
func (p *Publisher) publish(ctx context.Context, m *nats.Msg, msgID string) error {
	subject := m.Subject
	if err := p.acquire(ctx); err != nil {
		return fmt.Errorf("publishing to %s (msg id %s): %w", subject, msgID, err)
	}
	for {
		f, err := p.js.PublishMsgAsync(m)
		if err == nil {
			p.track(&pubEntry{p: p, f: f, subject: subject, msgID: msgID, deadline: time.Now().Add(p.ackTimeout()), done: make(chan struct{})})
			return nil
		}
		// The connection's async window is shared with other publishers:
		// wait for our oldest publish (or a moment) and try again.
		if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) || !p.waitOldest(ctx) {
			<-p.slots
			if ctx.Err() != nil {
				err = errors.Join(err, ctx.Err())
			}
			return fmt.Errorf("publishing to %s (msg id %s): %w", subject, msgID, err)
		}
	}
}

// Flush waits until every publish made before it is acknowledged or has
// failed, and returns the first failure (naming its subject and msg id)
// since the previous Flush.
func (p *Publisher) Flush(ctx context.Context) error {
	if p.pack > 0 {
		p.packMu.Lock()
		err := p.sendPacks(ctx)
		p.packMu.Unlock()
		if err != nil && ctx.Err() != nil {
			return err
		}
	}
	p.mu.Lock()
	batch := append([]*pubEntry(nil), p.pending...)
	p.mu.Unlock()
	for _, e := range batch {
		if err := e.wait(ctx); err != nil {
			return fmt.Errorf("flushing %d publishes: %w", len(batch), err)
		}
	}
	p.trim()
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.err
	p.err = nil
	return err
}

// Pending is the number of publishes not yet known to be acknowledged.
func (p *Publisher) Pending() int { return len(p.slots) }

func (p *Publisher) ackTimeout() time.Duration {
	if p.AckTimeout <= 0 {
		return DefaultAckTimeout
	}
	return p.AckTimeout
}

// acquire takes a slot, waiting for the oldest publish when none is free.
func (p *Publisher) acquire(ctx context.Context) error {
	for {
		select {
		case p.slots <- struct{}{}:
			return nil
		default:
		}
		if !p.waitOldest(ctx) {
			select {
			case p.slots <- struct{}{}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// waitOldest waits for the oldest unresolved publish; false when there is
// none or ctx ended first.
func (p *Publisher) waitOldest(ctx context.Context) bool {
	p.mu.Lock()
	var e *pubEntry
	if len(p.pending) > 0 {
		e = p.pending[0]
	}
	p.mu.Unlock()
	if e == nil {
		return false
	}
	if e.wait(ctx) != nil {
		return false
	}
	p.trim()
	return true
}

func (p *Publisher) track(e *pubEntry) {
	p.mu.Lock()
	p.pending = append(p.pending, e)
	p.mu.Unlock()
}

// trim drops resolved entries from the front of the queue.
func (p *Publisher) trim() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.pending) > 0 && p.pending[0].isDone() {
		p.pending[0] = nil
		p.pending = p.pending[1:]
	}
}

// resolve records e's outcome exactly once: it frees e's slot and keeps the
// first failure for Flush.
func (e *pubEntry) resolve(err error) {
	e.once.Do(func() {
		if err != nil {
			e.err = fmt.Errorf("publishing to %s (msg id %s): %w", e.subject, e.msgID, err)
			e.p.mu.Lock()
			if e.p.err == nil {
				e.p.err = e.err
			}
			e.p.mu.Unlock()
		}
		close(e.done)
		<-e.p.slots
	})
}

// wait blocks until e is resolved (by this or another goroutine); it
// returns only ctx's error: e's outcome is kept by resolve.
func (e *pubEntry) wait(ctx context.Context) error {
	select {
	case <-e.done:
		return nil
	case <-e.f.Ok():
		e.resolve(nil)
		return nil
	case err := <-e.f.Err():
		e.resolve(err)
		return nil
	default:
	}
	t := time.NewTimer(time.Until(e.deadline))
	defer t.Stop()
	select {
	case <-e.done:
	case <-e.f.Ok():
		e.resolve(nil)
	case err := <-e.f.Err():
		e.resolve(err)
	case <-t.C:
		e.resolve(jetstream.ErrAsyncPublishTimeout)
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

func (e *pubEntry) isDone() bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// session pulls messages with one Messages iterator and cuts them into
// batches on batches until ctx is done (it then naks what it holds), the
// worker is paused (it then drains the iterator and dispatches what it
// held), or the iterator fails (it returns why).
//
// Every message received is held by the session until a handler takes it:
// in the batch being filled, or in a queue behind it while every handler is
// busy. The session reads the iterator eagerly (MaxAckPending bounds what
// the server delivers) and reports progress on everything it holds every
// AckWait/3: a message waiting behind a slow batch (a Brevo import can
// take minutes) must not be redelivered and handled twice.
func (w *Worker) session(ctx context.Context, batches chan<- []*Msg) error {
	it, err := w.cons.Messages(
		jetstream.PullMaxMessages(w.pullMax()),
		jetstream.WithMessagesErrOnMissingHeartbeat(false),
	)
	if err != nil {
		return fmt.Errorf("pulling from %s/%s: %w", w.cfg.Stream, w.cfg.Durable, err)
	}
	msgs := make(chan jetstream.Msg)
	errc := make(chan error, 1)
	go pump(it, msgs, errc)

	b := batcher{size: w.cfg.BatchSize, bytes: w.cfg.BatchBytes, wait: w.cfg.BatchWait, timer: time.NewTimer(time.Hour)}
	b.timer.Stop()
	defer b.timer.Stop()
	var queue []*Msg // received while the batch was full, oldest first
	refill := func() {
		for len(queue) > 0 && !b.full() {
			b.add(queue[0])
			queue[0] = nil
			queue = queue[1:]
		}
	}
	alive := time.NewTicker(w.cfg.AckWait / 3)
	defer alive.Stop()

	var pauseC <-chan time.Time
	if w.cfg.Paused != nil {
		t := time.NewTicker(w.cfg.PausePoll)
		defer t.Stop()
		pauseC = t.C
	}
	open, draining := true, false
	var sessionErr error
	for {
		if !open && b.empty() && len(queue) == 0 {
			return sessionErr
		}
		var in <-chan jetstream.Msg
		if open {
			in = msgs
		}
		var out chan<- []*Msg
		if b.ready || (!open && !b.empty()) {
			out = batches
		}
		select {
		case <-ctx.Done():
			if open {
				if !draining {
					it.Drain()
				}
				for m := range msgs {
					w.release(m)
				}
			}
			for _, m := range b.take() {
				w.release(m.m)
			}
			for _, m := range b.take() { // the held message, if any
				w.release(m.m)
			}
			for _, m := range queue {
				w.release(m.m)
			}
			return nil
		case m, ok := <-in:
			if !ok {
				open = false
				select {
				case sessionErr = <-errc:
				default:
				}
				continue
			}
			msg := newMsg(m)
			if w.cfg.Prepare != nil {
				msg.size = w.cfg.Prepare(msg)
			}
			if b.full() || len(queue) > 0 {
				queue = append(queue, msg)
			} else {
				b.add(msg)
			}
		case <-b.timer.C:
			b.ready, b.cause = true, FlushWait
		case out <- b.cur:
			if mt := w.cfg.Instruments.Meter; mt != nil {
				cause := b.cause
				if !b.ready {
					cause = FlushDrain
				}
				mt.Batch(w.cfg.Stage, len(b.cur), string(cause))
			}
			b.take()
			refill()
		case <-alive.C:
			b.keepAlive()
			for _, m := range queue {
				_ = m.m.InProgress() // fails only for a lost connection: the message returns after ack_wait
			}
		case <-pauseC:
			if open && !draining && w.cfg.Paused() {
				draining = true
				it.Drain()
			}
		}
	}
}

// release hands an unstarted message back for immediate redelivery,
// possibly to another replica.
func (w *Worker) release(m jetstream.Msg) {
	if err := m.Nak(); err != nil {
		w.log.Debug("nak of an unstarted message failed; it returns after ack_wait", "error", err)
	}
}

func (w *Worker) pullMax() int {
	return max(min(w.cfg.Concurrency*w.cfg.BatchSize*2, w.cfg.MaxAckPending), 1)
}

// pump moves messages from the iterator to msgs until the iterator closes.
// An error other than a close the worker asked for is sent on errc before
// msgs is closed.
func pump(it jetstream.MessagesContext, msgs chan<- jetstream.Msg, errc chan<- error) {
	defer close(msgs)
	for {
		m, err := it.Next()
		if err != nil {
			if !errors.Is(err, jetstream.ErrMsgIteratorClosed) || errors.Is(err, jetstream.ErrConnectionClosed) {
				errc <- err
			}
			it.Stop()
			return
		}
		msgs <- m
	}
}

// batcher accumulates one batch; ready says it should be dispatched
// (count, bytes or time reached). A message that would overflow the byte
// limit is held for the next batch.
type batcher struct {
	size, bytes int
	wait        time.Duration
	timer       *time.Timer

	cur      []*Msg
	curBytes int
	held     *Msg
	ready    bool
	cause    FlushCause // why ready, once ready
}

func (b *batcher) empty() bool { return len(b.cur) == 0 && b.held == nil }

// full reports that no message can be added before a dispatch.
func (b *batcher) full() bool { return b.held != nil || len(b.cur) >= b.size }

func (b *batcher) add(m *Msg) {
	n := m.size
	if len(b.cur) > 0 && b.curBytes+n > b.bytes {
		b.held = m
		b.ready, b.cause = true, FlushBytes
		return
	}
	b.cur = append(b.cur, m)
	b.curBytes += n
	if len(b.cur) == 1 {
		b.timer.Reset(b.wait)
	}
	switch {
	case len(b.cur) >= b.size:
		b.ready, b.cause = true, FlushCount
	case b.curBytes >= b.bytes:
		b.ready, b.cause = true, FlushBytes
	}
}

// keepAlive reports progress on the messages the batcher holds.
func (b *batcher) keepAlive() {
	for _, m := range b.cur {
		_ = m.m.InProgress()
	}
	if b.held != nil {
		_ = b.held.m.InProgress()
	}
}

// take returns the current batch and starts the next one with the held
// message, if any.
func (b *batcher) take() []*Msg {
	out := b.cur
	b.cur, b.curBytes, b.ready, b.cause = nil, 0, false, ""
	b.timer.Stop()
	if h := b.held; h != nil {
		b.held = nil
		b.add(h)
	}
	return out
}

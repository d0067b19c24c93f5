package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/proto"
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

	b := batcher{size: w.cfg.BatchSize, bytes: w.cfg.BatchBytes, wait: w.cfg.BatchWait, maxWait: w.cfg.BatchMaxWait,
		timer: time.NewTimer(time.Hour), runs: w.cfg.CaughtUp != nil}
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

	// A batch idle for quiet asks CaughtUp (Config) whether to go at once;
	// one question at a time, its answer on caught. The timer runs only
	// while a batch is held: armed at each message, again after a no.
	var quietC <-chan time.Time
	quiet := max(w.cfg.BatchWait/50, 10*time.Millisecond)
	quietT := time.NewTimer(time.Hour)
	quietT.Stop()
	defer quietT.Stop()
	if w.cfg.CaughtUp != nil {
		quietC = quietT.C
	}
	type answer struct {
		gen   uint64    // the batch asked about
		asked time.Time // when
		yes   bool
	}
	caught := make(chan answer, 1)
	asking := false
	// free says a handler can take a batch now (counted exactly, whatever
	// wake-ups were missed): one that finished may still be on its way back
	// to its receive, so a send waits for it.
	free := func() bool { return w.dispatched-w.finished.Load() < int64(w.cfg.Concurrency) }

	var pauseC <-chan time.Time
	if w.cfg.Paused != nil {
		t := time.NewTicker(w.cfg.PausePoll)
		defer t.Stop()
		pauseC = t.C
	}
	// dispatched records that b.cur was handed to a handler.
	dispatched := func(ready bool) {
		if mt := w.cfg.Instruments.Meter; mt != nil {
			cause := b.cause
			if !ready {
				cause = FlushDrain
			}
			mt.Batch(w.cfg.Stage, b.curWeight, string(cause))
		}
		b.take()
		w.dispatched++
		refill()
		if quietC != nil && !b.empty() {
			quietT.Reset(quiet)
		}
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
				w.release(m.acker())
			}
			for _, m := range b.take() { // the held message, if any
				w.release(m.acker())
			}
			for _, m := range queue {
				w.release(m.acker())
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
			for _, msg := range w.delivered(m) {
				if w.cfg.Prepare != nil {
					msg.size = w.cfg.Prepare(msg)
					if msg.Prepared != nil {
						w.compact(msg, m)
					}
				}
				if b.full() || len(queue) > 0 {
					queue = append(queue, msg)
				} else {
					b.add(msg)
				}
			}
			if quietC != nil {
				quietT.Reset(quiet)
			}
		case <-b.timer.C:
			// Waited long enough: dispatch at once if a handler is free.
			// With every handler busy the batch keeps filling, and once
			// one frees it waits BatchWait more (unless it fills first):
			// dispatched the instant a handler frees, a batch cut by time
			// would carry only what the consumer's pending limit let in
			// meanwhile (a loader's import half empty), while the acks of
			// the batch just done let the rest in at once.
			if free() {
				batches <- b.cur
				b.cause = FlushWait
				dispatched(true)
			} else {
				b.late = true
			}
		case <-quietC:
			// Only a batch that would go if BatchWait passed now is asked
			// about, and not while a handler could not take it anyway
			// (asked again a while later).
			if asking || b.empty() {
				continue
			}
			if b.ready || b.late || time.Since(b.last) < quiet || !free() {
				quietT.Reset(quiet)
				continue
			}
			asking = true
			q := answer{gen: b.gen, asked: time.Now()}
			runs := slices.Clone(b.runIDs)
			go func() {
				qctx, cancel := context.WithTimeout(ctx, caughtUpTimeout)
				defer cancel()
				q.yes = w.cfg.CaughtUp(qctx, runs)
				caught <- q
			}()
		case a := <-caught:
			asking = false
			// Moot if the batch went meanwhile or a message came since the
			// question: more may be coming after all.
			if !a.yes || a.gen != b.gen || b.empty() || b.ready || b.late || !b.last.Before(a.asked) || !free() {
				if !b.empty() {
					quietT.Reset(quiet) // ask again while it waits
				}
				continue
			}
			batches <- b.cur
			b.cause = FlushCaughtUp
			dispatched(true)
		case <-w.freed:
			if b.late { // a handler is free: the batch's wait starts again
				b.late, b.first = false, time.Now()
				b.timer.Reset(b.wait)
			}
		case out <- b.cur:
			dispatched(b.ready)
		case <-alive.C:
			b.keepAlive()
			for _, m := range queue {
				_ = m.acker().InProgress() // fails only for a lost connection: the message returns after ack_wait
			}
		case <-pauseC:
			if open && !draining && w.cfg.Paused() {
				draining = true
				it.Drain()
			}
		}
	}
}

// caughtUpTimeout bounds one answer of Config.CaughtUp (a few small
// reads); past it the context is cancelled, and the answer is a no.
const caughtUpTimeout = 500 * time.Millisecond

// release hands an unstarted message back for immediate redelivery,
// possibly to another replica.
func (w *Worker) release(m acker) {
	if err := m.Nak(); err != nil {
		w.log.Debug("nak of an unstarted message failed; it returns after ack_wait", "error", err)
	}
}

func (w *Worker) pullMax() int {
	n := max(min(w.cfg.Concurrency*w.cfg.BatchSize*2, w.cfg.MaxAckPending), 1)
	if w.cfg.Prepare != nil {
		// Messages are compacted once the session has them: few wait
		// whole in the client's buffer (it pulls again at half empty).
		n = min(n, preparedPull)
	}
	return packsOf(n, w.cfg.PackItems)
}

// preparedPull is the client's buffer of a worker that compacts.
const preparedPull = 2048

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
	maxWait     time.Duration // 0: wait counts from the first message
	timer       *time.Timer
	first       time.Time // when the current batch got its first message (maxWait)

	cur       []*Msg
	curBytes  int
	curWeight int // the Meter's size of cur, summed as messages come (a handler may change a weight once dispatched)
	held      *Msg
	ready     bool
	cause     FlushCause // why ready, once ready
	late      bool       // waited BatchWait while every handler was busy
	last      time.Time  // when the last message was added
	gen       uint64     // counts the batches taken
	runs      bool       // keep runIDs (Config.CaughtUp)
	runIDs    []string   // the distinct runs of cur's messages
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
	b.curWeight += m.weight
	b.last = time.Now()
	if b.runs {
		if run := m.header(proto.HeaderRunID); !slices.Contains(b.runIDs, run) {
			b.runIDs = append(b.runIDs, run)
		}
	}
	switch {
	case len(b.cur) == 1:
		b.first = time.Now()
		b.timer.Reset(b.wait)
	case b.maxWait > 0 && !b.late:
		// An idle gap: wait again from this message, within maxWait.
		b.timer.Reset(min(b.wait, b.maxWait-time.Since(b.first)))
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
		_ = m.acker().InProgress()
	}
	if b.held != nil {
		_ = b.held.acker().InProgress()
	}
}

// take returns the current batch and starts the next one with the held
// message, if any.
func (b *batcher) take() []*Msg {
	out := b.cur
	b.cur, b.curBytes, b.curWeight, b.ready, b.cause, b.late = nil, 0, 0, false, "", false
	b.runIDs = b.runIDs[:0:0]
	b.gen++
	b.timer.Stop()
	if h := b.held; h != nil {
		b.held = nil
		b.add(h)
	}
	return out
}

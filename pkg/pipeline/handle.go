package pipeline

import (
	"context"
	"fmt"
	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/proto"
	"runtime/debug"
	"sync"
	"time"
)

// dlqPublishTimeout bounds the wait for the DLQ stream to store a dead letter.
const dlqPublishTimeout = 10 * time.Second

// handle runs one batch through the handler and settles every message.
func (w *Worker) handle(ctx context.Context, batch []*Msg) {
	stop := w.keepAlive(batch)
	defer stop()
	ctx, endBatch := w.traceBatch(ctx, batch)
	defer endBatch()

	todo := batch[:0:0]
	var poison []*Msg
	for _, m := range batch {
		if m.NumDelivered >= uint64(w.cfg.PoisonDeliveries) {
			poison = append(poison, m)
			continue
		}
		todo = append(todo, m)
	}
	var errs []error
	if len(todo) > 0 {
		errs = w.call(ctx, todo)
	}
	acts := make([]action, len(todo))
	for i := range todo {
		acts[i] = w.pol.decide(errs[i], todo[i].NumDelivered)
	}
	if err := w.mark(ctx, todo, acts, poison); err != nil {
		// Without its outcome on record the run could not be told
		// complete: handle the messages again later.
		w.log.Error("recording outcomes in the run ledger failed; the batch will be redelivered", "error", err)
		for _, m := range append(todo, poison...) {
			w.nak(m, w.pol.backoff.delay(m.NumDelivered, w.pol.rand), err)
		}
		return
	}
	for _, m := range poison {
		w.deadLetter(ctx, m, ReasonMaxDeliveries, "",
			fmt.Errorf("delivered %d times (poison_deliveries %d): not handled again", m.NumDelivered, w.cfg.PoisonDeliveries))
	}
	for i, m := range todo {
		w.apply(ctx, m, acts[i], errs[i])
	}
}

// mark records in the run ledger what the batch's settlements mean for
// their lines: an ack with the outcome the handler gave, a dead letter.
func (w *Worker) mark(ctx context.Context, todo []*Msg, acts []action, poison []*Msg) error {
	if w.cfg.Ledger == nil {
		return nil
	}
	byRun := map[string][]ledger.Mark{}
	add := func(m *Msg, o ledger.Outcome) {
		run, line, ok := m.Line()
		if !ok || o == ledger.None {
			return
		}
		byRun[run] = append(byRun[run], ledger.Mark{Line: line, Outcome: o, Flags: m.flags})
	}
	for i, m := range todo {
		switch acts[i].kind {
		case actAck:
			add(m, m.outcome)
		case actDeadLetter:
			add(m, ledger.DeadLettered)
		}
	}
	for _, m := range poison {
		add(m, ledger.DeadLettered)
	}
	for run, marks := range byRun {
		if err := w.cfg.Ledger.Mark(ctx, run, w.cfg.Stage, marks); err != nil {
			return err
		}
	}
	return nil
}

// call runs the handler, turning a panic or a malformed result into an
// error for every message of the batch.
func (w *Worker) call(ctx context.Context, batch []*Msg) (errs []error) {
	defer func() {
		if r := recover(); r != nil {
			w.log.Error("handler panicked; the batch will be redelivered", "panic", r, "batch", len(batch), "stack", string(debug.Stack()))
			errs = Errors(len(batch), fmt.Errorf("handler panicked: %v", r))
		}
	}()
	errs = w.h.HandleBatch(ctx, batch)
	switch {
	case errs == nil:
		return make([]error, len(batch))
	case len(errs) != len(batch):
		err := fmt.Errorf("handler returned %d results for a batch of %d", len(errs), len(batch))
		w.log.Error("handler broke its contract; the batch will be redelivered", "error", err)
		return Errors(len(batch), err)
	}
	return errs
}

// apply carries out the verdict a on m, whose handler returned err.
func (w *Worker) apply(ctx context.Context, m *Msg, a action, err error) {
	switch a.kind {
	case actAck:
		if aerr := m.acker().Ack(); aerr != nil {
			w.log.Warn("ack failed; the message will be redelivered", "subject", m.Subject, "seq", m.StreamSeq, "error", aerr)
		}
		w.observe(m, Outcome{Kind: Acked})
	case actNak:
		w.nak(m, a.delay, err)
	case actDeadLetter:
		w.deadLetter(ctx, m, a.reason, a.once, err)
	}
}

func (w *Worker) nak(m *Msg, delay time.Duration, err error) {
	if nerr := m.acker().NakWithDelay(delay); nerr != nil {
		w.log.Warn("nak failed; the message returns after ack_wait", "subject", m.Subject, "seq", m.StreamSeq, "error", nerr)
	}
	w.log.Debug("message will be retried", "subject", m.Subject, "seq", m.StreamSeq, "delivered", m.NumDelivered, "delay", delay, "error", err)
	w.observe(m, Outcome{Kind: Retried, Err: err})
}

// deadLetter publishes m to the DLQ and, once the DLQ stream has stored it,
// terminates m. If the publish fails, m is nakked with backoff.
func (w *Worker) deadLetter(ctx context.Context, m *Msg, reason, once string, cause error) {
	if err := m.Load(ctx); err != nil {
		w.log.Error("dead-lettering failed; retrying the message later", "subject", m.Subject, "seq", m.StreamSeq, "reason", reason, "error", err)
		w.nak(m, w.pol.backoff.delay(m.NumDelivered, w.pol.rand), fmt.Errorf("dead-lettering (%s: %v): %w", reason, cause, err))
		return
	}
	id := deadLetterID(w.cfg.Stage, w.cfg.Stream, m)
	if once != "" {
		id = "dlq:" + proto.Token(w.cfg.Stage) + ":once:" + once
	}
	dl, err := deadLetterMsg(w.cfg.Stage, reason, cause.Error(), m.Subject, m.Header, m.Data, m.NumDelivered, id)
	if err == nil {
		dl, err = fit(w.js.Conn(), dl)
	}
	if err == nil {
		pctx, cancel := context.WithTimeout(ctx, dlqPublishTimeout)
		_, err = w.js.PublishMsg(pctx, dl)
		cancel()
	}
	if err != nil {
		w.log.Error("dead-lettering failed; retrying the message later", "subject", m.Subject, "seq", m.StreamSeq, "reason", reason, "error", err)
		w.nak(m, w.pol.backoff.delay(m.NumDelivered, w.pol.rand), fmt.Errorf("dead-lettering (%s: %v): %w", reason, cause, err))
		return
	}
	if terr := m.acker().TermWithReason(reason); terr != nil {
		// The dead letter is stored; a redelivery dead-letters it again
		// under the same Nats-Msg-Id, which the DLQ stream deduplicates.
		w.log.Warn("term after dead-lettering failed", "subject", m.Subject, "seq", m.StreamSeq, "error", terr)
	}
	w.log.Debug("dead-lettered", "subject", m.Subject, "seq", m.StreamSeq, "reason", reason, "dlq", dl.Subject, "error", cause)
	w.observe(m, Outcome{Kind: DeadLettered, Reason: reason, Err: cause})
}

func (w *Worker) observe(m *Msg, o Outcome) {
	endSpan(m, o)
	if mt := w.cfg.Instruments.Meter; mt != nil {
		for range m.weight {
			mt.Settled(w.cfg.Stage, o.Kind.String(), o.Reason)
		}
	}
	if w.cfg.Observe != nil {
		w.cfg.Observe(m, o)
	}
}

// keepAlive reports progress on every message of batch every AckWait/3
// until stop is called, so a slow handler does not cause redelivery.
func (w *Worker) keepAlive(batch []*Msg) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	// At once: the batch may have waited for this handler since the
	// session last reported on it.
	for _, m := range batch {
		_ = m.acker().InProgress()
	}
	wg.Go(func() {
		t := time.NewTicker(w.cfg.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				for _, m := range batch {
					_ = m.acker().InProgress() // fails only for a settled message or a lost connection
				}
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

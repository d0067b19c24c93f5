package loader

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/restcall"
	"github.com/tajo-sync/tajo/proto"
)

// Processes reads Brevo's background processes (GET /processes/{id}).
type Processes interface {
	Process(ctx context.Context, id int64) (brevo.Process, error)
}

// NotifyURL is the notifyUrl of the import ref: the gateway's route
// (proto.BrevoNotifyPath) under its public URL base, with the install's
// token. The gateway compares the token in constant time and relays the
// call on NATS (proto.ImportDoneSubject).
func NotifyURL(base, token, ref string) string {
	return strings.TrimSuffix(base, "/") + proto.BrevoNotifyPath + "/" + token + "?import=" + url.QueryEscape(ref)
}

// processesKey holds, in the state bucket, the poll budget and the pace
// every loader replica shares.
const processesKey = "brevo.processes"

// tracking is what processesKey holds.
type tracking struct {
	Budget pollBudget  `json:"budget"`
	Paces  importPaces `json:"paces"` // by size class; the one "pace" of earlier versions is not read
}

// tracker learns when the imports Brevo accepted have finished: told by
// the gateway, which relays Brevo's call of the import's notifyUrl, or else
// by polling GET /processes/{id} as pace.go plans, within the poll budget.
type tracker struct {
	procs     Processes
	kv        jetstream.KeyValue // shares tracking between replicas; nil: this process alone
	nc        *nats.Conn         // receives notifications; nil: none
	base      string             // the gateway's public URL; "": no notifyUrl
	token     string
	perHour   int
	grace     time.Duration
	clock     restcall.Clock
	firstPoll time.Duration
	log       *slog.Logger

	mu    sync.Mutex
	local tracking // when kv is nil
}

// notifying reports whether imports carry a notifyUrl.
func (t *tracker) notifying() bool { return t.base != "" && t.token != "" && t.nc != nil }

// expectation is an import's notification being waited for.
type expectation struct {
	ref  string
	url  string        // the import's notifyUrl; "" without notification
	done chan struct{} // closed when the notification came
	sub  *nats.Subscription
}

// expect prepares the wait for one import, before it is sent: the
// subscription exists before Brevo can call.
func (t *tracker) expect() (*expectation, error) {
	e := &expectation{}
	if !t.notifying() {
		return e, nil
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("making an import reference: %w", err)
	}
	e.ref = hex.EncodeToString(b[:])
	e.url = NotifyURL(t.base, t.token, e.ref)
	e.done = make(chan struct{})
	var once sync.Once
	sub, err := t.nc.Subscribe(proto.ImportDoneSubject(e.ref), func(*nats.Msg) { once.Do(func() { close(e.done) }) })
	if err != nil {
		return nil, fmt.Errorf("subscribing to the import's notification: %w", err)
	}
	e.sub = sub
	return e, nil
}

func (e *expectation) close() {
	if e.sub != nil {
		_ = e.sub.Unsubscribe()
	}
}

// errProcessEnded: an import process ended other than completed.
var errProcessEnded = errors.New("ended")

// errNotified ends a wait: the notification came.
var errNotified = errors.New("notified")

// wait returns once process id (an import of rows rows, accepted at
// started) has completed: at its notification, or at a poll that found it
// completed. A process that ends otherwise, or a poll Brevo refuses for
// good, is an error.
func (t *tracker) wait(ctx context.Context, e *expectation, id int64, rows int, started time.Time) (polls int, err error) {
	paces, err := t.paces(ctx)
	if err != nil {
		return 0, err
	}
	pace := paces.of(rows)
	est := pace.estimate(rows)
	first := est
	switch {
	case e.done != nil:
		first = 2*est + t.grace // polling is the fallback
	case est <= 0:
		first = t.firstPoll
	}
	backoff := max(est/20, t.firstPoll)
	next := started.Add(first)
	var runningAt time.Duration
	for {
		if err := t.sleepUntil(ctx, e, next); err != nil {
			if errors.Is(err, errNotified) {
				return polls, t.learn(ctx, rows, func(p *importPace) { p.exact(rows, t.clock.Now().Sub(started)) })
			}
			return polls, fmt.Errorf("waiting for import process %d after %d polls: %w", id, polls, err)
		}
		if err := t.takePoll(ctx, e); err != nil {
			if errors.Is(err, errNotified) {
				return polls, t.learn(ctx, rows, func(p *importPace) { p.exact(rows, t.clock.Now().Sub(started)) })
			}
			return polls, fmt.Errorf("waiting for a poll of import process %d: %w", id, err)
		}
		polls++
		p, err := t.procs.Process(restcall.WithAttempt(ctx, polls), id)
		now := t.clock.Now()
		switch {
		case err == nil && p.Done():
			return polls, t.learn(ctx, rows, func(pc *importPace) { pc.polled(rows, now.Sub(started), runningAt) })
		case err == nil && p.Status != brevo.ProcessQueued && p.Status != brevo.ProcessInProcess:
			return polls, fmt.Errorf("import process %d %w with status %q", id, errProcessEnded, p.Status)
		case err == nil:
			runningAt = now.Sub(started)
			if sure := pace.surely(rows); sure > runningAt {
				next = started.Add(sure) // when a like import was done
			} else {
				// Running past what was known. With nothing known,
				// polled again after as long again as it has run: found
				// done within twice its time, in few polls. Past a
				// guess (a size not seen yet, at others' time per row,
				// short because Brevo's time is mostly a fixed part),
				// after half as long again: within one and a half times.
				wait := max(runningAt, t.firstPoll)
				if est > 0 {
					wait = max(runningAt/2, t.firstPoll/2)
				}
				next = now.Add(min(wait, maxPoll))
			}
		case ctx.Err() == nil && brevo.Retryable(err):
			next = now.Add(max(brevo.RetryAfter(err), backoff))
			backoff = min(2*backoff, maxPoll)
		default:
			return polls, fmt.Errorf("polling import process %d: %w", id, err)
		}
	}
}

// sleepUntil waits until at, or returns errNotified when the notification
// comes first.
func (t *tracker) sleepUntil(ctx context.Context, e *expectation, at time.Time) error {
	if e.done != nil {
		select {
		case <-e.done:
			return errNotified
		default:
		}
	}
	d := at.Sub(t.clock.Now())
	if d <= 0 {
		return ctx.Err()
	}
	if e.done == nil {
		return t.clock.Sleep(ctx, d)
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-e.done:
			cancel()
		case <-sctx.Done():
		}
	}()
	err := t.clock.Sleep(sctx, d)
	select {
	case <-e.done:
		return errNotified
	default:
	}
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

// takePoll waits until the shared budget allows a poll and spends it.
func (t *tracker) takePoll(ctx context.Context, e *expectation) error {
	for {
		var wait time.Duration
		err := t.update(ctx, func(tr *tracking) { wait = tr.Budget.take(t.clock.Now(), t.perHour) })
		if err != nil {
			return err
		}
		if wait == 0 {
			return nil
		}
		if err := t.sleepUntil(ctx, e, t.clock.Now().Add(wait)); err != nil {
			return err
		}
	}
}

func (t *tracker) paces(ctx context.Context) (importPaces, error) {
	var ps importPaces
	err := t.update(ctx, func(tr *tracking) { ps = tr.Paces })
	return ps, err
}

// learn applies f to the pace of imports of rows rows.
func (t *tracker) learn(ctx context.Context, rows int, f func(*importPace)) error {
	if err := t.update(ctx, func(tr *tracking) { tr.Paces.learn(rows, f) }); err != nil {
		// The import is done; only the pace of the next one suffers.
		t.log.Warn("recording the pace of Brevo imports", "err", err)
	}
	return nil
}

// update applies f to the shared tracking (compare-and-set in the state
// bucket), or to this process's own without one.
func (t *tracker) update(ctx context.Context, f func(*tracking)) error {
	if t.kv == nil {
		t.mu.Lock()
		defer t.mu.Unlock()
		f(&t.local)
		return nil
	}
	for {
		var tr tracking
		e, err := t.kv.Get(ctx, processesKey)
		var rev uint64
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return fmt.Errorf("reading the poll budget: %w", err)
		default:
			rev = e.Revision()
			if err := json.Unmarshal(e.Value(), &tr); err != nil {
				tr = tracking{} // unreadable: start afresh rather than stall
			}
		}
		f(&tr)
		v, err := json.Marshal(tr)
		if err != nil {
			return err
		}
		if rev == 0 {
			_, err = t.kv.Create(ctx, processesKey, v)
		} else {
			_, err = t.kv.Update(ctx, processesKey, v, rev)
		}
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !isWrongSequence(err) {
			return fmt.Errorf("writing the poll budget: %w", err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// isWrongSequence reports a compare-and-set that lost to another writer.
func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

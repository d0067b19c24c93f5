package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/pkg/status"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/services/transformer"
)

// Progress is a snapshot of a run in flight.
type Progress struct {
	RunID       string
	Status      string
	Exported    int64 // lines published by the extractor so far
	Total       int64 // users in the export, once known (0 before)
	Transformed int64 // raw users handled by the transformer
	// Loaded counts the lines settled for good by any stage: written,
	// unchanged (an incremental's unchanged lines are settled by the
	// extractor, a two-way come-back by the transformer), stale, merged or
	// dead-lettered.
	Loaded  int64
	Elapsed time.Duration
	Done    bool
}

// Summary is the outcome of a finished run (status.Summary).
type Summary = status.Summary

// Wait follows run id until every stage has handled all of it, reporting
// progress every poll, then marks the run completed and returns its summary.
func Wait(ctx context.Context, js jetstream.JetStream, st *state.Store, id string, poll time.Duration, progress func(Progress)) (Summary, error) {
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	led, err := ledger.Open(ctx, js, proto.BucketLedger)
	if err != nil {
		return Summary{}, err
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	var lastTally time.Time
	var tally ledger.Tally
	for {
		// Each poll has its own deadline: across a server restart a read
		// can hang, and the next poll must start over rather than wait.
		pctx, cancel := context.WithTimeout(ctx, pollTimeout)
		run, err := st.GetRun(pctx, id)
		if err == nil && time.Since(lastTally) >= tallyEvery {
			// Reading the ledger costs a read per 4,096 lines and stage:
			// progress is refreshed at most once a second.
			// A read cut short (a deadline under load) leaves the last full
			// tally in place: a partial one would show progress going back.
			var tl ledger.Tally
			if tl, err = led.Tally(pctx, id, run.Exported+run.Malformed, stages...); err == nil {
				tally, lastTally = tl, time.Now()
			}
		}
		cancel()
		if err != nil {
			if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) || isTransient(err) {
				select {
				case <-ctx.Done():
					return Summary{}, fmt.Errorf("waiting for run %s: %w", id, ctx.Err())
				case <-t.C:
				}
				continue
			}
			return Summary{}, fmt.Errorf("reading run %s: %w", id, err)
		}
		p := progressOf(run, tally)
		done := false
		dctx, dcancel := context.WithTimeout(ctx, pollTimeout)
		switch run.Status {
		case proto.RunFailed, proto.RunCompleted, proto.RunIncomplete:
			done = true
		case proto.RunExported:
			// Everything the extractor published is in RAW; the transformer
			// acks a raw message only after its upsert is stored in OPS, and
			// the loader acks an upsert only after Brevo confirmed it. So once
			// RAW and then OPS have nothing pending or unacknowledged, the run
			// is through, and the ledger says what became of every line.
			done, err = drained(dctx, st, js)
			if err != nil && !isTransient(err) && !errors.Is(err, context.DeadlineExceeded) {
				dcancel()
				return Summary{}, err
			}
		}
		dcancel()
		if done {
			s, err := finish(ctx, st, led, run)
			if err != nil {
				if isTransient(err) || errors.Is(err, context.DeadlineExceeded) {
					// Poll again at the next tick, not at once.
					select {
					case <-ctx.Done():
						return Summary{}, fmt.Errorf("waiting for run %s: %w", id, ctx.Err())
					case <-t.C:
					}
					continue
				}
				return Summary{}, err
			}
			p.Transformed, p.Loaded, p.Done = s.Exported, s.Exported, true
			if progress != nil {
				progress(p)
			}
			return s, nil
		}
		if progress != nil {
			progress(p)
		}
		next := t.C
		if run.Status == proto.RunExported && poll > tailPoll {
			// Exported whole: the run ends when the last batches are
			// written, and is looked at more often until then.
			tail := time.NewTimer(tailPoll)
			next = tail.C
		}
		select {
		case <-ctx.Done():
			return Summary{}, fmt.Errorf("waiting for run %s: %w", id, ctx.Err())
		case <-next:
		}
	}
}

// tailPoll is how often Wait looks at a run exported whole (two consumer
// reads): its end is then near.
const tailPoll = 50 * time.Millisecond

// stages are the stages that mark a users run's ledger.
var stages = proto.LedgerStages

// tallyEvery bounds how often Wait reads the ledger for progress.
const tallyEvery = time.Second

// pollTimeout bounds one poll of Wait.
const pollTimeout = 10 * time.Second

// isTransient tells the errors of a server that is restarting or a
// connection that is reconnecting (natsx.Transient), and of a connection
// closed under a poll: the next poll may well succeed.
func isTransient(err error) bool {
	return natsx.Transient(err) || errors.Is(err, nats.ErrConnectionClosed)
}

func drained(ctx context.Context, st *state.Store, js jetstream.JetStream) (bool, error) {
	for _, c := range []struct{ stream, durable string }{
		{proto.StreamRaw, transformer.Durable},
		{proto.StreamOps, loader.Durable},
	} {
		ok, err := st.Drained(ctx, js, c.stream, c.durable)
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			return false, nil // that stage has not started yet
		}
		if err != nil {
			return false, fmt.Errorf("checking consumer %s: %w", c.durable, err)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// finish counts the run's outcome from its ledger and records the run as
// completed, or as incomplete when exported lines were settled by no stage.
func finish(ctx context.Context, st *state.Store, led *ledger.Ledger, run *proto.SyncRun) (Summary, error) {
	if run.Outcome != nil {
		return status.Summarize(run, run.Outcome), nil
	}
	fctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	t, err := led.Tally(fctx, run.ID, run.Exported+run.Malformed, stages...)
	if err != nil {
		return Summary{}, err
	}
	if run.Status == proto.RunExported {
		run.Outcome = status.OutcomeOf(t)
		run.Status = proto.RunCompleted
		if t.Missing > 0 {
			run.Status = proto.RunIncomplete
			run.Error = fmt.Sprintf("%d exported users were neither written, unchanged nor dead-lettered (export lines %v...): "+
				"the run is incomplete; run the sync again to send them", t.Missing, t.MissingLines)
		}
		run.FinishedAt = time.Now().UnixMilli()
		if err := st.PutRun(ctx, run); err != nil {
			return Summary{}, fmt.Errorf("recording run %s: %w", run.ID, err)
		}
	}
	return status.Summarize(run, status.OutcomeOf(t)), nil
}

// Describe is the summary of run: as recorded when it finished, or as far
// as its ledger has got while it runs (status.Describe).
func Describe(ctx context.Context, js jetstream.JetStream, run *proto.SyncRun) (Summary, error) {
	return status.Describe(ctx, js, run)
}

// ReadProgress is one look at run id's progress.
func ReadProgress(ctx context.Context, js jetstream.JetStream, st *state.Store, id string) (Progress, error) {
	run, err := st.GetRun(ctx, id)
	if err != nil {
		return Progress{}, fmt.Errorf("reading run %s: %w", id, err)
	}
	led, err := ledger.Open(ctx, js, proto.BucketLedger)
	if err != nil {
		return Progress{}, err
	}
	t, err := led.Tally(ctx, id, run.Exported+run.Malformed, stages...)
	if err != nil {
		return Progress{}, err
	}
	return progressOf(run, t), nil
}

func progressOf(run *proto.SyncRun, t ledger.Tally) Progress {
	p := Progress{RunID: run.ID, Status: run.Status, Exported: run.Exported, Transformed: t.Reached(ledger.Passed),
		Loaded:  t.Reached(ledger.DeadLettered),
		Elapsed: time.Since(time.UnixMilli(run.StartedAt))}
	if run.Status != proto.RunRunning {
		p.Total = run.Exported
	}
	return p
}

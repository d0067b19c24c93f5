package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/state"
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
	Loaded      int64 // upserts handled by the loader
	Unchanged   int64
	Elapsed     time.Duration
	Done        bool
}

// Summary is the outcome of a finished run, counted from the run's ledger:
// every exported line is in exactly one of Created, Updated, Unchanged,
// Merged, Stale, DeadLettered and Missing, whatever the redeliveries.
type Summary struct {
	RunID        string
	Type         string
	Exported     int64 // users in the export, malformed lines included
	Created      int64
	Updated      int64
	Unchanged    int64 // the vendor already holds this content
	Merged       int64 // a newer line of the same user was written instead
	Stale        int64 // older than what the vendor holds: skipped
	DeadLettered int64 // in the DLQ: malformed lines, unmappable records, refused writes
	// Missing are exported lines that no stage settled: neither written,
	// unchanged, merged, stale nor dead-lettered. A run with any is
	// incomplete: something lost them.
	Missing      int64
	WithoutEmail int64 // written without their email (invalid, or another contact's)
	WithoutSMS   int64 // written without their SMS (another contact's)
	Failed       int64 // refused for good by the vendor, plus Missing (plus 1 when the run itself failed)
	Duration     time.Duration
	Error        string
}

// OK reports whether nothing failed.
func (s Summary) OK() bool { return s.Failed == 0 && s.Error == "" }

// Settled is the sum the summary's lines add up to: Exported, when nothing
// is missing.
func (s Summary) Settled() int64 {
	return s.Created + s.Updated + s.Unchanged + s.Merged + s.Stale + s.DeadLettered
}

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
		select {
		case <-ctx.Done():
			return Summary{}, fmt.Errorf("waiting for run %s: %w", id, ctx.Err())
		case <-t.C:
		}
	}
}

// stages are the stages that mark a users run's ledger.
var stages = []string{proto.StageExtractor, proto.StageTransformer, proto.StageLoader}

// tallyEvery bounds how often Wait reads the ledger for progress.
const tallyEvery = time.Second

// pollTimeout bounds one poll of Wait.
const pollTimeout = 10 * time.Second

// isTransient tells the errors of a server that is restarting or a
// connection that is reconnecting: the next poll may well succeed.
func isTransient(err error) bool {
	// A cluster electing a new leader (a node lost) answers 503 "JetStream
	// system temporarily unavailable" for a moment.
	var api *jetstream.APIError
	if errors.As(err, &api) && api.Code == 503 {
		return true
	}
	return errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, nats.ErrConnectionReconnecting) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, nats.ErrDisconnected)
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
		return summarize(run, run.Outcome), nil
	}
	fctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	t, err := led.Tally(fctx, run.ID, run.Exported+run.Malformed, stages...)
	if err != nil {
		return Summary{}, err
	}
	if run.Status == proto.RunExported {
		run.Outcome = outcomeOf(t)
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
	return summarize(run, outcomeOf(t)), nil
}

func outcomeOf(t ledger.Tally) *proto.RunOutcome {
	return &proto.RunOutcome{
		Created:      t.ByOutcome[ledger.Created],
		Updated:      t.ByOutcome[ledger.Updated],
		Unchanged:    t.ByOutcome[ledger.Unchanged],
		Merged:       t.ByOutcome[ledger.Merged],
		Stale:        t.ByOutcome[ledger.Stale],
		DeadLettered: t.ByOutcome[ledger.DeadLettered],
		Missing:      t.Missing,
		WithoutEmail: t.WithoutEmail,
		WithoutSMS:   t.WithoutSMS,
		Refused:      t.Refused,
	}
}

// summarize is the summary of run with outcome o.
func summarize(run *proto.SyncRun, o *proto.RunOutcome) Summary {
	s := Summary{
		RunID: run.ID, Type: run.Type,
		Exported:     run.Exported + run.Malformed,
		Created:      o.Created,
		Updated:      o.Updated,
		Unchanged:    o.Unchanged,
		Merged:       o.Merged,
		Stale:        o.Stale,
		DeadLettered: o.DeadLettered,
		Missing:      o.Missing,
		WithoutEmail: o.WithoutEmail,
		WithoutSMS:   o.WithoutSMS,
		Failed:       o.Refused + o.Missing,
		Error:        run.Error,
	}
	if run.Status == proto.RunRunning || run.Status == proto.RunExported {
		// In flight: what is not settled yet is not missing.
		s.Failed -= s.Missing
		s.Missing = 0
	}
	if run.FinishedAt > 0 {
		s.Duration = time.UnixMilli(run.FinishedAt).Sub(time.UnixMilli(run.StartedAt))
	}
	if run.Status == proto.RunFailed {
		s.Failed++
	}
	return s
}

// Describe is the summary of run: as recorded when it finished, or as far
// as its ledger has got while it runs. It changes nothing.
func Describe(ctx context.Context, js jetstream.JetStream, run *proto.SyncRun) (Summary, error) {
	if run.Outcome != nil {
		return summarize(run, run.Outcome), nil
	}
	led, err := ledger.Open(ctx, js, proto.BucketLedger)
	if err != nil {
		return Summary{}, err
	}
	t, err := led.Tally(ctx, run.ID, run.Exported+run.Malformed, stages...)
	if err != nil {
		return Summary{}, err
	}
	return summarize(run, outcomeOf(t)), nil
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
		Loaded: t.Reached(ledger.DeadLettered), Unchanged: t.ByOutcome[ledger.Unchanged],
		Elapsed: time.Since(time.UnixMilli(run.StartedAt))}
	if run.Status != proto.RunRunning {
		p.Total = run.Exported
	}
	return p
}

package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
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

// Summary is the outcome of a finished run.
type Summary struct {
	RunID        string
	Type         string
	Exported     int64 // users in the export, malformed lines included
	Created      int64
	Updated      int64
	Unchanged    int64
	Failed       int64 // writes the vendor refused for good (or the whole run, when it failed)
	DeadLettered int64 // everything sent to the DLQ: malformed lines, unmappable records, refused writes
	Duration     time.Duration
	Error        string
}

// OK reports whether nothing failed.
func (s Summary) OK() bool { return s.Failed == 0 && s.Error == "" }

// Wait follows run id until every stage has handled all of it, reporting
// progress every poll, then marks the run completed and returns its summary.
func Wait(ctx context.Context, js jetstream.JetStream, st *state.Store, id string, poll time.Duration, progress func(Progress)) (Summary, error) {
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		// Each poll has its own deadline: across a server restart a read
		// can hang, and the next poll must start over rather than wait.
		pctx, cancel := context.WithTimeout(ctx, pollTimeout)
		run, counts, err := readRun(pctx, st, id)
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
			return Summary{}, err
		}
		tr, ld := counts[proto.StageTransformer], counts[proto.StageLoader]
		p := Progress{RunID: id, Status: run.Status, Exported: run.Exported, Transformed: tr.Processed,
			Loaded: ld.Processed, Unchanged: tr.Unchanged, Elapsed: time.Since(time.UnixMilli(run.StartedAt))}
		if run.Status != proto.RunRunning {
			p.Total = run.Exported
		}
		done := false
		dctx, dcancel := context.WithTimeout(ctx, pollTimeout)
		switch run.Status {
		case proto.RunFailed, proto.RunCompleted:
			done = true
		case proto.RunExported:
			// Everything the extractor published is in RAW; the transformer
			// acks a raw message only after its upsert is stored in OPS, and
			// the loader acks an upsert only after Brevo confirmed it. So once
			// RAW and then OPS have nothing pending or unacknowledged, the run
			// is through. Counters are not compared: a worker killed between
			// counting and acking counts a redelivered message twice.
			done, err = drained(dctx, st, js)
			if err != nil && !isTransient(err) && !errors.Is(err, context.DeadlineExceeded) {
				dcancel()
				return Summary{}, err
			}
		}
		dcancel()
		p.Done = done
		if progress != nil {
			progress(p)
		}
		if done {
			return finish(ctx, st, run, counts)
		}
		select {
		case <-ctx.Done():
			return Summary{}, fmt.Errorf("waiting for run %s: %w", id, ctx.Err())
		case <-t.C:
		}
	}
}

// pollTimeout bounds one poll of Wait.
const pollTimeout = 10 * time.Second

func readRun(ctx context.Context, st *state.Store, id string) (*proto.SyncRun, map[string]proto.Counters, error) {
	run, err := st.GetRun(ctx, id)
	if err != nil {
		return nil, nil, fmt.Errorf("reading run %s: %w", id, err)
	}
	counts, err := st.Counters(ctx, id)
	if err != nil {
		return nil, nil, fmt.Errorf("reading counters of run %s: %w", id, err)
	}
	return run, counts, nil
}

// isTransient tells the errors of a server that is restarting or a
// connection that is reconnecting: the next poll may well succeed.
func isTransient(err error) bool {
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

func finish(ctx context.Context, st *state.Store, run *proto.SyncRun, counts map[string]proto.Counters) (Summary, error) {
	tr, ld := counts[proto.StageTransformer], counts[proto.StageLoader]
	if run.Status == proto.RunExported {
		run.Status = proto.RunCompleted
		run.FinishedAt = time.Now().UnixMilli()
		if err := st.PutRun(ctx, run); err != nil {
			return Summary{}, fmt.Errorf("recording run %s: %w", run.ID, err)
		}
	}
	s := Summary{
		RunID: run.ID, Type: run.Type,
		Exported:     run.Exported + run.Malformed,
		Created:      ld.Created,
		Updated:      ld.Updated,
		Unchanged:    tr.Unchanged + ld.Unchanged, // the loader's: duplicates of content already applied
		Failed:       ld.Failed,
		DeadLettered: run.Malformed + tr.DeadLettered + ld.DeadLettered,
		Error:        run.Error,
	}
	if run.FinishedAt > 0 {
		s.Duration = time.UnixMilli(run.FinishedAt).Sub(time.UnixMilli(run.StartedAt))
	}
	if run.Status == proto.RunFailed {
		s.Failed++
	}
	return s, nil
}

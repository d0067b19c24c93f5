package status

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/proto"
)

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

// OutcomeOf is the outcome a run's ledger tallies.
func OutcomeOf(t ledger.Tally) *proto.RunOutcome {
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

// Summarize is the summary of run with outcome o.
func Summarize(run *proto.SyncRun, o *proto.RunOutcome) Summary {
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
		return Summarize(run, run.Outcome), nil
	}
	led, err := ledger.Open(ctx, js, proto.BucketLedger)
	if err != nil {
		return Summary{}, err
	}
	t, err := led.Tally(ctx, run.ID, run.Exported+run.Malformed, proto.LedgerStages...)
	if err != nil {
		return Summary{}, err
	}
	return Summarize(run, OutcomeOf(t)), nil
}

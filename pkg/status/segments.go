package status

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
)

// SegmentsSummary is the outcome of a segments run.
type SegmentsSummary struct {
	RunID    string
	Status   string
	Segments []proto.SegmentMirror // every mirrored segment, as the run left it
	// Changes published, and what became of them.
	Changes      int64
	Added        int64
	Removed      int64
	Unchanged    int64 // already in (or out of) the list
	DeadLettered int64 // reported per contact in the DLQ (contact_not_found, brevo_refused, ...)
	Pending      int64 // not settled yet (a run in flight)
	Duration     time.Duration
	Error        string
}

// OK reports whether every segment was mirrored and every change applied.
func (s SegmentsSummary) OK() bool { return s.Error == "" && s.DeadLettered == 0 && s.Pending == 0 }

// DescribeSegments is the summary of a segments run: as recorded when it
// finished, or as far as its ledger has got.
func DescribeSegments(ctx context.Context, js jetstream.JetStream, run *proto.SyncRun) (SegmentsSummary, error) {
	s := SegmentsSummary{RunID: run.ID, Status: run.Status, Changes: run.Exported, Error: run.Error}
	if run.FinishedAt > 0 {
		s.Duration = time.UnixMilli(run.FinishedAt).Sub(time.UnixMilli(run.StartedAt))
	}
	o := run.Outcome
	if o == nil {
		led, err := ledger.Open(ctx, js, proto.BucketSegmentsLedger)
		if err != nil {
			return s, err
		}
		t, err := led.Tally(ctx, run.ID, run.Exported, proto.LedgerStages...)
		if err != nil {
			return s, err
		}
		o = &proto.RunOutcome{Created: t.ByOutcome[ledger.Created], Updated: t.ByOutcome[ledger.Updated],
			Unchanged: t.ByOutcome[ledger.Unchanged], DeadLettered: t.ByOutcome[ledger.DeadLettered]}
		s.Pending = t.Missing
	}
	s.Added, s.Removed, s.Unchanged, s.DeadLettered = o.Created, o.Updated, o.Unchanged, o.DeadLettered
	kv, err := js.KeyValue(ctx, proto.BucketState)
	if err != nil {
		return s, err
	}
	if s.Segments, err = state.SegmentMirrors(ctx, kv); err != nil {
		return s, err
	}
	return s, nil
}

// SegmentStatus is one mirrored segment in the status: its list, its
// members as of its last run, and what that run changed.
type SegmentStatus struct {
	SegmentID   string `json:"segmentId"`
	Name        string `json:"name"`
	ListID      int64  `json:"listId"`
	ListCreated bool   `json:"listCreated"` // created by mirror_all
	Members     int64  `json:"members"`     // members a list call can name
	LastRun     string `json:"lastRun"`
	Joined      int64  `json:"joined"`     // changes the last run published: members who joined
	Left        int64  `json:"left"`       // and members who left
	Unresolved  int64  `json:"unresolved"` // members with neither ext_id nor a valid email
	Error       string `json:"error,omitempty"`
}

// segmentLagConsumers are the segment mirroring's consumers, shown once
// they exist (a deployment that never mirrored has none).
var segmentLagConsumers = []struct{ Stream, Durable string }{
	{proto.StreamRaw, proto.DurableTransformerSegments},
	{proto.StreamOps, proto.DurableLoaderLists},
}

// readSegments fills in the mirrored segments and their consumers' lag.
func readSegments(ctx context.Context, js jetstream.JetStream, store *state.Store, st *Status) error {
	mirrors, err := state.SegmentMirrors(ctx, store.KeyValue())
	if err != nil {
		return err
	}
	for _, m := range mirrors {
		st.Segments = append(st.Segments, SegmentStatus{SegmentID: m.SegmentID, Name: m.Name, ListID: m.ListID,
			ListCreated: m.ListCreated, Members: m.Members, LastRun: m.RunID, Joined: m.Added, Left: m.Removed,
			Unresolved: m.Unresolved, Error: m.Error})
	}
	for _, c := range segmentLagConsumers {
		cons, err := js.Consumer(ctx, c.Stream, c.Durable)
		if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
			continue
		}
		l := ConsumerLag{Stream: c.Stream, Consumer: c.Durable}
		if err == nil {
			var info *jetstream.ConsumerInfo
			if info, err = cons.Info(ctx); err == nil {
				l.Exists, l.Pending, l.AckPending = true, info.NumPending, uint64(info.NumAckPending)
			}
		}
		if err != nil {
			l.Error = err.Error()
		}
		st.Consumers = append(st.Consumers, l)
	}
	return nil
}

// describeSegmentsRun is a segments run in the status's terms: exported
// counts the changes published, created the contacts added to lists,
// updated those removed, unchanged those already so, dead-lettered those
// Brevo did not take (one dead letter per contact), failed the run's
// unmirrored segments (1) plus what Brevo refused.
func describeSegmentsRun(ctx context.Context, js jetstream.JetStream, run *proto.SyncRun) (*RunStatus, error) {
	s, err := DescribeSegments(ctx, js, run)
	if err != nil {
		return nil, err
	}
	rs := runHead(run)
	rs.Exported, rs.Created, rs.Updated, rs.Unchanged, rs.DeadLettered = s.Changes, s.Added, s.Removed, s.Unchanged, s.DeadLettered
	if run.Outcome != nil {
		rs.Failed = run.Outcome.Refused
	}
	if run.Status == proto.RunFailed {
		rs.Failed++
	}
	return rs, nil
}

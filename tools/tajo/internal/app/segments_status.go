package app

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/services/transformer"
)

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
	{proto.StreamRaw, transformer.SegmentsDurable},
	{proto.StreamOps, loader.ListsDurable},
}

// readSegments fills in the mirrored segments and their consumers' lag.
func readSegments(ctx context.Context, js jetstream.JetStream, store *state.Store, st *Status) error {
	mirrors, err := extractor.SegmentMirrors(ctx, store.KeyValue())
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
	rs := &RunStatus{
		ID: run.ID, Resource: run.Resource, Type: run.Type, Status: run.Status, Error: run.Error,
		Done:      slices.Contains([]string{proto.RunCompleted, proto.RunFailed, proto.RunIncomplete}, run.Status),
		StartedAt: time.UnixMilli(run.StartedAt).UTC(),
		Exported:  s.Changes, Created: s.Added, Updated: s.Removed, Unchanged: s.Unchanged, DeadLettered: s.DeadLettered,
	}
	if run.Outcome != nil {
		rs.Failed = run.Outcome.Refused
	}
	if run.Status == proto.RunFailed {
		rs.Failed++
	}
	if run.FinishedAt > 0 {
		f := time.UnixMilli(run.FinishedAt).UTC()
		rs.FinishedAt = &f
		rs.DurationMs = run.FinishedAt - run.StartedAt
	}
	return rs, nil
}

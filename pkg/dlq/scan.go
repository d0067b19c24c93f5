package dlq

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/proto"
)

// fetchBatch bounds how many letters are in memory at once while scanning.
const fetchBatch = 100

// idleWait is how long a scan waits for a letter the server said was
// pending before it concludes the letter was deleted meanwhile.
const idleWait = 5 * time.Second

// consumerIdle lets the server remove a scan's consumer if the process dies
// before deleting it; scans fetch far more often than this.
const consumerIdle = time.Minute

// snapshot is what the DLQ holds under a subject filter at one moment.
type snapshot struct {
	total   uint64            // letters under the filter
	lastSeq uint64            // the stream's last sequence
	bySubj  map[string]uint64 // letters per subject
}

// stream returns the DLQ stream, with an error that says what to do when it
// does not exist.
func stream(ctx context.Context, js jetstream.JetStream) (jetstream.Stream, error) {
	s, err := js.Stream(ctx, proto.StreamDLQ)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("the %s stream does not exist on this NATS server: start a tajo worker or `tajo run` once to provision it: %w",
			proto.StreamDLQ, err)
	}
	if err != nil {
		return nil, fmt.Errorf("opening the %s stream: %w", proto.StreamDLQ, err)
	}
	return s, nil
}

// take reads the per-subject counts under subject and the last sequence in
// one stream info request, so the two agree.
func take(ctx context.Context, s jetstream.Stream, subject string) (snapshot, error) {
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		return snapshot{}, fmt.Errorf("reading %s stream info for %s: %w", proto.StreamDLQ, subject, err)
	}
	snap := snapshot{lastSeq: info.State.LastSeq, bySubj: info.State.Subjects}
	for _, n := range info.State.Subjects {
		snap.total += n
	}
	return snap, nil
}

// scan calls fn for every letter under subject stored up to the moment
// scan starts, oldest first, until fn returns false or an error. Letters
// stored while it runs (a replayed letter that failed again) are not
// visited, so a replay of everything ends.
func scan(ctx context.Context, js jetstream.JetStream, subject string, fn func(Item) (bool, error)) error {
	s, err := stream(ctx, js)
	if err != nil {
		return err
	}
	snap, err := take(ctx, s, subject)
	if err != nil || snap.total == 0 {
		return err
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects:    []string{subject},
		InactiveThreshold: consumerIdle,
	})
	if err != nil {
		return fmt.Errorf("reading %s letters under %s: %w", proto.StreamDLQ, subject, err)
	}
	defer deleteConsumer(s, cons)
	// Messages rather than repeated Fetch: an ordered consumer recreates
	// itself on every Fetch. The pull buffer bounds what is in memory.
	it, err := cons.Messages(jetstream.PullMaxMessages(fetchBatch))
	if err != nil {
		return fmt.Errorf("reading %s letters under %s: %w", proto.StreamDLQ, subject, err)
	}
	defer it.Stop()
	for {
		m, err := next(ctx, it)
		if errors.Is(err, errIdle) {
			// The letters still pending were deleted meanwhile (a
			// concurrent replay or purge): nothing left to visit.
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading %s letters under %s: %w", proto.StreamDLQ, subject, err)
		}
		md, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("reading %s letters under %s: metadata: %w", proto.StreamDLQ, subject, err)
		}
		if md.Sequence.Stream > snap.lastSeq {
			return nil
		}
		more, err := fn(decodeItem(md.Sequence.Stream, m.Subject(), md.Timestamp, m.Data()))
		if err != nil || !more || md.NumPending == 0 || md.Sequence.Stream == snap.lastSeq {
			return err
		}
	}
}

// errIdle is next's verdict on a letter that did not come.
var errIdle = errors.New("no letter within the idle wait")

// next waits up to idleWait for the next letter.
func next(ctx context.Context, it jetstream.MessagesContext) (jetstream.Msg, error) {
	nctx, cancel := context.WithTimeout(ctx, idleWait)
	defer cancel()
	m, err := it.Next(jetstream.NextContext(nctx))
	if err != nil && ctx.Err() == nil && nctx.Err() != nil {
		return nil, errIdle
	}
	return m, err
}

// deleteConsumer removes a scan's consumer at once rather than leaving it
// to the inactivity threshold; failing that, the threshold removes it.
func deleteConsumer(s jetstream.Stream, c jetstream.Consumer) {
	info := c.CachedInfo()
	if info == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.DeleteConsumer(ctx, info.Name)
}

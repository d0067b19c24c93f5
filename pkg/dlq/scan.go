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
	for {
		batch, err := cons.FetchNoWait(fetchBatch)
		if err != nil {
			return fmt.Errorf("reading %s letters under %s: %w", proto.StreamDLQ, subject, err)
		}
		n, done := 0, false
		for m := range batch.Messages() {
			n++
			md, err := m.Metadata()
			if err != nil {
				return fmt.Errorf("reading %s letters under %s: metadata: %w", proto.StreamDLQ, subject, err)
			}
			if md.Sequence.Stream > snap.lastSeq {
				return nil
			}
			more, err := fn(decodeItem(md.Sequence.Stream, m.Subject(), md.Timestamp, m.Data()))
			if err != nil || !more {
				return err
			}
			done = md.NumPending == 0 || md.Sequence.Stream == snap.lastSeq
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return fmt.Errorf("reading %s letters under %s: %w", proto.StreamDLQ, subject, err)
		}
		if done || n == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
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

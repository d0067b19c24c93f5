package bench

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/tajo-sync/tajo/proto"
)

// WorkStreams are the streams the pipeline passes its work through; their
// bytes should not grow from one sync to the next.
var WorkStreams = []string{proto.StreamRaw, proto.StreamOps}

// StoreSample is the JetStream store after one sync.
type StoreSample struct {
	Sync string `json:"sync"` // "full", "incremental 1", ...
	// Bytes is the account's file-store usage, every stream and bucket.
	Bytes int64 `json:"bytes"`
	// Streams holds each stream's bytes by name (buckets as KV_<bucket>).
	Streams map[string]int64 `json:"streams"`
	// Stored is how many messages each stream has stored so far (its last
	// sequence), by name: what each sync cost the server in writes.
	Stored map[string]uint64 `json:"stored"`
	// Subjects is how many subjects each stream holds, by name: for a
	// bucket, its keys (the state buckets' shards).
	Subjects map[string]uint64 `json:"subjects"`
}

// sampleStore reads the account's store usage and every stream's bytes.
func sampleStore(ctx context.Context, js jetstream.JetStream, sync string) (StoreSample, error) {
	s := StoreSample{Sync: sync, Streams: map[string]int64{}, Stored: map[string]uint64{}, Subjects: map[string]uint64{}}
	ai, err := js.AccountInfo(ctx)
	if err != nil {
		return s, fmt.Errorf("reading the JetStream account's store usage: %w", err)
	}
	s.Bytes = int64(ai.Store)
	l := js.ListStreams(ctx)
	for info := range l.Info() {
		s.Streams[info.Config.Name] = int64(info.State.Bytes)
		s.Stored[info.Config.Name] = info.State.LastSeq
		s.Subjects[info.Config.Name] = info.State.NumSubjects
	}
	if err := l.Err(); err != nil {
		return s, fmt.Errorf("listing the streams' sizes: %w", err)
	}
	return s, nil
}

// names returns the streams of the samples, the work streams first.
func streamNames(samples []StoreSample) []string {
	seen := map[string]bool{}
	var rest []string
	for _, s := range samples {
		for n := range s.Streams {
			if !seen[n] {
				seen[n] = true
				rest = append(rest, n)
			}
		}
	}
	sort.Strings(rest)
	out := append([]string(nil), WorkStreams...)
	for _, n := range rest {
		if n != proto.StreamRaw && n != proto.StreamOps {
			out = append(out, n)
		}
	}
	return out
}

// deadLettered returns the users with a letter in the DLQ from run (every
// run when runID is empty), by braze_id (read from each letter's original
// message, a RawUser or a ContactUpsert: both carry it), with the letter's
// stage.reason, and how many of the letters name none. A letter is not
// always a user left unwritten: side letters report a user written without
// its email (invalid, or another contact's).
func deadLettered(ctx context.Context, js jetstream.JetStream, runID string) (ids map[string]string, unnamed int, err error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	ids = map[string]string{}
	s, err := js.Stream(ctx, proto.StreamDLQ)
	if err != nil {
		return nil, 0, fmt.Errorf("reading the DLQ stream: %w", err)
	}
	total := s.CachedInfo().State.Msgs
	if total == 0 {
		return ids, 0, nil
	}
	c, err := js.OrderedConsumer(ctx, proto.StreamDLQ, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, 0, fmt.Errorf("reading the DLQ: %w", err)
	}
	for got := uint64(0); got < total; {
		b, err := c.Fetch(1000, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return nil, 0, fmt.Errorf("reading the DLQ (%d of %d read): %w", got, total, err)
		}
		for m := range b.Messages() {
			got++
			var dl proto.DeadLetter
			if err := proto.Decode(m.Data(), &dl); err != nil {
				return nil, 0, fmt.Errorf("decoding the dead letter on %s: %w", m.Subject(), err)
			}
			if runID != "" && dl.RunID != runID {
				continue
			}
			// A ContactUpsert reads a RawUser's braze_id too (same key; the
			// fields it lacks are skipped).
			var u proto.ContactUpsert
			if proto.Decode(dl.Data, &u) != nil || u.BrazeID == "" {
				unnamed++
				continue
			}
			ids[u.BrazeID] = dl.Stage + "." + dl.Reason
		}
		if err := b.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return nil, 0, fmt.Errorf("reading the DLQ: %w", err)
		}
		if ctx.Err() != nil {
			return nil, 0, fmt.Errorf("reading the DLQ: %d of %d read: %w", got, total, ctx.Err())
		}
	}
	return ids, unnamed, nil
}

// redeliveries sums, over the consumers of the work streams, the deliveries
// beyond the first (numbered deliveries minus the last stream sequence
// delivered: exact for a consumer alone on its stream that has handled all
// of it, as the chaos driver counts them).
func redeliveries(ctx context.Context, js jetstream.JetStream) (int64, error) {
	var n int64
	for _, name := range WorkStreams {
		s, err := js.Stream(ctx, name)
		if err != nil {
			return 0, fmt.Errorf("reading stream %s: %w", name, err)
		}
		l := s.ListConsumers(ctx)
		for ci := range l.Info() {
			n += int64(ci.Delivered.Consumer) - int64(ci.Delivered.Stream)
		}
		if err := l.Err(); err != nil {
			return 0, fmt.Errorf("listing the consumers of %s: %w", name, err)
		}
	}
	return n, nil
}

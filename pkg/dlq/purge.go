package dlq

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// errLimit is returned by Purge for a filter with a limit.
var errLimit = errors.New("purge takes no limit: it removes every letter the filter selects")

// Purge removes the dead letters f selects (every one when f is empty) and
// returns how many it removed. Letters stored while it runs are kept: it
// purges up to the stream's last sequence at the moment it counted.
func Purge(ctx context.Context, js jetstream.JetStream, f Filter) (uint64, error) {
	if f.Limit != 0 {
		return 0, fmt.Errorf("purging dead letters: %w", errLimit)
	}
	s, err := stream(ctx, js)
	if err != nil {
		return 0, fmt.Errorf("purging dead letters: %w", err)
	}
	subject := f.Subject()
	snap, err := take(ctx, s, subject)
	if err != nil || snap.total == 0 {
		return 0, err
	}
	err = s.Purge(ctx, jetstream.WithPurgeSubject(subject), jetstream.WithPurgeSequence(snap.lastSeq+1))
	if err != nil {
		return 0, fmt.Errorf("purging dead letters under %s: %w", subject, err)
	}
	return snap.total, nil
}

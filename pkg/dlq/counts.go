package dlq

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/proto"
)

// Counts returns how many dead letters there are per stage and reason, from
// the stream's per-subject counts: it reads no letter, so it is cheap
// enough for a status command.
func Counts(ctx context.Context, js jetstream.JetStream) (map[string]map[string]uint64, error) {
	s, err := stream(ctx, js)
	if err != nil {
		return nil, fmt.Errorf("counting dead letters: %w", err)
	}
	snap, err := take(ctx, s, proto.SubjectsDLQ)
	if err != nil {
		return nil, fmt.Errorf("counting dead letters: %w", err)
	}
	out := map[string]map[string]uint64{}
	for subj, n := range snap.bySubj {
		stage, reason, ok := splitSubject(subj)
		if !ok {
			continue // not a dlq.<stage>.<reason> subject: not ours to count
		}
		if out[stage] == nil {
			out[stage] = map[string]uint64{}
		}
		out[stage][reason] += n
	}
	return out, nil
}

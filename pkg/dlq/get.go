package dlq

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/proto"
)

// ErrNotFound is returned for an ID that names no dead letter.
var ErrNotFound = errors.New("no such dead letter (replayed, purged or expired?); `tajo dlq list` shows the ids there are")

// Get returns the dead letter with id.
func Get(ctx context.Context, js jetstream.JetStream, id uint64) (Item, error) {
	s, err := stream(ctx, js)
	if err != nil {
		return Item{}, err
	}
	m, err := s.GetMsg(ctx, id)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return Item{}, fmt.Errorf("dead letter %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Item{}, fmt.Errorf("reading dead letter %d: %w", id, err)
	}
	if !strings.HasPrefix(m.Subject, "dlq.") {
		// A DLQ stream reconfigured by hand could hold other subjects.
		return Item{}, fmt.Errorf("message %d of %s is on %s, not a dead letter: %w", id, proto.StreamDLQ, m.Subject, ErrNotFound)
	}
	return decodeItem(m.Sequence, m.Subject, m.Time, m.Data), nil
}

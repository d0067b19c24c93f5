package state

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Drained reports whether the durable consumer on stream has nothing left
// to deliver and nothing delivered but unsettled: the stage it feeds is done
// with everything published so far.
func (s *Store) Drained(ctx context.Context, js jetstream.JetStream, stream, durable string) (bool, error) {
	c, err := js.Consumer(ctx, stream, durable)
	if err != nil {
		return false, fmt.Errorf("checking consumer %s on %s is drained: %w", durable, stream, err)
	}
	info := c.CachedInfo()
	return info.NumPending == 0 && info.NumAckPending == 0, nil
}

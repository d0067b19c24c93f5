package state

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/tajo-sync/tajo/proto"
)

// Consumer names a durable consumer of a stream.
type Consumer struct{ Stream, Durable string }

// CaughtUp reports whether nothing more is on its way to own for runs:
// each run's lines were all published (its record says so: no longer
// running), each consumer of the stages before own is Drained (a stage
// acknowledges a message once what it made of it is published), and own
// has nothing left to deliver. A stage batching a run's messages can then
// handle its batch at once (pipeline.Config.CaughtUp) instead of waiting
// for more. A run without an id is never caught up: nothing says when
// its messages end.
func (s *Store) CaughtUp(ctx context.Context, js jetstream.JetStream, runs []string, own Consumer, before ...Consumer) (bool, error) {
	for _, id := range runs {
		if id == "" {
			return false, nil
		}
		run, err := s.GetRun(ctx, id)
		if err != nil {
			return false, err
		}
		if run.Status == proto.RunRunning {
			return false, nil
		}
	}
	for _, c := range before {
		if ok, err := s.Drained(ctx, js, c.Stream, c.Durable); err != nil || !ok {
			return false, err
		}
	}
	c, err := js.Consumer(ctx, own.Stream, own.Durable)
	if err != nil {
		return false, fmt.Errorf("checking consumer %s on %s has delivered everything: %w", own.Durable, own.Stream, err)
	}
	return c.CachedInfo().NumPending == 0, nil
}

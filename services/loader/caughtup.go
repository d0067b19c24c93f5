package loader

import (
	"context"

	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
)

// caughtUp says whether anything more is on its way to the loaders for the
// given runs (pipeline.Config.CaughtUp, state.Store.CaughtUp): nothing is
// once the runs were exported whole, the transformer has nothing left of
// RAW, not even unacknowledged, and OPS has nothing left to deliver. The
// last batch of a sync then goes as soon as it holds its upserts instead
// of batch_wait later; an incremental sync of a few thousand changed users
// is one such batch. What it cannot tell (a read failing) is a no: the
// batch waits, as it would have.
func (l *Loader) caughtUp(ctx context.Context, runs []string) bool {
	if l.state == nil {
		return false
	}
	ok, err := l.state.CaughtUp(ctx, l.js, runs, state.Consumer{Stream: proto.StreamOps, Durable: Durable},
		state.Consumer{Stream: proto.StreamRaw, Durable: proto.DurableTransformerUsers})
	return err == nil && ok
}

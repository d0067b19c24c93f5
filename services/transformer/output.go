package transformer

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/pipeline"
)

// carryHeaders copies to the message a worker publishes the headers of the
// message it came from that say where it belongs (its run's line, its
// trace): those of keys that from holds.
func carryHeaders(to, from nats.Header, keys ...string) {
	for _, h := range keys {
		if v := from.Get(h); v != "" {
			to.Set(h, v)
		}
	}
}

// settlePublished waits until the stream stored what pub published for the
// batch's messages at the indices published, then settles each of them
// passed, with flags(i) (nil: none); when the stream did not store it all,
// each of them gets the failure instead (what names what was published),
// so that it is redelivered.
func settlePublished(ctx context.Context, pub *pipeline.Publisher, batch []*pipeline.Msg, published []int, errs []error,
	what string, flags func(i int) ledger.Flags) {
	if err := pub.Flush(ctx); err != nil {
		for _, i := range published {
			errs[i] = fmt.Errorf("publishing %s: %w", what, err)
		}
		return
	}
	for _, i := range published {
		var f ledger.Flags
		if flags != nil {
			f = flags(i)
		}
		batch[i].Settle(ledger.Passed, f)
	}
}

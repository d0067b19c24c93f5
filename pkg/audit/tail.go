package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/proto"
)

// TailSource is what Tail needs from JetStream; jetstream.JetStream has it.
type TailSource interface {
	Stream(ctx context.Context, name string) (jetstream.Stream, error)
}

// ErrNoAuditStream is returned by Tail when the server has no AUDIT stream:
// nothing was ever run against it.
var ErrNoAuditStream = errors.New("no AUDIT stream on this NATS server: nothing has run against it yet " +
	"(start `tajo run`, or point NATS_URL at the deployment's server)")

// idleWait is how long Tail without follow waits for the next of the
// entries that existed when it started. They arrive at once; the wait only
// ends a read whose last entries expired (max age) meanwhile.
const idleWait = 5 * time.Second

// Tail calls fn with the last n entries of the AUDIT stream, oldest first
// (n <= 0: none of the past ones). Without follow it returns once it has
// shown the entries present when it started; with follow it goes on with
// new entries until ctx is done, and then returns nil. Messages that are
// not audit entries are skipped.
func Tail(ctx context.Context, js TailSource, n int, follow bool, fn func(Entry)) error {
	stream, err := js.Stream(ctx, proto.StreamAudit)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return ErrNoAuditStream
	}
	if err != nil {
		return fmt.Errorf("opening the AUDIT stream: %w", err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("reading the AUDIT stream's state: %w", err)
	}
	first, last := info.State.FirstSeq, info.State.LastSeq
	if !follow && (n <= 0 || info.State.Msgs == 0) {
		return nil
	}
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy}
	if n > 0 && info.State.Msgs > 0 {
		start := first
		if last >= uint64(n) && last-uint64(n)+1 > first {
			start = last - uint64(n) + 1
		}
		cfg = jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: start}
	}
	cons, err := stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("reading the AUDIT stream: %w", err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("reading the AUDIT stream: %w", err)
	}
	defer it.Stop()
	defer context.AfterFunc(ctx, it.Stop)()
	for {
		var msg jetstream.Msg
		if follow {
			msg, err = it.Next(jetstream.NextContext(ctx))
		} else {
			msg, err = it.Next(jetstream.NextMaxWait(idleWait))
		}
		switch {
		case err == nil:
		case ctx.Err() != nil && follow:
			return nil // Ctrl-C ends following: not an error
		case ctx.Err() != nil:
			return fmt.Errorf("reading the AUDIT stream: %w", ctx.Err())
		case !follow && errors.Is(err, nats.ErrTimeout):
			return nil // the rest of the past expired (max age) while we read
		default:
			return fmt.Errorf("reading the AUDIT stream: %w", err)
		}
		if e, err := Decode(msg.Data()); err == nil {
			fn(e)
		}
		if meta, err := msg.Metadata(); err == nil && !follow && meta.Sequence.Stream >= last {
			return nil
		}
	}
}

package chaos

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/tools/sandbox"
	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
)

// Snapshot is what one run left behind: the Brevo simulator's contacts and
// lists, the DLQ, and how the run got there.
type Snapshot struct {
	Contacts  []brevosim.Contact
	ListNames map[int64]string // list id -> name: ids differ between simulators, names do not
	// DLQ counts dead letters by "stage.reason".
	DLQ map[string]int
	// ConcurrentImports counts imports Brevo got while another ran.
	ConcurrentImports int
	// Statuses counts the requests both simulators answered, by status
	// ("200", "429", ..., and "timeout", "reset", "lost", "truncated" for
	// injected faults that leave none).
	Statuses map[string]int
	// Redeliveries counts JetStream deliveries beyond the first, over the
	// consumers of RAW and OPS.
	Redeliveries int64
	// Writes counts the contacts Brevo was asked to write: import rows plus
	// single upserts. Without kills, restarts or faults each contact is
	// written once: Writes equals the summary's created plus updated.
	Writes int
}

// snapshot reads sb and the streams once the run is through.
func snapshot(ctx context.Context, js jetstream.JetStream, sb *sandbox.Sandbox) (*Snapshot, error) {
	st := sb.Brevo.State()
	s := &Snapshot{
		Contacts:          sb.Brevo.Contacts(),
		ListNames:         map[int64]string{},
		ConcurrentImports: st.Imports.ConcurrentViolations,
		Statuses:          statuses(sb),
		Writes:            st.Imports.Rows.Rows,
	}
	for k, c := range st.Requests {
		if strings.HasPrefix(k, "POST /v3/contacts ") {
			s.Writes += c
		}
	}
	for _, l := range st.Lists {
		s.ListNames[l.ID] = l.Name
	}
	var err error
	if s.DLQ, err = deadLetters(ctx, js); err != nil {
		return nil, err
	}
	if s.Redeliveries, err = redeliveries(ctx, js); err != nil {
		return nil, err
	}
	return s, nil
}

// statuses counts the requests both simulators answered, by status.
func statuses(sb *sandbox.Sandbox) map[string]int {
	out := maps.Clone(sb.Brevo.State().Statuses)
	if out == nil {
		out = map[string]int{}
	}
	for k, n := range sb.Braze.Requests() {
		out[k[strings.LastIndexByte(k, ' ')+1:]] += n
	}
	return out
}

// deadLetters counts the DLQ's messages by stage and reason.
func deadLetters(ctx context.Context, js jetstream.JetStream) (map[string]int, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	info, err := js.Stream(ctx, proto.StreamDLQ)
	if err != nil {
		return nil, fmt.Errorf("reading the DLQ stream: %w", err)
	}
	total := int(info.CachedInfo().State.Msgs)
	out := map[string]int{}
	if total == 0 {
		return out, nil
	}
	c, err := js.OrderedConsumer(ctx, proto.StreamDLQ, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, fmt.Errorf("reading the DLQ: %w", err)
	}
	for got := 0; got < total; {
		b, err := c.Fetch(1000, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return nil, fmt.Errorf("reading the DLQ (%d of %d read): %w", got, total, err)
		}
		for m := range b.Messages() {
			got++
			var dl proto.DeadLetter
			if err := proto.Decode(m.Data(), &dl); err != nil {
				return nil, fmt.Errorf("decoding the dead letter on %s: %w", m.Subject(), err)
			}
			out[dl.Stage+"."+dl.Reason]++
		}
		if err := b.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return nil, fmt.Errorf("reading the DLQ: %w", err)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("reading the DLQ: %d of %d read: %w", got, total, ctx.Err())
		}
	}
	return out, nil
}

// redeliveries sums, over the consumers of RAW and OPS, the deliveries
// beyond the first. A consumer numbers every delivery, redeliveries
// included (Delivered.Consumer), while Delivered.Stream is the last stream
// sequence it delivered; once a consumer has handled its whole stream, and
// it is the only one on a stream of its own subjects (true of both here),
// the difference is the number of redeliveries: naks, expired acks of
// killed workers, deliveries lost in a server restart. The sequences
// survive restarts in the file store.
func redeliveries(ctx context.Context, js jetstream.JetStream) (int64, error) {
	var n int64
	for _, name := range []string{proto.StreamRaw, proto.StreamOps} {
		s, err := js.Stream(ctx, name)
		if err != nil {
			return 0, fmt.Errorf("reading stream %s: %w", name, err)
		}
		lister := s.ListConsumers(ctx)
		for ci := range lister.Info() {
			n += int64(ci.Delivered.Consumer) - int64(ci.Delivered.Stream)
		}
		if err := lister.Err(); err != nil {
			return 0, fmt.Errorf("listing the consumers of %s: %w", name, err)
		}
	}
	return n, nil
}

package state

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/proto"
)

// EventsProcessed reads the counter of events written to Brevo
// (proto.EventsProcessedKey; the events loader adds to it).
func EventsProcessed(ctx context.Context, kv jetstream.KeyValue) (uint64, error) {
	entry, err := kv.Get(ctx, proto.EventsProcessedKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading events processed: %w", err)
	}
	return proto.DecodeCount(entry.Value()), nil
}

// SegmentMirrors reads what is recorded of every mirrored segment
// (proto.SegmentMirrorKey; the segment mirror writes them), by segment id
// order.
func SegmentMirrors(ctx context.Context, kv jetstream.KeyValue) ([]proto.SegmentMirror, error) {
	l, err := kv.ListKeysFiltered(ctx, proto.SegmentMirrorKeys)
	if err != nil {
		return nil, fmt.Errorf("listing mirrored segments: %w", err)
	}
	defer func() { _ = l.Stop() }()
	var keys []string
	for k := range l.Keys() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]proto.SegmentMirror, 0, len(keys))
	for _, k := range keys {
		e, err := kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", k, err)
		}
		var ms proto.SegmentMirror
		if err := proto.Decode(e.Value(), &ms); err != nil {
			return nil, fmt.Errorf("reading %s: %w", k, err)
		}
		out = append(out, ms)
	}
	return out, nil
}

package state

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/proto"
)

// PutHealth records a process's health snapshot.
func (s *Store) PutHealth(ctx context.Context, h *proto.Health) error {
	b, err := proto.Encode(h)
	if err != nil {
		return err
	}
	return s.put(ctx, proto.HealthKey(h.Service, h.Instance), b)
}

// Healths returns every process's last health snapshot, by service and
// instance.
func (s *Store) Healths(ctx context.Context) ([]proto.Health, error) {
	lister, err := s.kv.ListKeysFiltered(ctx, "health.>")
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("listing health snapshots: %w", err)
	}
	var out []proto.Health
	for key := range lister.Keys() {
		b, err := s.get(ctx, key)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var h proto.Health
		if err := proto.Decode(b, &h); err != nil {
			return nil, fmt.Errorf("reading %s: %w", key, err)
		}
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].Instance < out[j].Instance
	})
	return out, nil
}

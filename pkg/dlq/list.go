package dlq

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// List returns the dead letters f selects, oldest first, at most f.Limit
// of them when it is set.
func List(ctx context.Context, js jetstream.JetStream, f Filter) ([]Item, error) {
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("listing dead letters: %w", err)
	}
	var items []Item
	err := scan(ctx, js, f.Subject(), func(it Item) (bool, error) {
		items = append(items, it)
		return f.Limit == 0 || len(items) < f.Limit, nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing dead letters: %w", err)
	}
	return items, nil
}

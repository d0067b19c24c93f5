package state

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/proto"
)

// ErrNotFound is returned for a run that does not exist.
var ErrNotFound = errors.New("not found")

// Store reads and writes runs, cursors and counters in proto.BucketState.
type Store struct {
	kv jetstream.KeyValue
}

// NewStore opens the proto.BucketState bucket, which natsx.Provision creates.
func NewStore(ctx context.Context, js jetstream.JetStream) (*Store, error) {
	kv, err := js.KeyValue(ctx, proto.BucketState)
	if err != nil {
		return nil, fmt.Errorf("opening state bucket %s (provisioned at start-up?): %w", proto.BucketState, err)
	}
	return &Store{kv: kv}, nil
}

// KeyValue is the underlying bucket.
func (s *Store) KeyValue() jetstream.KeyValue { return s.kv }

func (s *Store) get(ctx context.Context, key string) ([]byte, error) {
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("reading %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", key, err)
	}
	return e.Value(), nil
}

func (s *Store) put(ctx context.Context, key string, v []byte) error {
	if _, err := s.kv.Put(ctx, key, v); err != nil {
		return fmt.Errorf("writing %s: %w", key, err)
	}
	return nil
}

package kvmap

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// lookups bounds the concurrent KV reads of one GetMany call.
const lookups = 32

// Map is a batched view of one key-value bucket.
type Map struct {
	bucket string
	js     jetstream.JetStream
	kv     jetstream.KeyValue
}

// Open opens bucket (it must have been provisioned).
func Open(ctx context.Context, js jetstream.JetStream, bucket string) (*Map, error) {
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("opening bucket %s: %w", bucket, err)
	}
	return &Map{bucket: bucket, js: js, kv: kv}, nil
}

// HashKey is the KV key of a map key: a hex hash, always a valid subject token.
func HashKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:16])
}

// GetMany returns the stored value of each key that has one.
func (m *Map) GetMany(ctx context.Context, keys []string) (map[string]string, error) {
	out := make(map[string]string, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	next := make(chan string)
	for range min(lookups, len(keys)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				e, err := m.kv.Get(ctx, HashKey(k))
				mu.Lock()
				switch {
				case err == nil:
					out[k] = string(e.Value())
				case errors.Is(err, jetstream.ErrKeyNotFound):
				case firstErr == nil:
					firstErr = fmt.Errorf("reading %s of %q: %w", m.bucket, k, err)
				}
				mu.Unlock()
			}
		}()
	}
	defer func() {
		close(next)
		wg.Wait()
	}()
	for _, k := range keys {
		select {
		case next <- k:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	close(next)
	wg.Wait()
	next = make(chan string) // for the deferred close
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// PutMany stores entries and returns once the server has stored every one.
func (m *Map) PutMany(ctx context.Context, entries map[string]string) error {
	if len(entries) == 0 {
		return nil
	}
	futures := make([]jetstream.PubAckFuture, 0, len(entries))
	for k, v := range entries {
		f, err := m.js.PublishAsync("$KV."+m.bucket+"."+HashKey(k), []byte(v))
		if err != nil {
			return fmt.Errorf("writing %s of %q: %w", m.bucket, k, err)
		}
		futures = append(futures, f)
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("writing %s: %w", m.bucket, err)
		case <-ctx.Done():
			return fmt.Errorf("writing %d entries of %s: %w", len(entries), m.bucket, ctx.Err())
		}
	}
	return nil
}

// Delete removes key.
func (m *Map) Delete(ctx context.Context, key string) error {
	if err := m.kv.Delete(ctx, HashKey(key)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("deleting %s of %q: %w", m.bucket, key, err)
	}
	return nil
}

package kvmap

import (
	"context"
	"time"
)

// SetAckTimeout shortens how long m waits for a shard write's
// acknowledgement.
func SetAckTimeout(m *Map, d time.Duration) { m.ackTimeout = d }

// SetShape gives m baseHex hex digits of base shards (16^baseHex of them)
// and seals shards written with more than splitAt entries, so that a test
// splits shards with a few thousand keys.
func SetShape(m *Map, baseHex, splitAt int) { m.setShape(baseHex, splitAt) }

// Written is the number of entries in the shards m has written.
func Written(m *Map) int64 { return m.written.Load() }

// StoredEntries counts the entries of every shard m's bucket holds now,
// sealed ones' frozen entries included.
func StoredEntries(ctx context.Context, m *Map) (int, error) {
	keys, err := m.kv.ListKeys(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for k := range keys.Keys() {
		e, err := m.kv.Get(ctx, k)
		if err != nil {
			return 0, err
		}
		es, _, err := decodeShard(e.Value())
		if err != nil {
			return 0, err
		}
		n += len(es)
	}
	return n, nil
}

// Widest is the most addresses whose shards one read of m held at once.
func Widest(m *Map) int64 { return m.widest.Load() }

// ChunkKeys bounds the keys one read or write of many holds at once.
const ChunkKeys = chunkKeys

package state

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/proto"
)

// Counter is one worker instance's counters, per run. Create it with
// Store.NewCounter; it is safe for concurrent use.
type Counter struct {
	s               *Store
	stage, instance string

	mu   sync.Mutex
	runs map[string]*runCount
}

type runCount struct {
	c       proto.Counters
	version uint64 // bumped by every Add

	put     sync.Mutex // serialises the puts of this run's key
	written uint64     // version of the last stored snapshot
}

// NewCounter returns the counters of one instance of stage.
func (s *Store) NewCounter(stage, instance string) *Counter {
	return &Counter{s: s, stage: stage, instance: instance, runs: map[string]*runCount{}}
}

// Add adds delta to this instance's counters of runID and stores the
// resulting snapshot (one put, skipped when a concurrent Add already stored
// a snapshot that includes delta).
func (c *Counter) Add(ctx context.Context, runID string, delta proto.Counters) error {
	if runID == "" {
		return errors.New("adding counters: empty run id")
	}
	c.mu.Lock()
	rc := c.runs[runID]
	if rc == nil {
		rc = &runCount{}
		c.runs[runID] = rc
	}
	rc.c.Add(delta)
	rc.version++
	mine := rc.version
	c.mu.Unlock()

	rc.put.Lock()
	defer rc.put.Unlock()
	if rc.written >= mine {
		return nil // a later snapshot, which includes delta, is stored
	}
	c.mu.Lock()
	snap, version := rc.c, rc.version
	c.mu.Unlock()
	snap.V = proto.SchemaVersion
	b, err := proto.Encode(&snap)
	if err != nil {
		return fmt.Errorf("adding counters of run %s: %w", runID, err)
	}
	key := proto.CounterKey(runID, c.stage, c.instance)
	if err := c.s.put(ctx, key, b); err != nil {
		return fmt.Errorf("adding counters of run %s: %w", runID, err)
	}
	rc.written = version
	return nil
}

// Counters sums every instance's counters of runID by stage.
func (s *Store) Counters(ctx context.Context, runID string) (map[string]proto.Counters, error) {
	prefix := proto.CounterPrefix(runID)
	w, err := s.kv.WatchFiltered(ctx, []string{prefix + ">"}, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("reading counters of run %s: %w", runID, err)
	}
	defer func() { _ = w.Stop() }()
	out := map[string]proto.Counters{}
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("reading counters of run %s: %w", runID, ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return nil, fmt.Errorf("reading counters of run %s: watcher closed", runID)
			}
			if e == nil { // every current value has been delivered
				return out, nil
			}
			stage, _, _ := strings.Cut(strings.TrimPrefix(e.Key(), prefix), ".")
			var c proto.Counters
			if err := proto.Decode(e.Value(), &c); err != nil {
				return nil, fmt.Errorf("reading counters %s: %w", e.Key(), err)
			}
			sum := out[stage]
			sum.V = proto.SchemaVersion
			sum.Add(c)
			out[stage] = sum
		}
	}
}

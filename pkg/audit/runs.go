package audit

import (
	"context"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/proto"
)

// RunSource is what FollowRuns needs from the state bucket
// (proto.BucketState); jetstream.KeyValue has it.
type RunSource interface {
	Watch(ctx context.Context, keys string, opts ...jetstream.WatchOpt) (jetstream.KeyWatcher, error)
}

// FollowRuns stamps entries with the latest run of resource (the state
// bucket's proto.LastRunKey), starting with the one recorded now, and keeps
// following it in the background until ctx is done. It returns once the
// current value is known, so calls made after it are stamped.
func (r *Recorder) FollowRuns(ctx context.Context, kv RunSource, resource string) error {
	key := proto.LastRunKey(resource)
	w, err := kv.Watch(ctx, key)
	if err != nil {
		return fmt.Errorf("watching the last run of %s for the audit log: %w", resource, err)
	}
	// A watcher sends the current value (if any), then a nil marking the
	// end of the initial values, then updates.
	ready := make(chan struct{})
	var once sync.Once
	markReady := func() { once.Do(func() { close(ready) }) }
	go func() {
		defer func() { _ = w.Stop() }()
		defer markReady() // a watcher closed early must not leave the caller waiting
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e == nil {
					markReady()
					continue
				}
				if e.Operation() == jetstream.KeyValuePut {
					r.SetRun(string(e.Value()))
				}
			}
		}
	}()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("watching the last run of %s for the audit log: %w", resource, ctx.Err())
	}
}

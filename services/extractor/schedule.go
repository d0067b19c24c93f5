package extractor

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tajo-sync/tajo/pkg/state"
)

// leased runs job at once and then every interval (0: once), for as long
// as this replica holds lease name: the replicas of the extractor take
// turns, one at a time. A holder that cannot refresh the lease in time
// stops its job (its context is cancelled) and competes for the lease
// again. It returns when ctx is done or job fails with a non-cancellation
// error (a failed run is the job's to record, not a reason to stop).
func leased(ctx context.Context, st *state.Store, name, holder string, ttl, interval time.Duration,
	log *slog.Logger, job func(context.Context)) error {
	for {
		lease, err := st.AcquireLease(ctx, name, holder, ttl)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("extractor: %w", err)
		}
		log.Info("holding the lease: leading", "lease", name)
		lctx, cancel := context.WithCancel(ctx)
		kept := make(chan struct{})
		go func() {
			defer close(kept)
			keepLease(lctx, lease, ttl, log, cancel)
		}()
		for {
			job(lctx)
			if interval <= 0 {
				<-lctx.Done()
			}
			select {
			case <-lctx.Done():
			case <-time.After(interval):
				continue
			}
			break
		}
		cancel()
		<-kept
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if rerr := lease.Release(rctx); rerr != nil {
			log.Warn("releasing the lease; a standby takes it after its ttl", "lease", name, "err", rerr)
		}
		rcancel()
		if ctx.Err() != nil {
			return nil
		}
	}
}

// keepLease refreshes lease every ttl/4 until ctx is done; when it cannot
// for half the ttl, it gives up, calls lost (a standby takes over) and
// reports true. The schedule and the segments mirror both lead through it.
func keepLease(ctx context.Context, lease *state.Lease, ttl time.Duration, log *slog.Logger, lost context.CancelFunc) bool {
	t := time.NewTicker(ttl / 4)
	defer t.Stop()
	lastOK := time.Now()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			rctx, rcancel := context.WithTimeout(ctx, ttl/4)
			err := lease.Refresh(rctx)
			rcancel()
			switch {
			case err == nil:
				lastOK = time.Now()
			case ctx.Err() != nil:
				return false
			case time.Since(lastOK) < ttl/2:
				log.Warn("refreshing the lease", "err", err)
			default:
				log.Error("lost the lease: stepping down", "err", err)
				lost()
				return true
			}
		}
	}
}

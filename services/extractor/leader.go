package extractor

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// ScheduleLease names the lease (in the state bucket) the replica that
// leads holds: it alone answers sync requests, runs the schedule and runs
// exports.
const ScheduleLease = "extractor.schedule"

// DefaultLeaseTTL is how long a leader that stopped refreshing (killed, cut
// off) keeps the schedule before a standby takes it over. A leader steps
// down once it has not refreshed for half of it, so it is long enough that
// a busy server (refreshes answered in seconds, as in an all-in-one process
// on two busy cores) does not make the only leader stop its run: at 6 s
// the bench's leader stepped down about once a minute.
const DefaultLeaseTTL = 15 * time.Second

// idleWait bounds how long a leader that steps down waits for its run to
// record itself interrupted before it lets the lease go.
const idleWait = 30 * time.Second

// Run leads (see lead) while this replica holds the schedule lease, until
// ctx is done. Several replicas may run: the others wait for the lease and
// the first to take it over resumes the run its holder left running (see
// resumeInterrupted). A leader that cannot refresh the lease in time stops
// its run, which stays running for the next leader to resume, and competes
// for the lease again.
func (e *Extractor) Run(ctx context.Context, nc *nats.Conn, interval time.Duration) error {
	holder := e.cfg.Instance + "/" + nc.ConnectedServerId() + "/" + fmt.Sprint(time.Now().UnixNano())
	for {
		if e.cfg.Instance != "" {
			e.log.Info("waiting for the schedule lease", "lease", ScheduleLease, "instance", e.cfg.Instance)
		}
		lease, err := e.st.AcquireLease(ctx, ScheduleLease, holder, e.cfg.LeaseTTL)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("extractor: %w", err)
		}
		e.log.Info("holding the schedule lease: leading", "lease", ScheduleLease, "instance", e.cfg.Instance)
		lctx, cancel := context.WithCancel(ctx)
		lost := make(chan struct{})
		kept := make(chan struct{})
		go func() {
			defer close(kept)
			t := time.NewTicker(e.cfg.LeaseTTL / 4)
			defer t.Stop()
			lastOK := time.Now()
			for {
				select {
				case <-lctx.Done():
					return
				case <-t.C:
					rctx, rcancel := context.WithTimeout(lctx, e.cfg.LeaseTTL/4)
					err := lease.Refresh(rctx)
					rcancel()
					switch {
					case err == nil:
						lastOK = time.Now()
					case lctx.Err() != nil:
					case time.Since(lastOK) < e.cfg.LeaseTTL/2:
						// A server restarting: try again before a standby
						// could take the lease over.
						e.log.Warn("refreshing the schedule lease", "err", err)
					default:
						e.log.Error("lost the schedule lease: stepping down", "err", err)
						close(lost)
						cancel()
						return
					}
				}
			}
		}()
		err = e.lead(lctx, nc, interval)
		cancel()
		<-kept
		e.waitIdle(idleWait)
		select {
		case <-lost:
		default:
			rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if rerr := lease.Release(rctx); rerr != nil {
				e.log.Warn("releasing the schedule lease; a standby takes it after its ttl", "err", rerr)
			}
			rcancel()
		}
		if err != nil || ctx.Err() != nil {
			return err
		}
	}
}

// waitIdle waits until no run is in progress in this process, at most d.
func (e *Extractor) waitIdle(d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		e.mu.Lock()
		busy := e.current != ""
		e.mu.Unlock()
		if !busy {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.log.Warn("a run did not stop in time; the next leader resumes it")
}

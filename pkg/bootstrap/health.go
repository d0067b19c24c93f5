package bootstrap

import (
	"context"
	"log/slog"
	"time"

	"github.com/tajo-sync/tajo/pkg/resilience"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
)

// healthEvery is how often a process records its guards' state.
const healthEvery = 2 * time.Second

// ReportHealth records the state of guards (breakers, transitions, 429s,
// retries) under the process's health key every healthEvery, until ctx is
// done; the returned stop records one last snapshot and waits.
func ReportHealth(ctx context.Context, st *state.Store, service, instance string, log *slog.Logger, guards ...*resilience.Guard) (stop func()) {
	snapshot := func(ctx context.Context) {
		h := &proto.Health{V: proto.SchemaVersion, Service: service, Instance: instance, At: time.Now().UnixMilli(),
			Breakers: map[string]string{}, Transitions: map[string]int64{}}
		for _, g := range guards {
			if g == nil {
				continue
			}
			for b, s := range g.Breakers.States() {
				h.Breakers[g.Vendor+"/"+b] = s
			}
			for t, n := range g.Breakers.Transitions() {
				h.Transitions[g.Vendor+"/"+t] = n
			}
			h.Throttled += g.Limiter.Throttled()
			h.Retries += g.Retries()
		}
		if err := st.PutHealth(ctx, h); err != nil {
			log.Debug("recording health", "err", err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(healthEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				snapshot(ctx)
			}
		}
	}()
	return func() {
		cancel()
		<-done
		fctx, fcancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer fcancel()
		snapshot(fctx)
	}
}

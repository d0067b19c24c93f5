package extractor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/tajo-sync/tajo/proto"
)

// lead serves sync requests on proto.SubjectSyncRequest and, when interval
// is positive, starts a sync every interval, until ctx is done:
// incremental, or full once Config.FullEvery has passed since the last full
// one. Only the holder of the schedule lease leads (see Run).
func (e *Extractor) lead(ctx context.Context, nc *nats.Conn, interval time.Duration) error {
	sub, err := nc.Subscribe(proto.SubjectSyncRequest, func(m *nats.Msg) {
		var req proto.SyncRequest
		if len(m.Data) > 0 {
			if err := json.Unmarshal(m.Data, &req); err != nil {
				respond(m, proto.SyncReply{Error: fmt.Sprintf("bad sync request: %v", err)})
				return
			}
		}
		id, err := e.Start(ctx, req.Type)
		rep := proto.SyncReply{RunID: id}
		if err != nil {
			rep.Error = err.Error()
			rep.Busy = errors.Is(err, ErrBusy)
		}
		respond(m, rep)
	})
	if err != nil {
		return fmt.Errorf("extractor: subscribing to %s: %w", proto.SubjectSyncRequest, err)
	}
	defer sub.Unsubscribe()
	if err := e.resumeInterrupted(ctx); err != nil {
		e.log.Error("resuming an interrupted run", "err", err)
	}
	e.log.Info("extractor ready", "control", proto.SubjectSyncRequest, "interval", interval)

	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	// The last full run: the recorded one, else this start (a restart does
	// not re-export everything at once).
	lastFull := time.Now()
	if r, err := e.st.LastRun(ctx, Resource); err == nil && r.Type == "full" {
		lastFull = time.UnixMilli(r.StartedAt)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-tick:
			runType := "incremental"
			if e.cfg.FullEvery > 0 && now.Sub(lastFull)+interval/10 >= e.cfg.FullEvery {
				runType = "full"
			}
			if _, err := e.Start(ctx, runType); err != nil && !errors.Is(err, ErrBusy) {
				e.log.Error("scheduled sync", "type", runType, "err", err)
			} else if err == nil && runType == "full" {
				lastFull = now
			}
		}
	}
}

func respond(m *nats.Msg, rep proto.SyncReply) {
	b, _ := json.Marshal(rep)
	_ = m.Respond(b)
}

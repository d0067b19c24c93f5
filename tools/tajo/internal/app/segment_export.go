package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/tajo-sync/tajo/pkg/segmentexport"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/services/gateway"
	"github.com/tajo-sync/tajo/services/loader"
)

// importLeaseTTL is how long a holder of the import lease that stopped
// refreshing keeps it (the loader's own is 30s too).
const importLeaseTTL = 30 * time.Second

// ImportLock is segmentexport.Options.Lock over the loader's import lease
// in st: an export's import never runs beside a loader's. The lease is
// refreshed while held.
func ImportLock(st *state.Store, who string) func(ctx context.Context) (func(), error) {
	host, _ := os.Hostname()
	holder := fmt.Sprintf("%s/%s/%d", who, host, os.Getpid())
	return func(ctx context.Context) (func(), error) {
		lease, err := st.AcquireLease(ctx, loader.ImportLease, holder, importLeaseTTL)
		if err != nil {
			return nil, err
		}
		done := make(chan struct{})
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			t := time.NewTicker(importLeaseTTL / 4)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					if err := lease.Refresh(ctx); err != nil {
						slog.Default().Warn("refreshing the import lease", "err", err)
					}
				}
			}
		}()
		return func() {
			close(done)
			<-stopped
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = lease.Release(rctx)
		}, nil
	}
}

// ExportSegment exports a Braze segment into a Brevo list once (see
// package segmentexport), taking turns with the loader's imports.
func (a *App) ExportSegment(ctx context.Context, req segmentexport.Request) (segmentexport.Result, error) {
	return a.exportSegment(ctx, req)
}

var _ gateway.SegmentExporter = (*control)(nil)

// ExportSegment is POST /v1/connectors/braze/segments/export.
func (c *control) ExportSegment(ctx context.Context, req gateway.SegmentExport) (map[string]any, error) {
	res, err := c.a.ExportSegment(ctx, segmentexport.Request{Segment: req.SegmentID, ListID: req.ListID,
		IncludeAttributes: req.IncludeAttributes})
	if errors.Is(err, segmentexport.ErrBadRequest) {
		return nil, &gateway.BadRequestError{Msg: err.Error()}
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"count": res.Count, "skipped": res.Skipped, "segmentId": res.SegmentID,
		"segmentName": res.SegmentName, "listId": res.ListID}, nil
}

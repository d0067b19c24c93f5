package app

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/services/gateway"
)

// control is the gateway's control API over this process's pipeline.
type control struct {
	a       *App
	connect func(ctx context.Context, req gateway.ConnectRequest) (map[string]any, error)
	// life bounds the runs' followers: RunEvents' context.
	life context.Context
}

var _ gateway.Control = (*control)(nil)

func (c *control) Connect(ctx context.Context, req gateway.ConnectRequest) (map[string]any, error) {
	if req.APIKey == "" || req.InstanceURL == "" {
		return nil, &gateway.BadRequestError{Msg: "apiKey and instanceUrl are required"}
	}
	if c.connect == nil {
		return nil, &gateway.BadRequestError{Msg: "this process does not store credentials"}
	}
	return c.connect(ctx, req)
}

func (c *control) Sync(ctx context.Context, req gateway.SyncRequest) (string, error) {
	runType := req.Type
	switch runType {
	case "":
		runType = "incremental"
	case "full", "incremental":
	default:
		return "", &gateway.BadRequestError{Msg: "type must be \"full\" or \"incremental\""}
	}
	for _, r := range req.Resources {
		if r != extractor.Resource {
			return "", &gateway.BadRequestError{Msg: "resource " + r + " is not synced in this build; resources: [\"users\"]"}
		}
	}
	// The run outlives the request: it runs on the process's context.
	id, err := c.a.Extractor.Start(c.life, runType)
	if err != nil {
		return "", err
	}
	// Follow the run to its end, as tajo run does for its own syncs: Wait
	// marks it completed (or incomplete) once every stage has handled it.
	go func() {
		if _, err := Wait(c.life, c.a.JS, c.a.State, id, 0, nil); err != nil && c.life.Err() == nil {
			c.a.log.Warn("following a run started through the API failed", "run", id, "err", err)
		}
	}()
	return id, nil
}

func (c *control) Run(ctx context.Context, id string) (map[string]any, error) {
	r, err := c.a.State.GetRun(ctx, id)
	if errors.Is(err, state.ErrNotFound) {
		return nil, gateway.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return runJSON(r), nil
}

// runJSON is a run as the control API shows it (the CLI's field names).
func runJSON(r *proto.SyncRun) map[string]any {
	m := map[string]any{
		"id": r.ID, "resource": r.Resource, "type": r.Type, "status": r.Status,
		"startedAt": time.UnixMilli(r.StartedAt).UTC(), "finishedAt": nil,
		"exported": r.Exported, "malformed": r.Malformed,
		"done": slices.Contains([]string{"completed", "failed", "incomplete"}, r.Status),
	}
	if r.FinishedAt > 0 {
		m["finishedAt"] = time.UnixMilli(r.FinishedAt).UTC()
		m["durationMs"] = r.FinishedAt - r.StartedAt
	}
	if r.Error != "" {
		m["error"] = r.Error
	}
	if o := r.Outcome; o != nil {
		m["outcome"] = map[string]int64{"created": o.Created, "updated": o.Updated, "unchanged": o.Unchanged,
			"merged": o.Merged, "stale": o.Stale, "deadLettered": o.DeadLettered, "missing": o.Missing}
	}
	return m
}

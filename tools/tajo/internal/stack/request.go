package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tajo-sync/tajo/proto"
)

// RequestSync asks the extractor for a full sync on the control subject,
// retrying until one answers.
func RequestSync(ctx context.Context, nc *nats.Conn) (string, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		m, err := nc.Request(proto.SubjectSyncRequest, []byte(`{"type":"full"}`), 2*time.Second)
		if err == nil {
			var rep proto.SyncReply
			if err := json.Unmarshal(m.Data, &rep); err != nil {
				return "", fmt.Errorf("reading the extractor's answer to a sync request: %w", err)
			}
			if rep.Error != "" || rep.RunID == "" {
				return "", fmt.Errorf("the extractor refused the sync: %q", rep.Error)
			}
			return rep.RunID, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no extractor answered on %s within 2 minutes (%v): is it running?", proto.SubjectSyncRequest, err)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("requesting a sync: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

package app

import (
	"context"
	"time"

	"github.com/tajo-sync/tajo/services/gateway"
)

// waitListening tells ready the gateway's address once it listens.
func waitListening(ctx context.Context, gw *gateway.Server, ready func(string)) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if a := gw.Addr(); a != nil {
			ready(a.String())
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

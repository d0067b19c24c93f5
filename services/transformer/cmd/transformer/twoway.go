package main

import (
	"context"
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/twoway"
	"github.com/tajo-sync/tajo/services/transformer"
)

// twoWay returns, when connectors.brevo.two_way is on, the syncer the
// users worker reconciles with and the reverse worker (raw.brevo.* →
// ops.braze.*); nil and nil when it is off.
func twoWay(ctx context.Context, cfg *config.Config, js jetstream.JetStream, log *slog.Logger) (*twoway.Syncer, func(context.Context) error, error) {
	p, err := cfg.TwoWayPolicy()
	if err != nil || p == nil {
		return nil, nil, err
	}
	s, err := twoway.NewSyncer(ctx, js, p)
	if err != nil {
		return nil, nil, err
	}
	r, err := transformer.NewReverse(js, s, transformer.ReverseConfig{Logger: log})
	if err != nil {
		return nil, nil, err
	}
	return s, r.Run, nil
}

// reconciler is s as a transformer.Reconciler, nil (not a nil pointer in
// an interface) when the two-way sync is off.
func reconciler(s *twoway.Syncer) transformer.Reconciler {
	if s == nil {
		return nil
	}
	return s
}

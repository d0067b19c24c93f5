package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/twoway"
	"github.com/tajo-sync/tajo/services/loader"
)

// brazeWriter returns, when connectors.brevo.two_way is on, the worker
// writing Brevo's changes to Braze (ops.braze.*), behind a Braze guard of
// its own; nil when it is off.
func brazeWriter(ctx context.Context, cfg *config.Config, creds config.Credentials, js jetstream.JetStream,
	observer func(braze.Call), log *slog.Logger) (func(context.Context) error, error) {
	p, err := cfg.TwoWayPolicy()
	if err != nil || p == nil {
		return nil, err
	}
	if creds.BrazeAPIKey == "" {
		return nil, errors.New("the two-way sync writes to Braze: export " + config.EnvBrazeAPIKey + " or run `tajo connectors install braze`")
	}
	if err := bootstrap.UseStoredInstance(cfg, config.Home()); err != nil {
		return nil, err
	}
	bc := bootstrap.BrazeConfig(cfg, creds.BrazeAPIKey)
	bc.Observer = observer
	guard, err := bootstrap.GuardBraze(cfg.Resilience, &bc, log)
	if err != nil {
		return nil, err
	}
	client, err := braze.New(bc)
	if err != nil {
		return nil, err
	}
	s, err := twoway.NewSyncer(ctx, js, p)
	if err != nil {
		return nil, err
	}
	w, err := loader.NewBrazeSink(js, client, s, loader.BrazeConfig{Paused: guard.Open, Logger: log})
	if err != nil {
		return nil, err
	}
	return w.Run, nil
}

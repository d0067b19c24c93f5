package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/services/extractor"
)

// brevoPoller returns, when connectors.brevo.two_way is on, the poller of
// Brevo's changed contacts (raw.brevo.contacts), behind a Brevo guard of
// its own; nil when it is off. Replicas take turns through a lease.
func brevoPoller(cfg *config.Config, creds config.Credentials, bus *bootstrap.Bus, observer func(brevo.Call),
	instance string, log *slog.Logger) (func(context.Context) error, error) {
	if !cfg.Connectors.Brevo.TwoWay.Enabled {
		return nil, nil
	}
	if creds.BrevoAPIKey == "" {
		return nil, errors.New("the two-way sync polls Brevo: export " + config.EnvBrevoAPIKey + " or run `tajo connectors install braze --brevo-api-key KEY`")
	}
	bc := bootstrap.BrevoConfig(cfg, creds.BrevoAPIKey)
	bc.Observer = observer
	if _, err := bootstrap.GuardBrevo(cfg.Resilience, &bc, log); err != nil {
		return nil, err
	}
	client, err := brevo.New(bc)
	if err != nil {
		return nil, err
	}
	tw := cfg.Connectors.Brevo.TwoWay
	p, err := extractor.NewPoller(bus.JS, bus.State, client, extractor.PollConfig{
		Interval: tw.PollInterval, Overlap: tw.Overlap, Instance: instance, Logger: log})
	if err != nil {
		return nil, err
	}
	return p.Run, nil
}

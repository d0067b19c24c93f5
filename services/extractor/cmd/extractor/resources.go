package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/tajo-sync/tajo/pkg/audit"
	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/services/extractor"
)

// resourceJobs are the catalog sync and the analytics read, when switched
// on (nil configs: off): each on its schedule, led by one replica at a
// time (a lease each), calling Braze through this process's guard.
func resourceJobs(ctx context.Context, cfg *config.Config, catalogs *extractor.CatalogsConfig, analytics *extractor.AnalyticsConfig,
	bus *bootstrap.Bus, bz *braze.Client, creds config.Credentials, ops *bootstrap.Ops, rec *audit.Recorder,
	instance string, log *slog.Logger) ([]func(context.Context) error, error) {
	var jobs []func(context.Context) error
	if catalogs != nil {
		catalogs.Logger, catalogs.Instance = log, instance
		cs, err := extractor.NewCatalogs(ctx, bus.JS, bz, bus.State, *catalogs)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, func(ctx context.Context) error { return cs.Run(ctx, "extractor-"+instance, nil) })
	}
	if analytics != nil {
		analytics.Logger = log
		var bv extractor.AnalyticsBrevo
		if analytics.BrevoStatistics {
			c, err := brevoStatistics(cfg, creds.BrevoAPIKey, ops, rec, log)
			if err != nil {
				return nil, err
			}
			bv = c
		}
		an, err := extractor.NewAnalytics(ctx, bus.JS, bz, bv, bus.State, *analytics)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, func(ctx context.Context) error { return an.Run(ctx, "extractor-"+instance, nil) })
	}
	return jobs, nil
}

// brevoStatistics is the Brevo client reading email campaign statistics
// (connectors.brevo.campaign_statistics): GET /emailCampaigns, in Brevo's
// 100-an-hour pool.
func brevoStatistics(cfg *config.Config, key string, ops *bootstrap.Ops, rec *audit.Recorder, log *slog.Logger) (*brevo.Client, error) {
	if key == "" {
		return nil, errors.New("connectors.brevo.campaign_statistics is on but there is no Brevo API key: export " +
			config.EnvBrevoAPIKey + " or run `tajo connectors install braze`")
	}
	bc := bootstrap.BrevoConfig(cfg, key)
	bc.Observer = ops.Calls(rec.Observer("extractor"))
	if _, err := bootstrap.GuardBrevo(cfg.Resilience, &bc, log); err != nil {
		return nil, err
	}
	return brevo.New(bc)
}

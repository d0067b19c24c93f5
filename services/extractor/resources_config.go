package extractor

import (
	"fmt"
	"time"

	"github.com/tajo-sync/tajo/pkg/config"
)

// CatalogsConfigOf is the catalog sync the configuration asks for
// (connectors.braze.sync.catalogs), nil when it is off. `tajo run` and the
// extractor service read it here, so both read it alike.
func CatalogsConfigOf(cfg *config.Config) *CatalogsConfig {
	c := cfg.Connectors.Braze.Sync.Catalogs
	if !c.Enabled {
		return nil
	}
	return &CatalogsConfig{Catalogs: c.Catalogs, Fields: c.Mapping.Fields(), Interval: c.Interval}
}

// AnalyticsConfigOf is the analytics read the configuration asks for
// (connectors.braze.sync.campaigns and .canvases,
// connectors.brevo.campaign_statistics), nil when both are off. since
// (YYYY-MM-DD, "" none: a --since flag) bounds the first backfill over the
// configured since. Both resources are read by one schedule: where their
// settings differ, the shorter interval, the longer trailing window and
// the earlier since win.
func AnalyticsConfigOf(cfg *config.Config, since string) (*AnalyticsConfig, error) {
	b := cfg.Connectors.Braze.Sync
	if !b.Campaigns.Enabled && !b.Canvases.Enabled {
		return nil, nil
	}
	a := &AnalyticsConfig{Campaigns: b.Campaigns.Enabled, Canvases: b.Canvases.Enabled,
		BrevoStatistics: cfg.Connectors.Brevo.CampaignStatistics && b.Campaigns.Enabled}
	for _, s := range []config.AnalyticsSync{b.Campaigns, b.Canvases} {
		if !s.Enabled {
			continue
		}
		if a.Interval == 0 || s.Interval < a.Interval {
			a.Interval = s.Interval
		}
		a.TrailingDays = max(a.TrailingDays, s.TrailingDays)
		if d := s.SinceDate(); !d.IsZero() && (a.Since.IsZero() || d.Before(a.Since)) {
			a.Since = d
		}
	}
	if since != "" {
		d, err := time.Parse(time.DateOnly, since)
		if err != nil || d.After(time.Now()) {
			return nil, fmt.Errorf("since %q: want a past date such as 2026-01-31", since)
		}
		a.Since = d
	}
	return a, nil
}

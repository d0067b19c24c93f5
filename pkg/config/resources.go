package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/tajo-sync/tajo/pkg/catalogmap"
)

// CatalogsSync configures the catalog sync: Braze catalog items become
// Brevo products. In the file: true, false or a mapping.
type CatalogsSync struct {
	Enabled bool `yaml:"enabled"` // default false
	// Interval between catalog syncs; default 1h. Braze serves 50 items a
	// request and 50 requests a minute: 2,500 items a minute at most.
	Interval time.Duration `yaml:"interval"`
	// Catalogs are the Braze catalogs to sync by name; empty: every one.
	Catalogs []string `yaml:"catalogs"`
	// Mapping says which item field becomes which product field.
	Mapping catalogmap.Config `yaml:"mapping"`
}

// AnalyticsSync configures the analytics of campaigns or of Canvases. In
// the file: true, false or a mapping.
type AnalyticsSync struct {
	Enabled bool `yaml:"enabled"` // default false
	// Interval between reads; default 1h.
	Interval time.Duration `yaml:"interval"`
	// Since (YYYY-MM-DD) is the first day the first backfill reads; empty:
	// DefaultBackfillDays before the first run. `tajo connectors report
	// --since` narrows what a report shows, not what is read.
	Since string `yaml:"since"`
	// TrailingDays are re-read at every run, as Braze restates recent
	// days; default 7.
	TrailingDays int `yaml:"trailing_days"`
}

// DefaultBackfillDays is how far back the first analytics read goes when
// since is not set.
const DefaultBackfillDays = 30

// maxTrailingDays bounds trailing_days: Braze restates a few days, and
// every run re-reads them all.
const maxTrailingDays = 90

func defaultCatalogsSync() CatalogsSync {
	return CatalogsSync{Interval: time.Hour, Catalogs: []string{}, Mapping: catalogmap.DefaultConfig()}
}

func defaultAnalyticsSync() AnalyticsSync {
	return AnalyticsSync{Interval: time.Hour, TrailingDays: 7}
}

// SinceDate is Since as a date (zero when not set). Validation has checked
// it parses.
func (a AnalyticsSync) SinceDate() time.Time {
	t, _ := time.Parse(time.DateOnly, a.Since)
	return t
}

// checkResources reports invalid catalog and analytics settings.
func (c *Config) checkResources(report func(path, msg string)) {
	s := c.Connectors.Braze.Sync
	const bp = "connectors.braze.sync."
	if s.Catalogs.Interval <= 0 {
		report(bp+"catalogs.interval", fmt.Sprintf("must be a positive duration such as 1h (got %s)", s.Catalogs.Interval))
	}
	seen := map[string]bool{}
	for i, n := range s.Catalogs.Catalogs {
		switch {
		case !validCatalogName(n):
			report(fmt.Sprintf("%scatalogs.catalogs[%d]", bp, i), fmt.Sprintf("%q is not a Braze catalog name: letters, digits, - and _ only", n))
		case seen[n]:
			report(fmt.Sprintf("%scatalogs.catalogs[%d]", bp, i), fmt.Sprintf("catalog %q is listed twice", n))
		}
		seen[n] = true
	}
	if err := s.Catalogs.Mapping.Validate(); err != nil {
		for _, e := range unjoin(err) {
			var fe catalogmap.FieldError
			if errors.As(e, &fe) {
				report(bp+"catalogs.mapping."+fe.Key, fe.Msg)
			} else {
				report(bp+"catalogs.mapping", e.Error())
			}
		}
	}
	for _, r := range []struct {
		key string
		a   AnalyticsSync
	}{{"campaigns", s.Campaigns}, {"canvases", s.Canvases}} {
		if r.a.Interval <= 0 {
			report(bp+r.key+".interval", fmt.Sprintf("must be a positive duration such as 1h (got %s)", r.a.Interval))
		}
		if r.a.TrailingDays < 1 || r.a.TrailingDays > maxTrailingDays {
			report(bp+r.key+".trailing_days", fmt.Sprintf("must be 1 to %d: the recent days re-read at every run, as Braze restates them (got %d; default 7)", maxTrailingDays, r.a.TrailingDays))
		}
		if r.a.Since != "" {
			t, err := time.Parse(time.DateOnly, r.a.Since)
			switch {
			case err != nil:
				report(bp+r.key+".since", fmt.Sprintf("want a date such as 2025-01-31 (got %q)", r.a.Since))
			case t.After(time.Now()):
				report(bp+r.key+".since", fmt.Sprintf("%s is in the future: the first backfill starts on that day", r.a.Since))
			}
		}
	}
}

// resourceNotices names the catalog and analytics keys that change
// nothing as the file stands.
func (c *Config) resourceNotices(report func(path, msg string)) {
	b := c.Connectors.Braze
	const bp = "connectors.braze.sync."
	if !b.Sync.Catalogs.Enabled && !reflect.DeepEqual(b.Sync.Catalogs, defaultCatalogsSync()) {
		report(bp+"catalogs", "not acted on: the catalog sync is off (enabled: false), so its settings change nothing")
	}
	for _, r := range []struct {
		key string
		a   AnalyticsSync
	}{{"campaigns", b.Sync.Campaigns}, {"canvases", b.Sync.Canvases}} {
		if !r.a.Enabled && r.a != defaultAnalyticsSync() {
			report(bp+r.key, fmt.Sprintf("not acted on: the %s analytics are off (enabled: false), so their settings change nothing", r.key))
		}
	}
	if c.Connectors.Brevo.CampaignStatistics && !b.Sync.Campaigns.Enabled {
		report("connectors.brevo.campaign_statistics", "not acted on: Brevo's campaign statistics are read with the campaign analytics, "+
			"which are off (connectors.braze.sync.campaigns)")
	}
}

func validCatalogName(n string) bool {
	if n == "" || len(n) > 250 {
		return false
	}
	return strings.IndexFunc(n, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) < 0
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

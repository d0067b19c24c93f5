package cli

import (
	"fmt"
	"io"
	"sync"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/services/transformer"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
	"github.com/tajo-sync/tajo/tools/tajo/internal/progress"
)

// resourcesOptions are the catalog and analytics syncs the configuration
// switches on (none: ok false). since (YYYY-MM-DD, from --since) bounds
// the first analytics backfill over sync.campaigns/canvases.since. Each
// run that ends is printed on out.
func resourcesOptions(cfg *config.Config, creds config.Credentials, since string, once bool, out io.Writer) (app.ResourcesOptions, bool, error) {
	b := cfg.Connectors.Braze
	o := app.ResourcesOptions{
		Braze:      bootstrap.BrazeConfig(cfg, creds.BrazeAPIKey),
		Brevo:      bootstrap.BrevoConfig(cfg, creds.BrevoAPIKey),
		Resilience: cfg.Resilience,
		Once:       once,
	}
	if c := b.Sync.Catalogs; c.Enabled {
		o.Catalogs = extractor.CatalogsConfigOf(cfg)
		o.CatalogsTransformer = transformer.CatalogsConfig{Mapping: c.Mapping}
	}
	a, err := extractor.AnalyticsConfigOf(cfg, since)
	if err != nil {
		return o, false, fmt.Errorf("--%w", err)
	}
	o.Analytics = a
	var mu sync.Mutex
	o.Finished = func(r *proto.SyncRun) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(out, safeText(resourceLine(r)))
	}
	return o, o.Catalogs != nil || o.Analytics != nil, nil
}

// resourceLine is one line on a catalog or analytics run that ended.
func resourceLine(r *proto.SyncRun) string {
	o := r.Outcome
	if o == nil {
		o = &proto.RunOutcome{}
	}
	var line string
	switch r.Resource {
	case proto.ResourceCatalogs:
		line = fmt.Sprintf("%s: %s items read: %s created, %s updated, %s unchanged, %s deleted, %s dead-lettered",
			r.Resource, progress.Count(r.Exported+r.Malformed), progress.Count(o.Created), progress.Count(o.Updated),
			progress.Count(o.Unchanged), progress.Count(o.Deleted), progress.Count(o.DeadLettered))
	default:
		line = fmt.Sprintf("%s: %s days of statistics read", r.Resource, progress.Count(r.Exported))
		if r.Malformed > 0 {
			line += fmt.Sprintf(", %s could not be read", progress.Count(r.Malformed))
		}
	}
	line += fmt.Sprintf(" (run %s, %s)", r.ID, r.Status)
	if r.Error != "" {
		line += ": " + r.Error
	}
	return line
}

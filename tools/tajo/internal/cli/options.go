package cli

import (
	"log/slog"

	"github.com/nats-io/nats.go"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/services/transformer"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// appOptions translates the configuration file's shape into the services'
// configurations. Interval is left at zero: `tajo run` schedules the
// incremental syncs itself, so that each one gets a progress bar and a
// summary.
func appOptions(cfg *config.Config, creds config.Credentials, nc *nats.Conn, log *slog.Logger) app.Options {
	bz, bv, p := cfg.Connectors.Braze, cfg.Connectors.Brevo, cfg.Pipeline
	lists := make([]int64, len(bv.ListIDs))
	for i, id := range bv.ListIDs {
		lists[i] = int64(id)
	}
	return app.Options{
		NC:          nc,
		Braze:       braze.Config{BaseURL: bz.InstanceURL, APIKey: creds.BrazeAPIKey},
		Brevo:       brevo.Config{BaseURL: bv.APIURL, APIKey: creds.BrevoAPIKey},
		Mapping:     cfg.MappingOptions(),
		Extractor:   extractor.Config{Segment: bz.Sync.Users.SegmentID},
		Transformer: transformer.Config{Concurrency: p.Concurrency},
		Loader: loader.Config{
			BatchSize:       p.BatchSize,
			BatchWait:       p.BatchWait,
			ImportThreshold: p.ImportThreshold,
			MaxImportBytes:  p.MaxImportBytes,
			ListIDs:         lists,
		},
		Logger: log,
	}
}

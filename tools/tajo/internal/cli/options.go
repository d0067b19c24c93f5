package cli

import (
	"log/slog"

	"github.com/nats-io/nats.go"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
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
	p := cfg.Pipeline
	return app.Options{
		NC:          nc,
		Braze:       bootstrap.BrazeConfig(cfg, creds.BrazeAPIKey),
		Brevo:       bootstrap.BrevoConfig(cfg, creds.BrevoAPIKey),
		Mapping:     cfg.MappingOptions(),
		Extractor:   extractor.Config{Segment: cfg.Connectors.Braze.Sync.Users.SegmentID},
		Transformer: transformer.Config{Concurrency: p.Concurrency},
		Loader: loader.Config{
			BatchSize:       p.BatchSize,
			BatchWait:       p.BatchWait,
			ImportThreshold: p.ImportThreshold,
			MaxImportBytes:  p.MaxImportBytes,
			ListIDs:         bootstrap.ListIDs(cfg),
			NotifyURL:       cfg.Gateway.PublicURL,
		},
		Resilience: cfg.Resilience,
		Logger:     log,
	}
}

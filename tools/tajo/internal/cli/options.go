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

// appOptions translates the configuration file into the services'
// configurations, through the same FromConfig each service's binary calls:
// the two wirings cannot drift (wiring_test.go). Interval is left at zero:
// `tajo run` schedules the incremental syncs itself, so that each one gets
// a progress bar and a summary.
func appOptions(cfg *config.Config, creds config.Credentials, nc *nats.Conn, log *slog.Logger) (app.Options, error) {
	ex, err := extractor.FromConfig(cfg)
	if err != nil {
		return app.Options{}, err
	}
	return app.Options{
		NC:          nc,
		Braze:       bootstrap.BrazeConfig(cfg, creds.BrazeAPIKey),
		Brevo:       bootstrap.BrevoConfig(cfg, creds.BrevoAPIKey),
		Mapping:     cfg.MappingOptions(),
		Extractor:   ex,
		Transformer: transformer.FromConfig(cfg),
		Loader:      loader.FromConfig(cfg),
		Resilience:  cfg.Resilience,
		Logger:      log,
	}, nil
}

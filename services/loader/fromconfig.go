package loader

import (
	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/config"
)

// FromConfig is the loader's settings from the loaded configuration file:
// the one translation the loader binary and `tajo run` share, so that the
// two cannot drift. The caller adds what the process decides: Instance,
// Logger, Instruments, and from the Brevo guard Paused and Retry.
func FromConfig(c *config.Config) Config {
	p := c.Pipeline
	return Config{
		BatchSize:       p.BatchSize,
		BatchWait:       p.BatchWait,
		ImportThreshold: p.ImportThreshold,
		MaxImportBytes:  p.MaxImportBytes,
		ListIDs:         bootstrap.ListIDs(c),
		NotifyURL:       c.Gateway.PublicURL,
		OtherPerHour:    c.Resilience.Limits.WithDefaults().Brevo.OtherPerHour,
	}
}

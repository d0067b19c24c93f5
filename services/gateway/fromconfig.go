package gateway

import "github.com/tajo-sync/tajo/pkg/config"

// FromConfig is the gateway's settings from the loaded configuration file
// (gateway.listen): the one translation the gateway binary and `tajo run`
// share. The caller adds the credentials (CurrentsToken, Keys), Control,
// Audit and Logger.
func FromConfig(c *config.Config) Config {
	return Config{Listen: c.Gateway.Listen}
}

package bootstrap

import (
	"fmt"
	"os"

	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/secrets"
)

// StoredConnector is the name `tajo connectors install braze` stores the
// credentials under.
const StoredConnector = "braze"

// Credentials returns the API keys: BRAZE_API_KEY and BREVO_API_KEY win,
// each on its own, and a key the environment does not give comes from the
// encrypted store in home. The store is not opened when the environment
// gives both, so a deployment that passes keys in its environment needs no
// master key.
func Credentials(home string) (config.Credentials, error) {
	c := config.Secrets()
	if c.BrazeAPIKey != "" && c.BrevoAPIKey != "" {
		return c, nil
	}
	stored, ok, err := stored(home)
	if err != nil || !ok {
		return c, err
	}
	if c.BrazeAPIKey == "" {
		c.BrazeAPIKey = stored.BrazeAPIKey
	}
	if c.BrevoAPIKey == "" {
		c.BrevoAPIKey = stored.BrevoAPIKey
	}
	return c, nil
}

// UseStoredInstance fills in connectors.braze.instance_url from the store
// when the configuration has none, as when running on the defaults after
// `tajo connectors install` (which also writes it to the config file it
// finds). A URL in the configuration always wins.
func UseStoredInstance(cfg *config.Config, home string) error {
	if cfg.Connectors.Braze.InstanceURL != "" {
		return nil
	}
	s, ok, err := stored(home)
	if err == nil && ok {
		cfg.Connectors.Braze.InstanceURL = s.BrazeInstanceURL
	}
	return err
}

func stored(home string) (secrets.Credentials, bool, error) {
	if _, err := os.Stat(home); os.IsNotExist(err) {
		return secrets.Credentials{}, false, nil
	}
	st, err := secrets.Open(home)
	if err != nil {
		return secrets.Credentials{}, false, fmt.Errorf("reading the stored credentials (or export %s and %s): %w",
			config.EnvBrazeAPIKey, config.EnvBrevoAPIKey, err)
	}
	c, ok, err := st.Get(StoredConnector)
	if err != nil {
		return secrets.Credentials{}, false, fmt.Errorf("reading the stored credentials (or export %s and %s): %w",
			config.EnvBrazeAPIKey, config.EnvBrevoAPIKey, err)
	}
	return c, ok, nil
}

package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/natsx"
)

// connectorSettings are what the connectors commands read before anything
// else: the configuration and the API keys, as `tajo run` reads them.
type connectorSettings struct {
	home  string
	cfg   *config.Config
	creds config.Credentials
}

func loadConnectorSettings(configFlag string) (*connectorSettings, error) {
	s := &connectorSettings{home: config.Home()}
	var err error
	if s.creds, err = bootstrap.Credentials(s.home); err != nil {
		return nil, err
	}
	if s.cfg, err = bootstrap.LoadConfig(bootstrap.ConfigPath(configFlag)); err != nil {
		return nil, err
	}
	if err := bootstrap.UseStoredInstance(s.cfg, s.home); err != nil {
		return nil, err
	}
	return s, nil
}

// storeDir is the embedded server's store: nats.store_dir, else
// $TAJO_HOME/nats.
func (s *connectorSettings) storeDir() string {
	if d := s.cfg.NATS.StoreDir; d != "" {
		return d
	}
	return filepath.Join(s.home, "nats")
}

// missingKeys says which API keys are missing and how to provide them; ""
// when both are there.
func (s *connectorSettings) missingKeys() string {
	var missing []string
	if s.creds.BrazeAPIKey == "" {
		missing = append(missing, config.EnvBrazeAPIKey)
	}
	if s.creds.BrevoAPIKey == "" {
		missing = append(missing, config.EnvBrevoAPIKey)
	}
	switch len(missing) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf("%s is not set: export it, or store the keys with `tajo connectors install braze`", missing[0])
	default:
		return fmt.Sprintf("%s and %s are not set: export them, or store them with `tajo connectors install braze` "+
			"(`tajo run --sandbox` tries the pipeline on simulators)", missing[0], missing[1])
	}
}

// stateSource says where openBus would read the state: the NATS URL
// (redacted), or the local store directory; exists is false when there is
// no URL and no store (nothing ever ran here).
func (s *connectorSettings) stateSource() (where string, exists bool) {
	if url := bootstrap.NATSURL(s.cfg); url != "" {
		return natsx.RedactURL(url), true
	}
	dir := s.storeDir()
	_, err := os.Stat(filepath.Join(dir, "jetstream"))
	return dir, err == nil
}

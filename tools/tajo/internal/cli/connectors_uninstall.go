package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/secrets"
)

func init() { registerUnder("connectors", newConnectorsUninstallCmd) }

func newConnectorsUninstallCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "uninstall braze",
		Short: "Remove the stored Braze and Brevo keys",
		Long: `Remove the keys "tajo connectors install" stored encrypted in
$TAJO_HOME/credentials.enc (the file goes when nothing else is in it). The
config file is left as it is, and keys exported in BRAZE_API_KEY and
BREVO_API_KEY still work. Revoke the keys at the vendors to retire them.`,
		Example:   `  tajo connectors uninstall braze`,
		Args:      connectorArg,
		ValidArgs: []string{bootstrap.StoredConnector},
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := secrets.Open(config.Home())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			err = store.Delete(bootstrap.StoredConnector)
			if errors.Is(err, secrets.ErrNotFound) {
				_, err = fmt.Fprintf(out, "No stored %s credentials in %s: nothing to remove.\n", bootstrap.StoredConnector, config.Home())
				return err
			}
			if err != nil {
				return fmt.Errorf("removing the stored credentials: %w", err)
			}
			fmt.Fprintf(out, "Removed the stored Braze and Brevo keys from %s.\n", store.Path())
			if c := config.Secrets(); c.BrazeAPIKey != "" || c.BrevoAPIKey != "" {
				fmt.Fprintf(out, "%s or %s is still set in this shell: unset them too.\n", config.EnvBrazeAPIKey, config.EnvBrevoAPIKey)
			}
			return nil
		},
	}
}

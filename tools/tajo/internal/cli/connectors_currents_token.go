package cli

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/secrets"
)

func init() { registerUnder("connectors", newConnectorsCurrentsTokenCmd) }

func newConnectorsCurrentsTokenCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "currents-token braze",
		Short: "Create the bearer token Braze Currents sends the gateway, and store it",
		Long: `Create a random token, store it encrypted with the connector's credentials
($TAJO_HOME/credentials.enc) and show it once: paste it into Braze's Custom
HTTP Currents connector as the bearer token. The gateway compares it in
constant time; TAJO_CURRENTS_TOKEN, when set, wins over the stored one.
Running it again replaces the token (restart the gateway to use it).`,
		Args:      connectorArg,
		ValidArgs: []string{bootstrap.StoredConnector},
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := secrets.Open(config.Home())
			if err != nil {
				return err
			}
			cur, _, err := st.Get(bootstrap.StoredConnector)
			if err != nil {
				return err
			}
			b := make([]byte, 32)
			if _, err := rand.Read(b); err != nil {
				return fmt.Errorf("creating a token: %w", err)
			}
			cur.CurrentsToken = base64.RawURLEncoding.EncodeToString(b)
			if err := st.Put(bootstrap.StoredConnector, cur); err != nil {
				return fmt.Errorf("storing the Currents token: %w", err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Stored a new Currents token in %s. It is shown this once:\n\n  %s\n\nIn Braze: Partner Integrations > Data Export > Custom HTTP Currents, bearer token.\n", st.Path(), cur.CurrentsToken)
			return err
		},
	}
}

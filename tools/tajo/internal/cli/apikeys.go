package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tajo-sync/tajo/pkg/apikeys"
	"github.com/tajo-sync/tajo/pkg/config"
)

func init() { register(newAPIKeysCmd) }

func newAPIKeysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apikeys",
		Short: "Create, list and revoke the API keys of the gateway's control API",
		Long: `Tajo API keys authenticate every call to the gateway's control API and to
handleEvent (Authorization: Bearer <key>): what the @tajo/sdk client sends as
apiKey. Only a hash of each key is stored, in $TAJO_HOME/apikeys.json: a key
is shown once, when created. A revoked key is refused with 403 at once, by a
running gateway too.`,
	}
	cmd.AddCommand(newAPIKeysCreateCmd(), newAPIKeysListCmd(), newAPIKeysRevokeCmd())
	return cmd
}

func openKeys() (*apikeys.Store, error) { return apikeys.Open(config.Home()) }

func newAPIKeysCreateCmd() *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:     "create",
		Short:   "Create an API key and show it, once",
		Example: `  tajo apikeys create --name ci`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openKeys()
			if err != nil {
				return err
			}
			key, k, err := st.Create(name)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Created API key %s (%s). It is shown this once; store it now:\n\n  %s\n\n", k.ID, safeText(name), key)
			fmt.Fprintf(out, "Revoke it with: tajo apikeys revoke %s\n", k.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "what the key is for, shown by list")
	return cmd
}

func newAPIKeysListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the API keys (never the keys themselves)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openKeys()
			if err != nil {
				return err
			}
			keys, err := st.List()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if len(keys) == 0 {
				_, err := fmt.Fprintln(out, "No API keys: create one with `tajo apikeys create`.")
				return err
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tCREATED\tSTATE")
			for _, k := range keys {
				state := "active"
				if k.Revoked() {
					state = "revoked " + k.RevokedAt.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, safeText(k.Name), k.CreatedAt.Format(time.RFC3339), state)
			}
			return tw.Flush()
		},
	}
}

func newAPIKeysRevokeCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "revoke ID",
		Short:   "Revoke an API key: calls with it are refused (403) from now on",
		Example: `  tajo apikeys revoke 3f9a0c1b2d4e`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openKeys()
			if err != nil {
				return err
			}
			if err := st.Revoke(args[0]); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Revoked API key %s.\n", safeText(args[0]))
			return err
		},
	}
}

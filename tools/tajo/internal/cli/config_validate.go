package cli

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/config"
)

func init() { registerUnder("config", newConfigValidateCmd) }

func newConfigValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate [FILE]",
		Short: "Check a config file and print every problem in it",
		Long: `Check a config file as every tajo command and service loads it, and print
every problem, not just the first: file:line: key: what is wrong and how to
fix it. ${VAR} references are expanded from the environment first.

Without FILE, the file the other commands would read: $TAJO_CONFIG, else
$TAJO_HOME/config.yaml. The exit status is 1 when there is any problem.

A valid key whose feature does not exist yet (sync.campaigns, lists, ...)
is printed with "not acted on yet": the file is valid, and that key changes
nothing today.`,
		Example: `  tajo config validate
  tajo config validate ./tajo.yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := bootstrap.ConfigPath("")
			if len(args) == 1 {
				path = args[0]
			}
			if path == "" {
				return fmt.Errorf("no config file: pass FILE, set %s, or create %s (tajo connectors install braze writes one)",
					bootstrap.EnvConfig, filepath.Join(config.Home(), "config.yaml"))
			}
			out := cmd.OutOrStdout()
			cfg, err := config.Load(path)
			var problems config.ValidationErrors
			switch {
			case errors.As(err, &problems):
				for _, p := range problems {
					fmt.Fprintln(out, p.Error())
				}
				noun := "problems"
				if len(problems) == 1 {
					noun = "problem"
				}
				return fmt.Errorf("%s: %d %s: fix the lines above and run tajo config validate again", path, len(problems), noun)
			case err != nil:
				return fmt.Errorf("checking %s: %w", path, err)
			}
			// Valid keys whose feature does not exist yet: said, not refused.
			notices := cfg.Notices()
			for _, n := range notices {
				fmt.Fprintln(out, n.Error())
			}
			switch len(notices) {
			case 0:
				_, err = fmt.Fprintf(out, "%s: valid\n", path)
			case 1:
				_, err = fmt.Fprintf(out, "%s: valid; the key above is not acted on yet\n", path)
			default:
				_, err = fmt.Fprintf(out, "%s: valid; the %d keys above are not acted on yet\n", path, len(notices))
			}
			return err
		},
	}
}

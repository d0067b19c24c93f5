package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tajo-sync/tajo/pkg/dlq"
)

func init() { registerUnder("dlq", newDLQPurgeCmd) }

type dlqPurgeFlags struct {
	store  storeFlags
	filter dlqFilterFlags
	yes    bool
}

func newDLQPurgeCmd() *cobra.Command {
	var f dlqPurgeFlags
	cmd := &cobra.Command{
		Use:   "purge --yes",
		Short: "Delete dead letters for good",
		Long: `Delete dead letters for good: every one, or those --stage and --reason select.
Without --yes it only says how many it would delete.

Letters that arrive while it runs are kept.`,
		Example: `  tajo dlq purge --stage loader --reason contact_too_large --yes
  tajo dlq purge --yes    # everything`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			b, err := openBus(ctx, cmd, f.store)
			if err != nil {
				return err
			}
			defer b.Close()
			filter := f.filter.filter(0)
			out := cmd.OutOrStdout()
			if !f.yes {
				counts, err := dlq.Counts(ctx, b.JS)
				if err != nil {
					return err
				}
				return fmt.Errorf("not purged: this would delete %d dead letter(s) under %s for good; run again with --yes to do it",
					countUnder(counts, filter), filter.Subject())
			}
			n, err := dlq.Purge(ctx, b.JS, filter)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(out, "Purged %d dead letter(s) under %s.\n", n, filter.Subject())
			return err
		},
	}
	f.store.add(cmd)
	f.filter.add(cmd, "purge")
	cmd.Flags().BoolVar(&f.yes, "yes", false, "really delete them")
	return cmd
}

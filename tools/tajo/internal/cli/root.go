package cli

import (
	"github.com/spf13/cobra"
)

// NewRoot returns the tajo command tree. version is what `tajo version`
// reports.
func NewRoot(version string) *cobra.Command {
	root := &cobra.Command{
		Use:   "tajo",
		Short: "Sync Braze users into Brevo contacts through NATS JetStream",
		Long: `tajo syncs Braze users into Brevo contacts: an extractor reads Braze segment
exports, a transformer maps them to Brevo attributes, and a loader writes them
to Brevo, with NATS JetStream carrying the work between them.

Start with "tajo run": it runs everything in one process against built-in
Braze and Brevo simulators when no API keys are configured.`,
		// A failing sync is not a usage mistake: print the error, not the
		// usage text.
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newVersionCmd(version), newSandboxCmd(), newRunCmd())
	return root
}

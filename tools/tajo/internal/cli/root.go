package cli

import (
	"sort"

	"github.com/spf13/cobra"
)

// Commands register themselves from their own files (in init), so adding
// one needs no edit here: top-level commands with register, subcommands of
// a group ("connectors", "config", "dlq", "audit") with registerUnder.
var (
	topLevel []func() *cobra.Command
	grouped  = map[string][]func() *cobra.Command{}
)

// groups are the parent commands and what they are for.
var groups = map[string]string{
	"connectors": "Install, test, sync and inspect connectors",
	"config":     "Check the configuration file",
	"dlq":        "Inspect, replay and purge dead letters",
	"audit":      "Read the audit log of vendor API calls",
}

func register(f func() *cobra.Command) { topLevel = append(topLevel, f) }

func registerUnder(group string, f func() *cobra.Command) {
	if _, ok := groups[group]; !ok {
		panic("cli: unknown command group " + group)
	}
	grouped[group] = append(grouped[group], f)
}

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
	for _, f := range topLevel {
		root.AddCommand(f())
	}
	names := make([]string, 0, len(grouped))
	for g := range grouped {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		parent := &cobra.Command{Use: g, Short: groups[g]}
		for _, f := range grouped[g] {
			parent.AddCommand(f())
		}
		root.AddCommand(parent)
	}
	return root
}

package cli

import (
	"github.com/spf13/cobra"
	"github.com/tajo-sync/tajo/pkg/bootstrap"
)

// defaultSandboxUsers is how many users `tajo run --sandbox` generates: enough
// to see the pipeline move, few enough to finish in well under a minute.
const defaultSandboxUsers = 10000

type runFlags struct {
	configPath   string
	sandbox      bool
	sandboxUsers int
	once         bool
	natsPort     int
	since        string
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the whole pipeline in one process: a full sync, then incremental syncs",
		Long: `Run the extractor, transformer and loader in one process on an embedded NATS
JetStream server (store under $TAJO_HOME/nats, default ~/.tajo/nats).

It runs a full sync of Braze users into Brevo with a live progress bar, prints
a summary and where to look, then runs an incremental sync every
connectors.braze.sync.users.interval (15m by default, 1m against the sandbox)
until Ctrl-C, which stops fetching and lets in-flight work drain.

Without BRAZE_API_KEY and BREVO_API_KEY in the environment it runs against the
built-in Braze and Brevo simulators (as with --sandbox) and says so.

With --once it runs one sync and exits: status 0 if the run completed and no
record failed. Dead-lettered input lines (malformed JSON, no identifier) do not
fail the run; they wait in the DLQ stream with their reason.

The other resources switched on in the configuration run beside the users:
catalogs (sync.catalogs) and campaign and Canvas analytics (sync.campaigns,
sync.canvases), each at once and then every its interval, a line printed
per run (with --once, each runs once and the command waits for it).
--since YYYY-MM-DD bounds their first backfill (over their since: keys).`,
		Example: `  tajo run                          # simulators unless both API keys are set
  tajo run --sandbox --sandbox-users 1000 --once
  BRAZE_API_KEY=... BREVO_API_KEY=... tajo run --config tajo.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bootstrap.SetMemoryLimit(bootstrap.MemoryLimitAllInOne)
			return runPipeline(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.configPath, "config", "", "YAML configuration file (default $TAJO_CONFIG, else $TAJO_HOME/config.yaml if it exists, else built-in defaults)")
	fl.BoolVar(&f.sandbox, "sandbox", false, "run against the built-in Braze and Brevo simulators")
	fl.IntVar(&f.sandboxUsers, "sandbox-users", defaultSandboxUsers, "users the simulated Braze holds")
	fl.BoolVar(&f.once, "once", false, "run one sync, print the summary and exit")
	fl.IntVar(&f.natsPort, "nats-port", 4222, "port of the embedded NATS server on 127.0.0.1 (0 picks a free port)")
	fl.StringVar(&f.since, "since", "", "first day (YYYY-MM-DD) the first campaign and Canvas analytics backfill reads (default sync.campaigns.since, else 30 days back)")
	return cmd
}

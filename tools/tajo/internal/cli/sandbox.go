package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/tajo-sync/tajo/tools/sandbox"
	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
	"github.com/tajo-sync/tajo/tools/sandbox/faults"
)

type sandboxFlags struct {
	brazeAddr, brevoAddr string
	users                int
	seed                 int64
	faults               string
	currents             currentsFlags
	importDelay          time.Duration
	importRowsPerSecond  float64
}

func newSandboxCmd() *cobra.Command {
	def := sandbox.DefaultOptions()
	f := sandboxFlags{brazeAddr: "127.0.0.1:4010", brevoAddr: "127.0.0.1:4011", users: def.Users, seed: def.Seed,
		importDelay: brevosim.DefaultImportDelay}
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Serve the Braze and Brevo simulators on their own until Ctrl-C",
		Long: `Serve the Braze and Brevo API simulators, with generated Braze users, until
Ctrl-C. They follow the vendors' API specifications, rate limits included, so
you can point curl, the tajo services or your own code at them.

Port 0 picks a free port.

--faults injects failures on every endpoint, as probabilities per request:
429 (with the vendor's rate-limit headers), 5xx (500/502/503), timeout (no
answer until the client gives up, 30s at most), reset (connection reset
before handling), lost (handled, then the connection is reset: the write
happened but the answer is lost), truncate (body cut short), and
latency=MEAN±JITTER on every request. The same --seed and the same order of
requests give the same faults; the admin state (GET /_admin/state) totals
requests by status, faults included.

A Brevo import takes --import-delay plus one second per
--import-rows-per-second rows (by default rows cost nothing). The sandbox's
guess at Brevo, not a measurement, is 5s plus 500 rows a second: an import
of 8 MB (about 27,000 rows) takes about a minute. When an import completes,
the simulator calls its notifyUrl.`,
		Example: `  tajo sandbox
  tajo sandbox --users 1000 --seed 7
  tajo sandbox --braze-addr 127.0.0.1:0 --brevo-addr 127.0.0.1:0
  tajo sandbox --seed 7 --faults '429=0.02,5xx=0.05,timeout=0.01,reset=0.005,latency=20ms±10ms,truncate=0.005'
  tajo sandbox --import-delay 5s --import-rows-per-second 500`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSandbox(cmd.Context(), cmd.OutOrStdout(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.brazeAddr, "braze-addr", f.brazeAddr, "host:port the Braze simulator listens on")
	fl.StringVar(&f.brevoAddr, "brevo-addr", f.brevoAddr, "host:port the Brevo simulator listens on")
	fl.IntVar(&f.users, "users", f.users, "number of Braze users to generate")
	fl.Int64Var(&f.seed, "seed", f.seed, "seed of the user generator and of --faults: the same seed gives the same users and faults")
	fl.StringVar(&f.faults, "faults", "", "faults to inject, e.g. '429=0.02,5xx=0.05,timeout=0.01,reset=0.005,lost=0.01,truncate=0.005,latency=20ms±10ms'")
	fl.DurationVar(&f.importDelay, "import-delay", f.importDelay, "how long a Brevo import takes before its rows' share")
	fl.Float64Var(&f.importRowsPerSecond, "import-rows-per-second", 0, "rows a Brevo import does a second (0: rows cost nothing; 500 is the sandbox's guess at Brevo)")
	f.currents.register(fl)
	return cmd
}

func runSandbox(ctx context.Context, out io.Writer, f sandboxFlags) (err error) {
	if f.users < 1 {
		return fmt.Errorf("--users %d: want at least 1", f.users)
	}
	if f.importDelay < 0 || f.importRowsPerSecond < 0 {
		return fmt.Errorf("--import-delay %s, --import-rows-per-second %g: want neither negative", f.importDelay, f.importRowsPerSecond)
	}
	spec, err := faults.Parse(f.faults)
	if err != nil {
		return fmt.Errorf("--faults: %w", err)
	}
	opts := sandbox.DefaultOptions()
	opts.BrazeAddr, opts.BrevoAddr = f.brazeAddr, f.brevoAddr
	opts.Users, opts.Seed, opts.Faults = f.users, f.seed, spec
	opts.ImportDelay, opts.ImportRowsPerSecond = f.importDelay, f.importRowsPerSecond
	sb, err := sandbox.Start(ctx, opts)
	if err != nil {
		return fmt.Errorf("starting the sandbox on %s and %s: %w", f.brazeAddr, f.brevoAddr, err)
	}
	defer func() {
		if cerr := sb.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("stopping the sandbox: %w", cerr))
		}
	}()
	if err := describeSandbox(out, sandboxInfo{
		BrazeURL: sb.BrazeURL, BrazeAPIKey: sb.BrazeAPIKey,
		BrevoURL: sb.BrevoURL, BrevoAPIKey: sb.BrevoAPIKey,
		Users: opts.Users, Seed: opts.Seed,
	}); err != nil {
		return err
	}
	if !spec.IsZero() {
		fmt.Fprintf(out, "\nInjecting faults %s (seed %d).\n", spec, f.seed)
	}
	fmt.Fprintln(out, "\nServing until Ctrl-C.")
	if f.currents.url != "" {
		return emitCurrents(ctx, out, sb.Gen, f.currents)
	}
	<-ctx.Done()
	return nil
}

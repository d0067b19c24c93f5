package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tajo-sync/tajo/tools/sandbox"
)

type sandboxFlags struct {
	brazeAddr, brevoAddr string
	users                int
	seed                 int64
}

func newSandboxCmd() *cobra.Command {
	def := sandbox.DefaultOptions()
	f := sandboxFlags{brazeAddr: "127.0.0.1:4010", brevoAddr: "127.0.0.1:4011", users: def.Users, seed: def.Seed}
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Serve the Braze and Brevo simulators on their own until Ctrl-C",
		Long: `Serve the Braze and Brevo API simulators, with generated Braze users, until
Ctrl-C. They follow the vendors' API specifications, rate limits included, so
you can point curl, the tajo services or your own code at them.

Port 0 picks a free port.`,
		Example: `  tajo sandbox
  tajo sandbox --users 1000 --seed 7
  tajo sandbox --braze-addr 127.0.0.1:0 --brevo-addr 127.0.0.1:0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSandbox(cmd.Context(), cmd.OutOrStdout(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.brazeAddr, "braze-addr", f.brazeAddr, "host:port the Braze simulator listens on")
	fl.StringVar(&f.brevoAddr, "brevo-addr", f.brevoAddr, "host:port the Brevo simulator listens on")
	fl.IntVar(&f.users, "users", f.users, "number of Braze users to generate")
	fl.Int64Var(&f.seed, "seed", f.seed, "seed of the user generator: the same seed gives the same users")
	return cmd
}

func runSandbox(ctx context.Context, out io.Writer, f sandboxFlags) (err error) {
	if f.users < 1 {
		return fmt.Errorf("--users %d: want at least 1", f.users)
	}
	opts := sandbox.DefaultOptions()
	opts.BrazeAddr, opts.BrevoAddr = f.brazeAddr, f.brevoAddr
	opts.Users, opts.Seed = f.users, f.seed
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
	fmt.Fprintln(out, "\nServing until Ctrl-C.")
	<-ctx.Done()
	return nil
}

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tajo-sync/tajo/pkg/audit"
	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/natsx"
)

func init() { registerUnder("audit", newAuditTailCmd) }

type auditTailFlags struct {
	store   storeFlags
	n       int
	follow  bool
	json    bool
	sandbox bool
}

func newAuditTailCmd() *cobra.Command {
	var f auditTailFlags
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "Show the latest vendor API calls from the AUDIT stream",
		Long: `Show the latest vendor API calls recorded in the AUDIT stream, oldest first:
time (UTC), vendor, method, path, status, duration, attempt, run id and the
service that made the call, with the error class of a failed call. Paths are
route templates: no query, no ids, no e-mail addresses; nothing secret is
ever recorded.

It reads $NATS_URL, else the config's nats.url, else the local store
(nats.store_dir, default $TAJO_HOME/nats); when a running tajo holds that
store it reads through that process. --sandbox reads the store of the last
` + "`tajo run`" + ` against the simulators instead.

With -f it keeps printing new calls until Ctrl-C; that needs a running
pipeline (a tajo run, or a deployment through NATS_URL).`,
		Example: `  tajo audit tail                 # the last 20 calls
  tajo audit tail -n 100 --json   # one JSON object a line
  tajo audit tail -f              # follow a running tajo run
  NATS_URL=nats://nats:4222 tajo audit tail -f`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return auditTail(cmd, f)
		},
	}
	f.store.add(cmd)
	fl := cmd.Flags()
	fl.IntVarP(&f.n, "lines", "n", 20, "how many of the latest calls to show (0: none, only new ones with -f)")
	fl.BoolVarP(&f.follow, "follow", "f", false, "keep printing new calls until Ctrl-C")
	fl.BoolVar(&f.json, "json", false, "print one JSON object a line")
	fl.BoolVar(&f.sandbox, "sandbox", false, "read the store of `tajo run` against the simulators ($TAJO_HOME/sandbox/nats)")
	return cmd
}

func auditTail(cmd *cobra.Command, f auditTailFlags) error {
	if f.n < 0 {
		return fmt.Errorf("-n %d: want 0 or more calls", f.n)
	}
	ctx := cmd.Context()
	b, err := openAuditBus(ctx, cmd, f)
	if err != nil {
		return err
	}
	defer b.Close()
	if f.follow && b.embedded != nil {
		// This process opened the store itself, so no pipeline is writing
		// to it, and one that starts now could not open it.
		return errors.New("-f follows a running pipeline, and none is running on this store: " +
			"start `tajo run` first (then this command reads through it), or set " + bootstrap.EnvNATS +
			" to a deployment's server; without -f it shows the calls recorded so far")
	}

	out := cmd.OutOrStdout()
	print := tableEntry
	if f.json {
		print = jsonEntry
	} else if _, err := io.WriteString(out, auditHeader); err != nil {
		return err
	}
	var werr error
	shown := 0
	err = audit.Tail(ctx, b.JS, f.n, f.follow, func(e audit.Entry) {
		if werr == nil {
			werr = print(out, e)
			shown++
		}
	})
	if errors.Is(err, audit.ErrNoAuditStream) {
		err = fmt.Errorf("%w; this store is %s", err, b.where)
	}
	if err = errors.Join(err, werr); err != nil {
		return err
	}
	if shown == 0 && !f.follow && !f.json && f.n > 0 {
		fmt.Fprintln(cmd.ErrOrStderr(), "No vendor API calls recorded yet: `tajo run` records every call it makes.")
	}
	return nil
}

// auditBus is the bus plus a description of where it reads from.
type auditBus struct {
	*bus
	where string
}

// openAuditBus opens the store the flags name. A store held by a running
// tajo is read through that process's server: that is what -f is for.
func openAuditBus(ctx context.Context, cmd *cobra.Command, f auditTailFlags) (*auditBus, error) {
	if f.sandbox {
		return openSandboxStore(ctx, cmd)
	}
	b, err := openBus(ctx, cmd, f.store)
	if busy, ok := errors.AsType[*storeBusyError](err); ok && busy.URL != "" {
		return connectAuditBus(ctx, cmd, busy.URL, busy.Dir, "served by the running tajo at "+busy.URL)
	}
	if err != nil {
		return nil, err
	}
	where := "the NATS server at " + natsx.RedactURL(b.NC.ConnectedUrlRedacted())
	if b.embedded != nil {
		cfg, _ := bootstrap.LoadConfig(bootstrap.ConfigPath(f.store.configPath))
		if cfg != nil {
			where = "the local store " + cfg.NATS.StoreDir
		}
	}
	return &auditBus{bus: b, where: where}, nil
}

// openSandboxStore opens the store `tajo run --sandbox` keeps apart from a
// real account's.
func openSandboxStore(ctx context.Context, cmd *cobra.Command) (_ *auditBus, err error) {
	dir := filepath.Join(config.Home(), "sandbox", "nats")
	b := &bus{}
	url, err := b.startEmbedded(cmd, dir)
	if busy, ok := errors.AsType[*storeBusyError](err); ok && busy.URL != "" {
		b.Close()
		return connectAuditBus(ctx, cmd, busy.URL, dir, "served by the running tajo at "+busy.URL)
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	ab, err := connectAuditBus(ctx, cmd, url, dir, "the sandbox store "+dir)
	if err != nil {
		b.Close()
		return nil, err
	}
	ab.embedded, ab.lock = b.embedded, b.lock
	return ab, nil
}

// connectAuditBus connects to url, with the credentials the server that
// serves storeDir keeps there.
func connectAuditBus(ctx context.Context, cmd *cobra.Command, url, storeDir, where string) (*auditBus, error) {
	cctx, cancel := context.WithTimeout(ctx, storeConnectTimeout)
	defer cancel()
	nc, err := natsx.Connect(cctx, url, "tajo-audit-tail", natsx.WithStoreAuth(storeDir))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", where, err)
	}
	js, err := natsx.JetStream(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("opening JetStream on %s: %w", natsx.RedactURL(url), err)
	}
	return &auditBus{bus: &bus{NC: nc, JS: js}, where: where}, nil
}

const auditHeader = "TIME                      VENDOR  METHOD  PATH                              STATUS  DURATION  TRY  RUN                      SERVICE    ERROR\n"

// tableEntry prints one entry as a row under auditHeader.
func tableEntry(w io.Writer, e audit.Entry) error {
	status := "---" // no response
	if e.Status != 0 {
		status = fmt.Sprint(e.Status)
	}
	run := e.RunID
	if run == "" {
		run = "-"
	}
	// Every field comes from the bus, where anyone who may publish could
	// have put an escape sequence: each is shown escaped.
	line := fmt.Sprintf("%-24s  %-6s  %-6s  %-32s  %-6s  %8s  %3d  %-23s  %-9s  %s",
		e.Time.UTC().Format("2006-01-02T15:04:05.000Z"), safeText(e.Vendor), safeText(e.Method), safeText(e.Path), status,
		shortDuration(e.Duration), e.Attempt, safeText(run), safeText(e.Service), safeText(e.ErrorClass))
	_, err := io.WriteString(w, strings.TrimRight(line, " ")+"\n")
	return err
}

// shortDuration keeps three significant figures at most: 812µs, 12.3ms, 1.24s.
func shortDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < 10*time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	case d < 100*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(10 * time.Millisecond).String()
	}
}

func jsonEntry(w io.Writer, e audit.Entry) error {
	e.Time = e.Time.UTC()
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding an audit entry: %w", err)
	}
	_, err = w.Write(append(safeJSON(b), '\n'))
	return err
}

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
	"github.com/tajo-sync/tajo/tools/tajo/internal/progress"
)

func init() { registerUnder("connectors", newConnectorsSyncCmd) }

type syncFlags struct {
	configPath string
	runType    string
	resources  string
	since      string
	batchSize  int
	dryRun     bool
	diff       bool
	diffLimit  int
	show       int
}

// plannedResources are the resources the connector will sync; only users
// does in this build.
var plannedResources = map[string]bool{"segments": true, "campaigns": true, "canvases": true, "events": true, "catalogs": true}

func newConnectorsSyncCmd() *cobra.Command {
	var f syncFlags
	cmd := &cobra.Command{
		Use:   "sync braze",
		Short: "Run one sync now: against the running deployment, or in this process",
		Long: `Run one sync of Braze into Brevo and follow it with a progress bar.

With a running deployment (NATS_URL or nats.url reachable and an extractor
answering there) it asks that extractor to start the run and follows it.
Otherwise it runs the whole pipeline in this process, on the local embedded
store ($TAJO_HOME/nats) or on the configured NATS server, and exits when the
run is done: status 0 if nothing failed.

--type full re-exports every user; incremental also re-exports them (Braze's
segment exports have no modified-since filter) but Brevo receives only the
users whose mapped content changed since they were last sent (their
fingerprints). Both skip unchanged users, so they cost Brevo the same.

--resources: only users syncs in this build; segments, campaigns, canvases,
events and catalogs are planned and refused with a message saying so.

--since is for the resources that can filter by date (the planned ones); it
is refused for users, which always read the whole segment (see --type).

--dry-run writes nothing to Braze or Brevo and prints the plan instead:
contacts to create and to update, attributes to create, list changes and
events to send. It runs in this process on a temporary NATS server seeded
with a copy of the connector's memory (fingerprints and identifier claims,
read from the deployment or the local store), so the plan is what a real run
would do now and the deployment is not disturbed. --diff reads the current
Brevo contacts (GET /contacts/{id}, about 10 a second) and shows, attribute by
attribute, what would change, for the first --diff-limit contacts by key.`,
		Example: `  tajo connectors sync braze --type incremental --resources users
  tajo connectors sync braze --type full --batch-size 500
  tajo connectors sync braze --dry-run --diff --show 20`,
		Args:      connectorArg,
		ValidArgs: []string{"braze"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSync(cmd.Context(), cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.configPath, "config", "", "YAML configuration file (default $TAJO_CONFIG, else $TAJO_HOME/config.yaml if it exists)")
	fl.StringVar(&f.runType, "type", "incremental", "full or incremental")
	fl.StringVar(&f.resources, "resources", "users", "comma-separated resources to sync (users in this build)")
	fl.StringVar(&f.since, "since", "", "only records changed since this date (YYYY-MM-DD); not for users")
	fl.IntVar(&f.batchSize, "batch-size", 0, "contact upserts per loader batch when running in this process (default pipeline.batch_size)")
	fl.BoolVar(&f.dryRun, "dry-run", false, "write nothing; print what the sync would do")
	fl.BoolVar(&f.diff, "diff", false, "with --dry-run: read the current Brevo contacts and show attribute-level diffs")
	fl.IntVar(&f.diffLimit, "diff-limit", 100, "with --diff: how many contacts to read from Brevo (0: all)")
	fl.IntVar(&f.show, "show", 10, "with --dry-run: how many contacts of each kind to list")
	return cmd
}

// check refuses what this build cannot do, saying what it can.
func (f syncFlags) check(cmd *cobra.Command) error {
	if f.runType != "full" && f.runType != "incremental" {
		return fmt.Errorf("--type %q: use full or incremental", f.runType)
	}
	users := false
	for _, r := range strings.Split(f.resources, ",") {
		switch r = strings.TrimSpace(strings.ToLower(r)); {
		case r == "users":
			users = true
		case plannedResources[r]:
			return fmt.Errorf("--resources %s: not supported yet (planned); this build syncs users only: --resources users", r)
		default:
			return fmt.Errorf("--resources %q: unknown resource; this build syncs users (segments, campaigns, canvases, events and catalogs are planned)", r)
		}
	}
	if !users {
		return errors.New("--resources is empty: name what to sync, e.g. --resources users")
	}
	if f.since != "" {
		if _, err := time.Parse(time.DateOnly, f.since); err != nil {
			return fmt.Errorf("--since %q: want a date such as 2024-01-01", f.since)
		}
		return errors.New("--since does not apply to users: Braze segment exports cannot filter by date, so every sync reads the " +
			"whole segment and sends Brevo only the users that changed (use --type incremental); drop --since")
	}
	if f.batchSize < 0 {
		return fmt.Errorf("--batch-size %d: want a positive number of contacts", f.batchSize)
	}
	if (f.diff || cmd.Flags().Changed("show") || cmd.Flags().Changed("diff-limit")) && !f.dryRun {
		return errors.New("--diff, --diff-limit and --show describe a plan: add --dry-run")
	}
	return nil
}

func runSync(ctx context.Context, cmd *cobra.Command, f syncFlags) error {
	if err := f.check(cmd); err != nil {
		return err
	}
	s, err := loadConnectorSettings(f.configPath)
	if err != nil {
		return err
	}
	if err := errors.Join(s.cfg.UsersSyncOff(), s.cfg.BrevoOff()); err != nil {
		return fmt.Errorf("not syncing: %w", err)
	}
	if msg := s.missingKeys(); msg != "" {
		return errors.New(msg)
	}
	if f.dryRun {
		return runDryRun(ctx, cmd, s, f)
	}
	if url := bootstrap.NATSURL(s.cfg); url != "" {
		started, err := syncRemote(ctx, cmd, url, s.storeDir(), f)
		if started || err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "No extractor answers on %s: running the pipeline in this process.\n", natsx.RedactURL(url))
	} else if err := probeStore(s.storeDir()); err != nil {
		return err
	}
	return syncInProcess(ctx, cmd, f)
}

// probeStore fails when another process serves the local store: running a
// second server on it would corrupt it. The lock is released at once;
// `tajo run`'s own start-up takes it again.
func probeStore(dir string) error {
	lk, err := lockStore(dir)
	var busy *storeBusyError
	if errors.As(err, &busy) {
		url := busy.URL
		if url == "" {
			url = "nats://127.0.0.1:4222"
		}
		return fmt.Errorf("%w: to sync through it, run `%s=%s tajo connectors sync braze ...`", err, bootstrap.EnvNATS, url)
	}
	if err != nil {
		return err
	}
	return lk.unlock()
}

// syncRemote asks the deployment's extractor to start a run and follows it.
// started is false when no extractor answers.
func syncRemote(ctx context.Context, cmd *cobra.Command, url, storeDir string, f syncFlags) (started bool, err error) {
	cctx, cancel := context.WithTimeout(ctx, storeConnectTimeout)
	defer cancel()
	nc, err := natsx.Connect(cctx, url, "tajo-connectors-sync", natsx.WithStoreAuth(storeDir))
	if err != nil {
		return false, fmt.Errorf("%w; start the deployment, or unset %s and nats.url to sync in this process", err, bootstrap.EnvNATS)
	}
	defer nc.Close()
	req, _ := json.Marshal(proto.SyncRequest{Type: f.runType}) // a struct of strings always encodes
	msg, err := nc.RequestWithContext(cctx, proto.SubjectSyncRequest, req)
	if errors.Is(err, nats.ErrNoResponders) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("asking the extractor on %s for a sync: %w; is it overloaded? `tajo connectors status braze` shows its backlog",
			natsx.RedactURL(url), err)
	}
	var rep proto.SyncReply
	if err := json.Unmarshal(msg.Data, &rep); err != nil {
		return false, fmt.Errorf("reading the extractor's answer: %w", err)
	}
	switch {
	case rep.Busy:
		return false, fmt.Errorf("the deployment is already running a users sync (%s): wait for it to finish "+
			"(`tajo connectors status braze` shows it) and try again", rep.Error)
	case rep.Error != "":
		return false, fmt.Errorf("the extractor refused the sync: %s", rep.Error)
	}
	if cmd.Flags().Changed("batch-size") {
		fmt.Fprintln(cmd.ErrOrStderr(), "note: --batch-size applies to syncs run in this process; the deployment's loaders keep their pipeline.batch_size")
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Started %s sync %s on %s.\n", f.runType, rep.RunID, natsx.RedactURL(url))
	js, err := natsx.JetStream(nc)
	if err != nil {
		return true, err
	}
	st, err := state.NewStore(ctx, js)
	if err != nil {
		return true, err
	}
	sum, err := follow(ctx, cmd.ErrOrStderr(), func(ctx context.Context, p func(app.Progress)) (app.Summary, error) {
		return app.Wait(ctx, js, st, rep.RunID, 0, p)
	}, f.runType)
	if err != nil {
		return true, err
	}
	if err := printSummary(cmd.OutOrStdout(), sum); err != nil {
		return true, err
	}
	return true, onceResult(sum)
}

// syncInProcess runs the pipeline here for one sync, as `tajo run --once`
// does, on the local store or the configured NATS server.
func syncInProcess(ctx context.Context, cmd *cobra.Command, f syncFlags) (err error) {
	env, err := startEnv(ctx, cmd.OutOrStdout(), runFlags{configPath: f.configPath})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, env.close()) }()
	opts, err := env.pipelineOptions() // audited, like tajo run
	if err != nil {
		return err
	}
	if f.batchSize > 0 {
		opts.Loader.BatchSize = f.batchSize
	}
	sum, err := runOneSync(ctx, cmd.ErrOrStderr(), opts, f.runType)
	if err != nil {
		return err
	}
	if err := printSummary(cmd.OutOrStdout(), sum); err != nil {
		return err
	}
	return onceResult(sum)
}

// runOneSync builds the pipeline, runs its workers for one sync with a
// progress bar on w, and stops them once it is done.
func runOneSync(ctx context.Context, w io.Writer, opts app.Options, runType string) (app.Summary, error) {
	a, err := app.New(ctx, opts)
	if err != nil {
		return app.Summary{}, fmt.Errorf("building the pipeline: %w", err)
	}
	return runWorkersFor(ctx, a, w, func(ctx context.Context) (app.Summary, error) {
		return syncOnce(ctx, w, a, runType)
	})
}

// runWorkersFor runs a's workers while fn runs: a worker that fails cancels
// fn, which would otherwise wait forever; when fn returns, the workers stop
// fetching and drain (within workersStopWait, else where they are stuck
// goes to errOut).
func runWorkersFor(ctx context.Context, a *app.App, errOut io.Writer, fn func(context.Context) (app.Summary, error)) (app.Summary, error) {
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	workers := make(chan error, 1)
	go func() {
		werr := a.RunWorkers(runCtx)
		if werr != nil {
			cancel(fmt.Errorf("the pipeline stopped: %w", werr))
		}
		workers <- werr
	}()
	sum, err := fn(runCtx)
	cancel(nil)
	if werr := awaitWorkers(workers, workersStopWait, errOut); werr != nil {
		return app.Summary{}, fmt.Errorf("running the workers: %w", werr)
	}
	return sum, err
}

// follow runs wait with a progress bar on w. The last frame comes from the
// summary, which also counts what never reached the loader (dead letters,
// unchanged users), so a finished run reads 100%.
func follow(ctx context.Context, w io.Writer, wait func(context.Context, func(app.Progress)) (app.Summary, error), runType string) (app.Summary, error) {
	bar := progress.New(w)
	var last app.Progress
	sum, err := wait(ctx, func(p app.Progress) {
		last = p
		bar.Update(snapshot(p))
	})
	if err != nil {
		bar.Finish(snapshot(last))
		return app.Summary{}, fmt.Errorf("%s sync: %w", runType, err)
	}
	handled := sum.Created + sum.Updated + sum.Unchanged + sum.Failed + sum.DeadLettered
	bar.Finish(progress.Snapshot{Stage: "done", Exported: sum.Exported, Transformed: last.Transformed,
		Loaded: handled, Total: sum.Exported})
	return sum, nil
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/dlq"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/plan"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// memoryBuckets are what the connector remembers of what it sent: the dry
// run starts from a copy of them, so its plan is what a real run would do.
var memoryBuckets = []string{proto.BucketFingerprints, proto.BucketClaims}

// dryRunResult is a finished dry run: its plan and the run's summary.
type dryRunResult struct {
	plan        *plan.Plan
	summary     app.Summary
	deadLetters map[string]int64 // "stage/reason" -> count
	copied      int              // memory entries copied from the deployment
	source      string           // where they were copied from; "" none
}

// runDryRun is `tajo connectors sync --dry-run`.
func runDryRun(ctx context.Context, cmd *cobra.Command, s *connectorSettings, f syncFlags) error {
	res, err := dryRun(ctx, cmd, s, f)
	if err != nil {
		return err
	}
	checked := 0
	if f.diff {
		rec := openCLIAudit(s.home, cmd.ErrOrStderr())
		defer rec.close()
		c, err := brevo.New(brevo.Config{BaseURL: s.cfg.Connectors.Brevo.APIURL, APIKey: s.creds.BrevoAPIKey,
			Observer: rec.Observer(cliService)})
		if err != nil {
			return fmt.Errorf("configuring the Brevo client (check connectors.brevo.api_url): %w", err)
		}
		if checked, err = res.plan.FetchDiffs(ctx, c, f.diffLimit); err != nil {
			return fmt.Errorf("%w; run without --diff for the plan alone", err)
		}
	}
	out := cmd.OutOrStdout()
	if res.source == "" {
		fmt.Fprintln(out, "No memory of earlier syncs (no NATS server or local store): every contact counts as new.")
	} else {
		fmt.Fprintf(out, "Started from the connector's memory at %s (%d entries copied).\n", res.source, res.copied)
	}
	sum := res.summary
	return res.plan.Write(out, plan.Report{
		RunID: sum.RunID, Type: sum.Type, Exported: sum.Exported, Unchanged: sum.Unchanged,
		DeadLettered: sum.DeadLettered, DeadLetters: res.deadLetters, Show: f.show, Checked: checked,
	})
}

// dryRun runs one sync in this process on a temporary embedded server whose
// memory buckets are copied from the deployment (or the local store), with
// the loader recording its writes in a plan instead of sending them.
func dryRun(ctx context.Context, cmd *cobra.Command, s *connectorSettings, f syncFlags) (_ *dryRunResult, err error) {
	env := &runEnv{home: s.home, cfg: s.cfg, creds: s.creds}
	defer func() { err = errors.Join(err, env.close()) }()
	if err := os.MkdirAll(s.home, 0o700); err != nil {
		return nil, fmt.Errorf("creating the state directory %s: %w", s.home, err)
	}
	if err := env.openLog(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tajo-dry-run-")
	if err != nil {
		return nil, fmt.Errorf("creating a directory for the dry run's NATS store: %w", err)
	}
	env.closers = append(env.closers, func() error { return os.RemoveAll(dir) })
	ns, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: dir, Host: "127.0.0.1", ServerName: "tajo-dry-run"})
	if err != nil {
		return nil, fmt.Errorf("starting the dry run's NATS server: %w", err)
	}
	env.closers = append(env.closers, func() error { ns.Shutdown(); return nil })
	if env.nc, err = natsx.Connect(ctx, ns.ClientURL(), "tajo-dry-run"); err != nil {
		return nil, err
	}
	nc := env.nc
	env.closers = append(env.closers, func() error { return drain(nc) })

	res := &dryRunResult{plan: plan.New()}
	opts, err := appOptions(s.cfg, s.creds, env.nc, env.logger)
	if err != nil {
		return nil, err
	}
	opts.Loader.DryRun, opts.Loader.Planner = true, res.plan
	// The dry run's Braze export is real vendor calls: on record, through
	// the spool (this server and its AUDIT stream are thrown away).
	rec := openCLIAudit(s.home, cmd.ErrOrStderr())
	env.closers = append(env.closers, func() error { rec.close(); return nil })
	opts.Audit = rec.Recorder
	if f.batchSize > 0 {
		opts.Loader.BatchSize = f.batchSize
	}
	a, err := app.New(ctx, opts) // provisions the temporary server
	if err != nil {
		return nil, fmt.Errorf("building the dry run's pipeline: %w", err)
	}
	if where, ok := s.stateSource(); ok {
		b, err := openBus(ctx, cmd, storeFlags{configPath: f.configPath})
		if err != nil {
			return nil, fmt.Errorf("reading the connector's memory for the dry run: %w", err)
		}
		res.copied, err = copyBuckets(ctx, b.JS, a.JS, memoryBuckets)
		b.Close()
		if err != nil {
			return nil, err
		}
		res.source = where
	}
	if res.summary, err = runWorkersFor(ctx, a, cmd.ErrOrStderr(), func(ctx context.Context) (app.Summary, error) {
		return syncOnce(ctx, cmd.ErrOrStderr(), a, f.runType)
	}); err != nil {
		return nil, fmt.Errorf("dry run: %w", err)
	}
	counts, err := dlq.Counts(ctx, a.JS)
	if err != nil {
		return nil, fmt.Errorf("dry run: %w", err)
	}
	res.deadLetters = map[string]int64{}
	for stage, reasons := range counts {
		for reason, n := range reasons {
			res.deadLetters[stage+"/"+reason] += int64(n)
		}
	}
	return res, nil
}

// copyBuckets copies the current entries of each bucket from one server to
// the same bucket on another (which must exist) and returns how many it
// copied. A bucket the source does not have is skipped: nothing to copy.
func copyBuckets(ctx context.Context, from, to jetstream.JetStream, buckets []string) (int, error) {
	n := 0
	for _, name := range buckets {
		src, err := from.KeyValue(ctx, name)
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("opening bucket %s to copy it: %w", name, err)
		}
		w, err := src.WatchAll(ctx, jetstream.IgnoreDeletes())
		if err != nil {
			return n, fmt.Errorf("reading bucket %s: %w", name, err)
		}
		copied, err := copyEntries(ctx, w, to, name)
		_ = w.Stop()
		n += copied
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// copyEntries publishes every entry the watcher delivers until it says it
// is caught up, then waits for the server to have stored them all.
func copyEntries(ctx context.Context, w jetstream.KeyWatcher, to jetstream.JetStream, bucket string) (int, error) {
	var acks []jetstream.PubAckFuture
	for {
		n := len(acks)
		select {
		case <-ctx.Done():
			return n, fmt.Errorf("copying bucket %s: %w", bucket, ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return n, fmt.Errorf("copying bucket %s: the watcher closed", bucket)
			}
			if e != nil {
				// A put is a publish on the bucket's subject for the key.
				ack, err := to.PublishAsync("$KV."+bucket+"."+e.Key(), e.Value())
				if err != nil {
					return n, fmt.Errorf("copying bucket %s, key %s: %w", bucket, e.Key(), err)
				}
				acks = append(acks, ack)
				continue
			}
			select {
			case <-to.PublishAsyncComplete():
			case <-ctx.Done():
				return n, fmt.Errorf("copying bucket %s: %w", bucket, ctx.Err())
			}
			for _, ack := range acks {
				select {
				case err := <-ack.Err():
					return n, fmt.Errorf("copying bucket %s: %w", bucket, err)
				case <-ack.Ok():
				}
			}
			return n, nil
		}
	}
}

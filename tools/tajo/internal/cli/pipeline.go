package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
	"github.com/tajo-sync/tajo/tools/tajo/internal/progress"
)

// errSyncFailed marks a run that completed with failed records: the exit
// status of `tajo run --once` is not 0, but nothing is broken.
var errSyncFailed = errors.New("sync finished with failures")

// runPipeline is `tajo run`: start everything, one full sync, then
// incremental syncs until ctx is cancelled (or one sync with --once).
func runPipeline(ctx context.Context, out, errOut io.Writer, f runFlags) (err error) {
	env, err := startEnv(ctx, out, f)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, env.close()) }()

	tracing, flushSpans, err := bootstrap.Tracing(ctx, "tajo", "", env.logger)
	if err != nil {
		return err
	}
	defer flushSpans()
	ops, err := bootstrap.StartOps(env.cfg, "tajo", env.logger)
	if err != nil {
		return err
	}
	defer ops.Close()
	opts, err := env.pipelineOptions()
	if err != nil {
		return err
	}
	opts.Tracer, opts.Ops, opts.Replicas = bootstrap.Tracer(tracing), ops, env.cfg.NATS.Replicas
	a, err := app.New(ctx, opts)
	if err != nil {
		return fmt.Errorf("building the pipeline: %w", err)
	}

	ro, withResources, err := resourcesOptions(env.cfg, env.creds, f.since, f.once, out)
	if err != nil {
		return err
	}
	ro.Audit, ro.Logger = env.audit, env.logger
	if withResources && !f.once {
		env.resources = &ro // runAll runs them on their schedules
	}

	// The workers and the syncs share one context: Ctrl-C stops both, and a
	// worker that dies stops the syncs, which would otherwise wait forever.
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	resources := make(chan error, 1)
	if withResources && f.once {
		go func() { resources <- a.RunResources(runCtx, ro) }()
	} else {
		resources <- nil
	}
	workers := make(chan error, 1)
	go func() {
		werr := runAll(runCtx, out, a, env) // the users workers, the gateway and the events workers
		if werr != nil {
			cancel(fmt.Errorf("the pipeline stopped: %w", werr))
		}
		workers <- werr
	}()

	serr := syncs(runCtx, out, errOut, a, env, f.once)
	if rerr := <-resources; rerr != nil && serr == nil && ctx.Err() == nil {
		serr = fmt.Errorf("catalogs and analytics: %w", rerr)
	}
	cancel(nil) // stop fetching; RunWorkers drains in-flight work before it returns
	werr := awaitWorkers(workers, workersStopWait, errOut)

	switch {
	case werr != nil:
		return fmt.Errorf("running the workers: %w", werr)
	case ctx.Err() != nil:
		fmt.Fprintln(out, "Stopped.")
		return nil
	}
	return serr
}

// syncs runs the full sync, then one every env.interval: incremental, or a
// full re-export once connectors.braze.sync.users.full_every has passed
// since the last full one.
func syncs(ctx context.Context, out, errOut io.Writer, a *app.App, env *runEnv, once bool) error {
	sched := app.Schedule{Interval: env.interval, FullEvery: env.fullEvery}
	sched.Ran("full", time.Now())
	sum, err := syncOnce(ctx, errOut, a, "full")
	if err != nil {
		return err
	}
	if err := printSummary(out, sum); err != nil {
		return err
	}
	// Segments are mirrored once the users (their contacts) are in Brevo;
	// then on their own schedule (sync.segments.interval).
	segmentsOK, err := mirrorSegments(ctx, out, a)
	if err != nil {
		return err
	}
	if err := printWhere(out, env); err != nil {
		return err
	}
	if once {
		if err := onceResult(sum); err != nil || segmentsOK {
			return err
		}
		return fmt.Errorf("segments run: a segment could not be mirrored or a change was dead-lettered (see above): %w", errSyncFailed)
	}

	fmt.Fprintf(out, "\nNext: an incremental sync every %s, a full re-export every %s. Ctrl-C stops (in-flight work finishes first).\n",
		env.interval, env.fullEvery)
	t := time.NewTicker(env.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		now := time.Now()
		runType := sched.Next(now)
		sched.Ran(runType, now)
		sum, err := syncOnce(ctx, errOut, a, runType)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// One failed sync is not a reason to stop the schedule: the
			// next one may well succeed (a vendor outage, say).
			fmt.Fprintf(errOut, "%s sync: %v\n", runType, err)
			continue
		}
		if err := printSummaryLine(out, sum); err != nil {
			return err
		}
	}
}

// onceResult is the outcome of `tajo run --once`: an error (exit status 1)
// unless the run completed and nothing failed. Dead letters alone are bad
// input lines, expected in real exports, and do not fail the run.
func onceResult(s app.Summary) error {
	if s.OK() {
		return nil
	}
	return fmt.Errorf("run %s: %d failed%s: %w", s.RunID, s.Failed, errSuffix(s.Error), errSyncFailed)
}

func errSuffix(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// syncOnce runs one sync with a progress bar on w (see follow).
func syncOnce(ctx context.Context, w io.Writer, a *app.App, runType string) (app.Summary, error) {
	return follow(ctx, w, func(ctx context.Context, p func(app.Progress)) (app.Summary, error) {
		return a.Sync(ctx, runType, p)
	}, runType)
}

// snapshot turns the pipeline's progress into what the bar draws: users
// dealt with, not requests made (app.Progress.Loaded counts the unchanged).
func snapshot(p app.Progress) progress.Snapshot {
	return progress.Snapshot{
		Stage:       stageName(p.Status),
		Exported:    p.Exported,
		Transformed: p.Transformed,
		Loaded:      p.Loaded,
		Total:       p.Total,
	}
}

func stageName(status string) string {
	switch status {
	case "running":
		return "exporting"
	case "exported":
		return "loading"
	case "":
		return "starting"
	default:
		return status
	}
}

package chaos

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/tools/sandbox"
	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
	"github.com/tajo-sync/tajo/tools/tajo/internal/stack"
)

// chaosResult is the chaos run's outcome.
type chaosResult struct {
	snap     *Snapshot
	summary  app.Summary
	events   []*Event
	crashes  []Crash
	statuses map[string]int // requests by status, also when the run did not finish
	breakers string         // breaker transitions as the workers reported them
	duration time.Duration
	problems []string // what went wrong around the sync itself
}

// runChaos syncs o.Users through worker processes on an external
// nats-server while the planned events strike, and snapshots the result.
func runChaos(ctx context.Context, o Options, bins map[string]string, natsBin, dir string) (res *chaosResult, err error) {
	so := sandbox.Options{Users: o.Users, Seed: o.Seed, RateLimits: true, Faults: o.Faults}
	if o.RealisticImports {
		so.ImportDelay, so.ImportRowsPerSecond = brevosim.RealisticImportDelay, brevosim.RealisticImportRowsPerSecond
	}
	sb, err := sandbox.Start(ctx, so)
	if err != nil {
		return nil, fmt.Errorf("starting the faulty sandbox: %w", err)
	}
	defer sb.Close()
	ns, err := startNATSServer(ctx, natsBin, filepath.Join(dir, "nats"))
	if err != nil {
		return nil, err
	}
	var ws *workers
	defer func() {
		var procs []*stack.Proc
		if ws != nil {
			procs = append(procs, ws.all...)
		}
		procs = append(procs, ns.logs...)
		if lerr := writeLogs(filepath.Join(dir, "logs"), procs); lerr != nil && err == nil {
			err = lerr
		}
	}()
	defer ns.Stop()

	cfg, err := writeConfig(dir, "chaos.yaml", sb, o.BatchSize)
	if err != nil {
		return nil, err
	}
	env := []string{"NATS_URL=" + ns.AuthURL(), "TAJO_CONFIG=" + cfg, "TAJO_HOME=" + dir,
		"BRAZE_API_KEY=" + sb.BrazeAPIKey, "BREVO_API_KEY=" + sb.BrevoAPIKey, "TMPDIR=" + dir}
	if ws, err = startWorkers(bins, env); err != nil {
		return nil, err
	}
	stopped := false
	defer func() {
		if !stopped {
			ws.stop()
		}
	}()
	// The driver's own connection reconnects forever, like the workers',
	// so it follows the run across the server's restart.
	nc, err := natsx.Connect(ctx, ns.AuthURL(), "tajo-chaos")
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	js, err := natsx.JetStream(nc)
	if err != nil {
		return nil, err
	}
	if err := natsx.Provision(ctx, js, natsx.ProvisionOptions{}); err != nil {
		return nil, fmt.Errorf("provisioning streams and buckets: %w", err)
	}
	st, err := state.NewStore(ctx, js)
	if err != nil {
		return nil, fmt.Errorf("opening the state bucket: %w", err)
	}

	start := time.Now()
	runID, err := stack.RequestSync(ctx, nc)
	if err != nil {
		return nil, fmt.Errorf("%w\nextractor output:\n%s", err, ws.current[TargetExtractor].Output())
	}
	fmt.Fprintf(o.Log, "chaos run %s: %d users, faults %q\n", runID, o.Users, o.Faults.String())

	events := plan(o.Seed, o.Kills, o.NATSRestarts)
	sctx, stopStriking := context.WithCancel(ctx)
	var (
		wg      sync.WaitGroup
		crashes []Crash
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		crashes = strike(sctx, o, nc, st, runID, events, ws, ns, start)
	}()
	wctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	sum, werr := follow(wctx, o, js, st, runID, start)
	stopStriking()
	wg.Wait()
	res = &chaosResult{summary: sum, events: events, crashes: crashes, duration: time.Since(start), statuses: statuses(sb)}
	if werr != nil {
		res.problems = append(res.problems, fmt.Sprintf("the chaos run did not finish: %v (logs in %s)", werr, filepath.Join(dir, "logs")))
		return res, nil
	}
	if sum.Error != "" {
		res.problems = append(res.problems, fmt.Sprintf("the chaos sync failed: %s (logs in %s)", sum.Error, filepath.Join(dir, "logs")))
		return res, nil
	}
	late, err := ws.supervise(time.Since(start))
	if err != nil {
		return nil, err
	}
	res.crashes = append(res.crashes, late...)
	res.breakers = breakerReport(ctx, st)
	if res.snap, err = snapshot(ctx, js, sb); err != nil {
		return nil, fmt.Errorf("reading the chaos run's outcome: %w", err)
	}
	stopped = true
	if err := ws.stop(); err != nil {
		res.problems = append(res.problems, err.Error())
	}
	return res, nil
}

// stallAfter is how long one app.Wait may go without reporting progress
// before follow starts it over: across a server restart a read of the state
// bucket can hang until its context ends.
const stallAfter = 15 * time.Second

// follow waits for the run with app.Wait, starting over when the state
// bucket is out of reach or a read hangs (the server restarting), until ctx
// ends.
func follow(ctx context.Context, o Options, js jetstream.JetStream, st *state.Store, runID string, start time.Time) (app.Summary, error) {
	var last time.Time
	for {
		actx, cancel := context.WithCancel(ctx)
		watchdog := time.AfterFunc(stallAfter, cancel)
		report := func(p app.Progress) {
			watchdog.Reset(stallAfter)
			if time.Since(last) >= 5*time.Second {
				last = time.Now()
				fmt.Fprintf(o.Log, "  %6.1fs %-8s exported %d transformed %d loaded %d\n",
					time.Since(start).Seconds(), p.Status, p.Exported, p.Transformed, p.Loaded)
			}
		}
		sum, err := app.Wait(actx, js, st, runID, 200*time.Millisecond, report)
		watchdog.Stop()
		cancel()
		if err == nil {
			return sum, nil
		}
		if ctx.Err() != nil {
			return sum, err
		}
		fmt.Fprintf(o.Log, "  %6.1fs waiting again after: %v\n", time.Since(start).Seconds(), err)
		select {
		case <-ctx.Done():
			return sum, err
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// eventGap spaces the events out, so that each finds the pipeline
// recovered from the one before rather than a worker still starting.
const eventGap = time.Second

// strike fires the events as the run reaches them, one at a time, and
// restarts workers that exit by themselves, until ctx ends.
func strike(ctx context.Context, o Options, nc *nats.Conn, st *state.Store, runID string, events []*Event,
	ws *workers, ns *natsServer, start time.Time) (crashes []Crash) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	js, err := natsx.JetStream(nc)
	if err != nil {
		fmt.Fprintf(o.Log, "  reading progress: %v\n", err)
		return nil
	}
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return crashes
		case <-t.C:
		}
		c, err := ws.supervise(time.Since(start))
		for _, c := range c {
			fmt.Fprintf(o.Log, "  %6.1fs %s exited by itself, restarted: %s\n", c.Elapsed.Seconds(), c.Target, c.LastLine)
		}
		crashes = append(crashes, c...)
		if err != nil {
			fmt.Fprintf(o.Log, "  restarting a worker: %v\n", err)
		}
		if time.Since(last) < eventGap || !nc.IsConnected() {
			continue
		}
		p, err := readProgress(ctx, js, st, runID)
		if err != nil {
			continue // the server restarting: the next tick reads again
		}
		for _, e := range events {
			if !e.due(p, o.Users) {
				continue
			}
			e.Fired, e.Seen, e.Elapsed = true, p, time.Since(start)
			verb := "SIGKILLed and restarted"
			if e.Target == TargetNATS {
				verb = "restarted (same port, same file store)"
				err = ns.Restart(ctx)
			} else {
				err = ws.kill(e.Target)
			}
			if err != nil {
				e.Err = err.Error()
			}
			fmt.Fprintf(o.Log, "  %6.1fs %s %s at exported %d transformed %d loaded %d%s\n", e.Elapsed.Seconds(),
				e.Target, verb, p.Exported, p.Transformed, p.Loaded, errSuffix(e.Err))
			last = time.Now()
			break // one event per gap
		}
	}
}

func errSuffix(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}

func readProgress(ctx context.Context, js jetstream.JetStream, st *state.Store, runID string) (progress, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	p, err := app.ReadProgress(ctx, js, st, runID)
	if err != nil {
		return progress{}, err
	}
	return progress{Status: p.Status, Exported: p.Exported, Transformed: p.Transformed, Loaded: p.Loaded}, nil
}

// writeConfig writes the connector's config file for sb into dir: a users
// sync on request only (the schedule an hour away), defaults elsewhere.
func writeConfig(dir, name string, sb *sandbox.Sandbox, batchSize int) (string, error) {
	path := filepath.Join(dir, name)
	body := fmt.Appendf(nil, `connectors:
  braze:
    instance_url: %s
    sync:
      users: {interval: 1h}
  brevo:
    api_url: %s
`, sb.BrazeURL, sb.BrevoURL)
	if batchSize > 0 {
		body = fmt.Appendf(body, "pipeline:\n  batch_size: %d\n", batchSize)
	}
	if err := os.WriteFile(path, body, 0o600); err != nil {
		return "", fmt.Errorf("writing the config file: %w", err)
	}
	return path, nil
}

// breakerReport sums the circuit-breaker transitions, 429s and transport
// retries the worker processes last reported in the state bucket. A killed
// worker's counts restart with its replacement, so this is a lower bound.
func breakerReport(ctx context.Context, st *state.Store) string {
	hs, err := st.Healths(ctx)
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	var total, throttled, retries int64
	byMove := map[string]int64{}
	for _, h := range hs {
		for t, n := range h.Transitions {
			total += n
			if i := strings.LastIndexByte(t, ' '); i >= 0 {
				byMove[t[i+1:]] += n
			}
		}
		throttled += h.Throttled
		retries += h.Retries
	}
	moves := make([]string, 0, len(byMove))
	for m, n := range byMove {
		moves = append(moves, fmt.Sprintf("%s=%d", m, n))
	}
	sort.Strings(moves)
	return fmt.Sprintf("%d %v (429s seen by the limiters %d, policy retries %d; from %d processes' last reports, a lower bound across kills)",
		total, moves, throttled, retries, len(hs))
}

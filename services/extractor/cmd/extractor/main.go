// Command extractor exports Braze users into the RAW stream: on a schedule
// (connectors.braze.sync.users.interval) and whenever asked on
// tajo.ctl.sync.users (`tajo connectors sync`); and, when switched on, reads
// Braze catalogs (sync.catalogs) and campaign and Canvas analytics
// (sync.campaigns, sync.canvases) on their schedules. It connects to NATS_URL, reads
// the config file, and takes the key from BRAZE_API_KEY or else the credential
// store ($TAJO_HOME/credentials.enc). Replicas may run: the one holding the
// schedule lease leads, the others stand by and take over (resuming its
// run) when it dies. With connectors.braze.sync.segments on it also mirrors
// segments into Brevo lists (on sync.segments.interval, and when asked on
// tajo.ctl.sync.segments), under a lease of its own.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/services/extractor"
)

func main() { bootstrap.Main("extractor", run) }

func run(ctx context.Context, f bootstrap.Flags) error {
	configPath := f.ConfigPath
	cfg, err := bootstrap.LoadConfig(configPath)
	if err != nil {
		return err
	}
	usersOff := cfg.UsersSyncOff()
	catalogs := extractor.CatalogsConfigOf(cfg)
	analytics, err := extractor.AnalyticsConfigOf(cfg, "")
	if err != nil {
		return err
	}
	if usersOff != nil && (catalogs == nil && analytics == nil || !cfg.Connectors.Braze.Enabled) {
		return fmt.Errorf("the extractor does not run: %w", usersOff) // said at start, not a silent idle worker
	}
	log := bootstrap.Logger(os.Stderr, cfg, "extractor")
	creds, err := bootstrap.Credentials(config.Home())
	if err != nil {
		return err
	}
	key := creds.BrazeAPIKey
	if key == "" {
		return errors.New("no Braze API key: export " + config.EnvBrazeAPIKey + " or run `tajo connectors install braze`")
	}
	if err := bootstrap.UseStoredInstance(cfg, config.Home()); err != nil {
		return err
	}
	ec, err := extractor.FromConfig(cfg)
	if err != nil {
		return err
	}
	m, err := mapping.New(cfg.MappingOptions()) // the segment mirror's identities
	if err != nil {
		return fmt.Errorf("field mapping: %w", err)
	}
	tracing, flushSpans, err := bootstrap.Tracing(ctx, "extractor", f.Instance, log)
	if err != nil {
		return err
	}
	defer flushSpans()
	ops, err := bootstrap.StartOps(cfg, "extractor", log)
	if err != nil {
		return err
	}
	defer ops.Close()
	bus, err := bootstrap.Connect(ctx, bootstrap.NATSURL(cfg), "extractor", bootstrap.WithReplicas(cfg.NATS.Replicas))
	if err != nil {
		return err
	}
	defer bus.Close()
	rec, err := bus.Audit(ctx, cfg, log, extractor.Resource)
	if err != nil {
		return err
	}
	bc := bootstrap.BrazeConfig(cfg, key)
	bc.Observer = ops.Calls(rec.Observer("extractor"))
	bc.Tracer = bootstrap.Tracer(tracing)
	guard, err := bootstrap.GuardBraze(cfg.Resilience, &bc, log)
	if err != nil {
		return err
	}
	ops.Metrics.WatchGuards(guard)
	defer bootstrap.ReportHealth(ctx, bus.State, "extractor", f.Instance, log, guard)()
	client, err := braze.New(bc)
	if err != nil {
		return err
	}
	ec.Logger, ec.Tracer, ec.Instance = log, bootstrap.Tracer(tracing), f.Instance
	ec.Retry = guard.Retry
	e, err := extractor.New(bus.JS, client, bus.State, ec)
	if err != nil {
		return err
	}
	mirror, err := segmentMirror(ctx, cfg, bus, client, m, creds, f.Instance, log)
	if err != nil {
		return err
	}
	poller, err := brevoPoller(cfg, creds, bus, ops.Calls(rec.Observer("extractor")), f.Instance, log)
	if err != nil {
		return err
	}
	ops.Attach(bus.NC, bus.JS)
	var jobs []func(context.Context) error
	if usersOff == nil {
		jobs = append(jobs, func(ctx context.Context) error { return e.Run(ctx, bus.NC, cfg.Connectors.Braze.Sync.Users.Interval) })
	}
	for _, w := range []func(context.Context) error{mirror, poller} {
		if w != nil {
			jobs = append(jobs, w)
		}
	}
	more, err := resourceJobs(ctx, cfg, catalogs, analytics, bus, client, creds, ops, rec, f.Instance, log)
	if err != nil {
		return err
	}
	return bootstrap.RunAll(ctx, append(jobs, more...)...)
}

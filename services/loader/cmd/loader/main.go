// Command loader writes contact upserts to Brevo. Replicas share one durable
// consumer; each keeps to one Brevo import at a time. It connects to
// NATS_URL, reads the config file, and takes the key from BREVO_API_KEY.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/telemetry"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/loader"
)

func main() { bootstrap.Main("loader", run) }

func run(ctx context.Context, f bootstrap.Flags) error {
	configPath, instance := f.ConfigPath, f.Instance
	cfg, err := bootstrap.LoadConfig(configPath)
	if err != nil {
		return err
	}
	if err := cfg.BrevoOff(); err != nil {
		return fmt.Errorf("the loader does not run: %w", err) // said at start, not a silent idle worker
	}
	log := bootstrap.Logger(os.Stderr, cfg, "loader")
	creds, err := bootstrap.Credentials(config.Home())
	if err != nil {
		return err
	}
	key := creds.BrevoAPIKey
	if key == "" {
		return errors.New("no Brevo API key: export " + config.EnvBrevoAPIKey + " or run `tajo connectors install braze --brevo-api-key KEY`")
	}
	m, err := mapping.New(cfg.MappingOptions())
	if err != nil {
		return fmt.Errorf("field mapping: %w", err)
	}
	tracing, flushSpans, err := bootstrap.Tracing(ctx, "loader", instance, log)
	if err != nil {
		return err
	}
	defer flushSpans()
	ops, err := bootstrap.StartOps(cfg, "loader", log)
	if err != nil {
		return err
	}
	defer ops.Close()
	bus, err := bootstrap.Connect(ctx, bootstrap.NATSURL(cfg), "loader-"+instance, bootstrap.WithReplicas(cfg.NATS.Replicas))
	if err != nil {
		return err
	}
	defer bus.Close()
	ops.Attach(bus.NC, bus.JS, telemetry.Consumer{Stream: proto.StreamOps, Durable: loader.Durable},
		telemetry.Consumer{Stream: proto.StreamOps, Durable: loader.EventsDurable})
	// The loader writes runs the extractor started: "users" is its resource.
	rec, err := bus.Audit(ctx, cfg, log, "users")
	if err != nil {
		return err
	}
	bc := bootstrap.BrevoConfig(cfg, key)
	bc.Observer = ops.Calls(rec.Observer("loader"))
	bc.Tracer = bootstrap.Tracer(tracing)
	guard, err := bootstrap.GuardBrevo(cfg.Resilience, &bc, log)
	if err != nil {
		return err
	}
	ops.Metrics.WatchGuards(guard)
	// The loaders share Brevo's budget: each learns how many are alive
	// (resilience.limits.replicas, when set, is a floor).
	stopPresence, err := bootstrap.Presence(ctx, bus.JS, cfg.NATS.Replicas, "brevo", instance, log, func(n int) {
		guard.Limiter.SetReplicas(max(n, cfg.Resilience.Limits.Replicas))
	})
	if err != nil {
		return err
	}
	defer stopPresence()
	defer bootstrap.ReportHealth(ctx, bus.State, "loader", instance, log, guard)()
	client, err := brevo.New(bc)
	if err != nil {
		return err
	}
	lc := loader.FromConfig(cfg)
	lc.Paused = guard.Open // stop fetching while a Brevo breaker is open
	lc.Retry = guard.Retry
	lc.Instance, lc.Logger, lc.Instruments = instance, log, ops.Pipeline(tracing)
	l, err := loader.New(ctx, bus.JS, client, m.Attributes(), bus.State, lc)
	if err != nil {
		return err
	}
	// Engagement events (ops.brevo.events) share the binary: their own
	// durable consumer and worker, the same Brevo guard.
	le, err := loader.NewEvents(ctx, bus.JS, client, bus.State.KeyValue(), loader.EventsConfig{Paused: guard.Open, Logger: log,
		Instruments: ops.EventsPipeline(tracing, proto.StageLoader)})
	if err != nil {
		return err
	}
	workers := []func(context.Context) error{l.Run, le.Run}
	bw, err := brazeWriter(ctx, cfg, creds, bus.JS, ops.Calls(rec.Observer("loader")), log)
	if err != nil {
		return err
	}
	if bw != nil {
		workers = append(workers, bw) // Brevo's changes to Braze (ops.braze.*): their own durable consumer
	}
	if cfg.SegmentsMirrored() {
		// List changes (ops.brevo.lists.>): their own durable consumer, the
		// same Brevo guard.
		ll, err := loader.NewLists(ctx, bus.JS, client, loader.ListsConfig{Paused: guard.Open, Replicas: cfg.NATS.Replicas, Logger: log})
		if err != nil {
			return err
		}
		workers = append(workers, ll.Run)
	}
	// Products (ops.brevo.products), when sync.catalogs is on.
	if cfg.Connectors.Braze.Sync.Catalogs.Enabled {
		lp, err := loader.NewProducts(ctx, bus.JS, client, loader.ProductsConfig{Paused: guard.Open, Logger: log})
		if err != nil {
			return err
		}
		workers = append(workers, lp.Run)
	}
	return bootstrap.RunAll(ctx, workers...)
}

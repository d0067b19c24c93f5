// Command transformer maps raw Braze users to Brevo contact upserts. Run as
// many replicas as needed: they share one durable consumer. It connects to
// NATS_URL and reads the same config file as every other service.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/telemetry"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/transformer"
)

func main() { bootstrap.Main("transformer", run) }

func run(ctx context.Context, f bootstrap.Flags) error {
	configPath, instance := f.ConfigPath, f.Instance
	cfg, err := bootstrap.LoadConfig(configPath)
	if err != nil {
		return err
	}
	log := bootstrap.Logger(os.Stderr, cfg, "transformer")
	m, err := mapping.New(cfg.MappingOptions())
	if err != nil {
		return fmt.Errorf("field mapping: %w", err)
	}
	tracing, flushSpans, err := bootstrap.Tracing(ctx, "transformer", instance, log)
	if err != nil {
		return err
	}
	defer flushSpans()
	ops, err := bootstrap.StartOps(cfg, "transformer", log)
	if err != nil {
		return err
	}
	defer ops.Close()
	bus, err := bootstrap.Connect(ctx, bootstrap.NATSURL(cfg), "transformer-"+instance, bootstrap.WithReplicas(cfg.NATS.Replicas))
	if err != nil {
		return err
	}
	defer bus.Close()
	ops.Attach(bus.NC, bus.JS, telemetry.Consumer{Stream: proto.StreamRaw, Durable: transformer.Durable},
		telemetry.Consumer{Stream: proto.StreamRaw, Durable: transformer.EventsDurable})
	tw, reverse, err := twoWay(ctx, cfg, bus.JS, log)
	if err != nil {
		return err
	}
	tc := transformer.FromConfig(cfg)
	tc.TwoWay = reconciler(tw)
	tc.Instance, tc.Logger, tc.Instruments = instance, log, ops.Pipeline(tracing)
	t, err := transformer.New(ctx, bus.JS, m, tc)
	if err != nil {
		return err
	}
	// Engagement events (raw.braze.events) share the binary: their own
	// durable consumer, their own worker.
	tec := transformer.EventsFromConfig(cfg)
	tec.Logger, tec.Instruments = log, ops.EventsPipeline(tracing, proto.StageTransformer)
	te, err := transformer.NewEvents(bus.JS, tec)
	if err != nil {
		return err
	}
	workers := []func(context.Context) error{t.Run, te.Run}
	if reverse != nil {
		workers = append(workers, reverse) // Brevo's changes (raw.brevo.*): their own durable consumer
	}
	if cfg.SegmentsMirrored() {
		// Segment changes (raw.braze.segments): their own durable consumer.
		ts, err := transformer.NewSegments(ctx, bus.JS, transformer.SegmentsConfig{Replicas: cfg.NATS.Replicas, Logger: log})
		if err != nil {
			return err
		}
		workers = append(workers, ts.Run)
	}
	// Catalog items (raw.braze.catalog), when sync.catalogs is on.
	if c := cfg.Connectors.Braze.Sync.Catalogs; c.Enabled {
		tc, err := transformer.NewCatalogs(ctx, bus.JS, transformer.CatalogsConfig{Mapping: c.Mapping, Logger: log})
		if err != nil {
			return err
		}
		workers = append(workers, tc.Run)
	}
	return bootstrap.RunAll(ctx, workers...)
}

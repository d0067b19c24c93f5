package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/tajo-sync/tajo/pkg/audit"
	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/resilience"
	"github.com/tajo-sync/tajo/pkg/segmentexport"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/pkg/telemetry"
	"github.com/tajo-sync/tajo/pkg/twoway"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/services/transformer"
	"go.opentelemetry.io/otel/trace"
)

// Options are what one process running every stage needs.
type Options struct {
	NC          *nats.Conn
	Braze       braze.Config
	Brevo       brevo.Config
	Mapping     mapping.Options
	Extractor   extractor.Config
	Transformer transformer.Config
	Loader      loader.Config
	// Interval between scheduled incremental syncs; 0 disables the schedule.
	Interval time.Duration
	Logger   *slog.Logger
	// Resilience sets the rate limits, retries and circuit breakers under
	// every vendor call (zero fields: the vendors' documented defaults).
	Resilience resilience.Config
	// Audit, when set, records every vendor API call in the AUDIT stream
	// (see audit.go). The caller closes it once RunWorkers has returned.
	Audit *audit.Recorder
	// Tracer, when set, traces every stage and vendor call (see
	// bootstrap.Tracer); nil: no tracing work at all.
	Tracer trace.Tracer
	// Ops, when set, counts the stages' messages and vendor calls and
	// reports lag, DLQ depth and the guards on its /metrics.
	Ops *bootstrap.Ops
	// Replicas of the streams and buckets provisioned (nats.replicas);
	// default 1.
	Replicas int
	// Segments, when set, mirrors Braze segments into Brevo lists
	// (segments.go).
	Segments *SegmentsOptions
	// TwoWay, when set, syncs Brevo's changes back to Braze (twoway.go):
	// the transformer reconciles the fields synced both ways, and
	// RunTwoWay runs the Brevo → Braze workers.
	TwoWay *twoway.Policy
}

// App is every stage of the users pipeline in one process.
type App struct {
	nc          *nats.Conn
	JS          jetstream.JetStream
	State       *state.Store
	Extractor   *extractor.Extractor
	Transformer *transformer.Transformer
	Loader      *loader.Loader
	// BrazeGuard and BrevoGuard hold the limiters and breakers of this
	// process's vendor calls (their state feeds status and reports).
	BrazeGuard, BrevoGuard *resilience.Guard
	// Mirror mirrors segments into lists; nil unless Options.Segments.
	Mirror        *extractor.Mirror
	segments      *segmentWorkers
	exportSegment func(context.Context, segmentexport.Request) (segmentexport.Result, error)
	// TwoWay decides the two-way sync; nil unless Options.TwoWay.
	TwoWay *twoway.Syncer
	bz     *braze.Client // this process's clients, behind its guards
	bv     *brevo.Client
	// reads are the status's vendor checks, with this process's clients.
	reads VendorReads
	// tracer and ops trace and measure the events side as they do the
	// users pipeline (nil: neither).
	tracer   trace.Tracer
	ops      *bootstrap.Ops
	interval time.Duration
	log      *slog.Logger
}

// New provisions the streams and buckets and builds every stage.
func New(ctx context.Context, o Options) (*App, error) {
	if o.NC == nil {
		return nil, errors.New("app: a NATS connection is required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	js, err := natsx.JetStream(o.NC)
	if err != nil {
		return nil, err
	}
	if err := natsx.Provision(ctx, js, natsx.ProvisionOptions{Replicas: o.Replicas}); err != nil {
		return nil, fmt.Errorf("provisioning streams and buckets: %w", err)
	}
	st, err := state.NewStore(ctx, js)
	if err != nil {
		return nil, fmt.Errorf("opening state: %w", err)
	}
	if err := o.wireAudit(ctx, st); err != nil {
		return nil, err
	}
	if o.Tracer != nil {
		o.Braze.Tracer, o.Brevo.Tracer, o.Extractor.Tracer = o.Tracer, o.Tracer, o.Tracer
		o.Transformer.Instruments.Tracer, o.Loader.Instruments.Tracer = o.Tracer, o.Tracer
	}
	if o.Ops != nil {
		o.Braze.Observer, o.Brevo.Observer = o.Ops.Calls(o.Braze.Observer), o.Ops.Calls(o.Brevo.Observer)
		o.Transformer.Instruments.Meter, o.Loader.Instruments.Meter = o.Ops.Metrics, o.Ops.Metrics
	}
	bg, err := bootstrap.GuardBraze(o.Resilience, &o.Braze, o.Logger)
	if err != nil {
		return nil, err
	}
	vg, err := bootstrap.GuardBrevo(o.Resilience, &o.Brevo, o.Logger)
	if err != nil {
		return nil, err
	}
	// The loader stops fetching while a Brevo breaker is open, instead of
	// naking every message it would fetch.
	if o.Loader.Paused == nil {
		o.Loader.Paused = vg.Open
	}
	// The calls no message stands behind retry by the guards' policy
	// (resilience.retry), as in the binaries.
	o.Extractor.Retry, o.Loader.Retry = bg.Retry, vg.Retry
	// Polls of Brevo's imports share its budget for other endpoints
	// (loader.FromConfig sets it from the same limits).
	if o.Loader.OtherPerHour == 0 {
		o.Loader.OtherPerHour = o.Resilience.Limits.WithDefaults().Brevo.OtherPerHour
	}
	bz, err := braze.New(o.Braze)
	if err != nil {
		return nil, fmt.Errorf("configuring the Braze client: %w", err)
	}
	bv, err := brevo.New(o.Brevo)
	if err != nil {
		return nil, fmt.Errorf("configuring the Brevo client: %w", err)
	}
	m, err := mapping.New(o.Mapping)
	if err != nil {
		return nil, fmt.Errorf("building the field mapping: %w", err)
	}
	if len(o.Extractor.FieldsToExport) == 0 {
		// Options not made from a configuration file (extractor.FromConfig
		// sets these): the same decision, from the same mapping.
		o.Extractor.ForMapping(m, o.Loader.ListIDs, o.Loader.ListName)
	}
	o.Extractor.Logger, o.Transformer.Logger, o.Loader.Logger = o.Logger, o.Logger, o.Logger
	ex, err := extractor.New(js, bz, st, o.Extractor)
	if err != nil {
		return nil, err
	}
	var tw *twoway.Syncer
	if o.TwoWay != nil {
		if tw, err = twoway.NewSyncer(ctx, js, o.TwoWay); err != nil {
			return nil, err
		}
		o.Transformer.TwoWay = tw
	}
	tr, err := transformer.New(ctx, js, m, o.Transformer)
	if err != nil {
		return nil, err
	}
	ld, err := loader.New(ctx, js, bv, m.Attributes(), st, o.Loader)
	if err != nil {
		return nil, err
	}
	if o.Ops != nil {
		o.Ops.Metrics.WatchGuards(bg, vg)
		o.Ops.Attach(o.NC, js, telemetry.Consumer{Stream: proto.StreamRaw, Durable: transformer.Durable},
			telemetry.Consumer{Stream: proto.StreamOps, Durable: loader.Durable},
			telemetry.Consumer{Stream: proto.StreamRaw, Durable: transformer.EventsDurable},
			telemetry.Consumer{Stream: proto.StreamOps, Durable: loader.EventsDurable})
	}
	a := &App{nc: o.NC, JS: js, State: st, Extractor: ex, Transformer: tr, Loader: ld,
		BrazeGuard: bg, BrevoGuard: vg, reads: Reads(bz, bv), tracer: o.Tracer, ops: o.Ops,
		interval: o.Interval, log: o.Logger, TwoWay: tw, bz: bz, bv: bv}
	if err := a.newSegments(ctx, o, bz, bv, m, vg); err != nil {
		return nil, err
	}
	return a, nil
}

// RunWorkers runs the extractor's control listener (and schedule), the
// transformer and the loader until ctx is cancelled or one of them fails;
// then it cancels the others and waits for them to drain.
func (a *App) RunWorkers(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	run := func(name string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				once.Do(func() { firstErr = fmt.Errorf("%s: %w", name, err) })
				cancel()
			}
		}()
	}
	host, _ := os.Hostname()
	stopHealth := bootstrap.ReportHealth(ctx, a.State, "tajo", host, a.log, a.BrazeGuard, a.BrevoGuard)
	defer stopHealth()
	run("loader", a.Loader.Run)
	run("transformer", a.Transformer.Run)
	run("extractor", func(ctx context.Context) error { return a.Extractor.Run(ctx, a.nc, a.interval) })
	a.runSegments(run)
	wg.Wait()
	return firstErr
}

// Sync starts a run of the given type and waits until every stage has
// handled it.
func (a *App) Sync(ctx context.Context, runType string, progress func(Progress)) (Summary, error) {
	id, err := a.Extractor.Start(ctx, runType)
	if err != nil {
		return Summary{}, err
	}
	return Wait(ctx, a.JS, a.State, id, 0, progress)
}

package bootstrap

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/restcall"
	"github.com/tajo-sync/tajo/pkg/telemetry"
	"github.com/tajo-sync/tajo/proto"
)

// Ops is a service process's metrics and health endpoint: /metrics,
// /healthz and /readyz on metrics.listen (see config.Config.MetricsListen).
// It starts before the bus connects, so that /healthz answers while the
// process waits for NATS; /readyz turns ready once Attach has been called,
// while the connection is up and the streams exist.
type Ops struct {
	Metrics *telemetry.Metrics
	srv     *telemetry.Server
	bus     atomic.Pointer[conn]
}

type conn struct {
	nc *nats.Conn
	js jetstream.JetStream
}

// StartOps builds service's metrics and serves them. An address that
// cannot be bound (another replica on the same machine holds it) is
// logged, not fatal: the worker's job matters more than its figures; give
// each replica its own $TAJO_METRICS_LISTEN.
func StartOps(cfg *config.Config, service string, log *slog.Logger) (*Ops, error) {
	o := &Ops{Metrics: telemetry.NewMetrics(service)}
	addr := cfg.MetricsListen(service)
	if addr == "" {
		return o, nil
	}
	srv, err := telemetry.Serve(addr, o.Metrics, o.ready, log)
	switch {
	case err == nil:
		o.srv = srv
	case errors.Is(err, telemetry.ErrListen):
		log.Warn("metrics endpoint not served", "addr", addr, "err", err)
	default:
		return nil, err
	}
	return o, nil
}

// Addr is the address served, "" when none.
func (o *Ops) Addr() string {
	if o.srv == nil {
		return ""
	}
	return o.srv.Addr()
}

func (o *Ops) ready(ctx context.Context) error {
	c := o.bus.Load()
	if c == nil {
		return errors.New("not connected to NATS yet")
	}
	return telemetry.BusReady(c.nc, c.js, proto.StreamRaw, proto.StreamOps, proto.StreamDLQ)(ctx)
}

// Attach makes readiness follow the connection (provisioned) and reports
// the lag of consumers and the DLQ's depth from it.
func (o *Ops) Attach(nc *nats.Conn, js jetstream.JetStream, consumers ...telemetry.Consumer) {
	o.Metrics.WatchBus(js, consumers...)
	o.bus.Store(&conn{nc: nc, js: js})
}

// Pipeline is what a worker's pipeline.Config.Instruments should be.
func (o *Ops) Pipeline(t *telemetry.Tracing) pipeline.Instruments {
	return pipeline.Instruments{Tracer: Tracer(t), Meter: o.Metrics}
}

// EventsPipeline is what an events worker's Instruments should be: traced
// like the users workers, its figures under "<stage>.events".
func (o *Ops) EventsPipeline(t *telemetry.Tracing, stage string) pipeline.Instruments {
	return pipeline.Instruments{Tracer: Tracer(t), Meter: o.Metrics.Worker(EventsStage(stage))}
}

// EventsStage is the name an events worker's figures are reported under.
func EventsStage(stage string) string { return stage + ".events" }

// Calls counts every vendor call, then hands it to next (when set): the
// observer of a braze.Config or brevo.Config.
func (o *Ops) Calls(next func(restcall.Call)) func(restcall.Call) {
	return func(c restcall.Call) {
		o.Metrics.VendorCall(c.Vendor, c.Method, c.Path, c.Status, c.Duration)
		if next != nil {
			next(c)
		}
	}
}

// Close stops serving.
func (o *Ops) Close() {
	if o.srv != nil {
		_ = o.srv.Close()
	}
}

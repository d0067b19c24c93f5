package bootstrap

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/tajo-sync/tajo/pkg/telemetry"
)

// Tracing starts the process's tracing from the OTEL_* environment (see
// telemetry.NewTracing): off, at no cost, when no OTLP endpoint is set.
// The returned stop flushes the spans still buffered; call it after the
// service has stopped.
func Tracing(ctx context.Context, service, instance string, log *slog.Logger) (*telemetry.Tracing, func(), error) {
	tr, err := telemetry.NewTracing(ctx, service, instance)
	if err != nil {
		return nil, nil, err
	}
	if tr.On() {
		log.Info("tracing on: spans exported over OTLP/HTTP as the OTEL_* environment says")
	}
	return tr, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tr.Shutdown(sctx); err != nil {
			log.Warn("spans lost at shutdown", "err", err)
		}
	}, nil
}

// Tracer is t's tracer when tracing is on, else nil: the pipeline and the
// vendor clients skip all tracing work on a nil tracer.
func Tracer(t *telemetry.Tracing) trace.Tracer {
	if t == nil || !t.On() {
		return nil
	}
	return t.Tracer()
}

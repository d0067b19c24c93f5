package telemetry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// ScopeName is the instrumentation scope of every tracer tajo creates.
const ScopeName = "github.com/tajo-sync/tajo"

// Tracing is a process's tracer provider. The zero value is not usable;
// Disabled returns one that records nothing.
type Tracing struct {
	provider trace.TracerProvider
	sdk      *sdktrace.TracerProvider // nil when disabled
}

// Enabled reports whether the environment asks for traces: an OTLP endpoint
// is set (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT),
// OTEL_SDK_DISABLED is not "true" and OTEL_TRACES_EXPORTER is not "none".
func Enabled() bool {
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	if e := os.Getenv("OTEL_TRACES_EXPORTER"); e != "" && !strings.EqualFold(e, "otlp") {
		return false
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Disabled is a Tracing whose spans are never recorded.
func Disabled() *Tracing { return &Tracing{provider: noop.NewTracerProvider()} }

// NewTracing returns the tracing of service (its service.name unless
// OTEL_SERVICE_NAME says otherwise; instance becomes service.instance.id).
// When Enabled is false it returns Disabled. Otherwise spans are batched and
// exported over OTLP/HTTP (protobuf) to the endpoint the OTEL_EXPORTER_OTLP_*
// variables name; OTEL_TRACES_SAMPLER and OTEL_BSP_* are honoured by the
// SDK. The gRPC protocol is not built in, to keep the binaries lean: an
// OTEL_EXPORTER_OTLP_PROTOCOL of grpc is refused.
func NewTracing(ctx context.Context, service, instance string) (*Tracing, error) {
	if !Enabled() {
		return Disabled(), nil
	}
	for _, v := range []string{"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"} {
		if p := os.Getenv(v); p != "" && p != "http/protobuf" {
			return nil, fmt.Errorf("tracing: %s=%q: only http/protobuf is supported (point it at the collector's OTLP/HTTP port, 4318)", v, p)
		}
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: creating the OTLP exporter: %w", err)
	}
	attrs := []resource.Option{resource.WithAttributes(attribute.String("service.name", service))}
	if instance != "" {
		attrs = append(attrs, resource.WithAttributes(attribute.String("service.instance.id", instance)))
	}
	// FromEnv last: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.
	attrs = append(attrs, resource.WithFromEnv())
	res, err := resource.New(ctx, attrs...)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("tracing: describing the resource: %w", err)
	}
	sdk := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, batchDefaults()...), sdktrace.WithResource(res))
	return &Tracing{provider: sdk, sdk: sdk}, nil
}

// Provider is the tracer provider to inject.
func (t *Tracing) Provider() trace.TracerProvider { return t.provider }

// Tracer is the provider's tracer for tajo's spans.
func (t *Tracing) Tracer() trace.Tracer { return t.provider.Tracer(ScopeName) }

// On reports whether spans are recorded and exported.
func (t *Tracing) On() bool { return t.sdk != nil }

// Shutdown exports the spans still buffered and stops the exporter; call it
// last, after the workers have stopped. A disabled Tracing does nothing.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t.sdk == nil {
		return nil
	}
	if err := t.sdk.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: flushing spans at shutdown: %w", err)
	}
	return nil
}

// batchDefaults are the span batching tajo uses where OTEL_BSP_* leaves it
// unset: a bulk sync makes spans by the thousand a second, and the SDK's
// defaults (a queue of 2,048, exported 512 at a time every 5 s) drop about
// a third of them, so that traces come out broken. A deeper queue, larger
// batches sent twice a second keep every span (the queue holds pointers to
// finished spans: 65,536 of them are a few tens of MB at most, and only
// while the collector falls behind).
func batchDefaults() []sdktrace.BatchSpanProcessorOption {
	var opts []sdktrace.BatchSpanProcessorOption
	if os.Getenv("OTEL_BSP_MAX_QUEUE_SIZE") == "" {
		opts = append(opts, sdktrace.WithMaxQueueSize(65536))
	}
	if os.Getenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE") == "" {
		opts = append(opts, sdktrace.WithMaxExportBatchSize(2048))
	}
	if os.Getenv("OTEL_BSP_SCHEDULE_DELAY") == "" {
		opts = append(opts, sdktrace.WithBatchTimeout(500*time.Millisecond))
	}
	return opts
}

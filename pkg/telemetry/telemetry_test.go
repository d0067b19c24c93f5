package telemetry

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"testing"

	"github.com/nats-io/nats.go"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

func TestHeaderCarriesTheTraceContext(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	ctx, span := tp.Tracer("test").Start(context.Background(), "publish")
	defer span.End()
	h := nats.Header{}
	Inject(ctx, h)
	if h.Get("traceparent") == "" {
		t.Fatal("no traceparent written")
	}
	got := trace.SpanContextFromContext(Extract(context.Background(), h))
	if !got.IsRemote() || got.TraceID() != span.SpanContext().TraceID() || got.SpanID() != span.SpanContext().SpanID() {
		t.Fatalf("extracted %v, want the publisher's span %v", got, span.SpanContext())
	}
	Inject(context.Background(), nil) // no headers: nothing to do, no panic
	if sc := trace.SpanContextFromContext(Extract(context.Background(), nats.Header{})); sc.IsValid() {
		t.Fatalf("empty headers gave %v", sc)
	}
}

func TestTracingOffWithoutAnEndpoint(t *testing.T) {
	for name, tc := range map[string]struct {
		env  map[string]string
		want bool
	}{
		"unset":       {map[string]string{}, false},
		"endpoint":    {map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, true},
		"traces only": {map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, true},
		"sdk disabled": {map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
			"OTEL_SDK_DISABLED": "true"}, false},
		"exporter none": {map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
			"OTEL_TRACES_EXPORTER": "none"}, false},
	} {
		t.Run(name, func(t *testing.T) {
			for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER"} {
				t.Setenv(k, tc.env[k])
			}
			tr, err := NewTracing(context.Background(), "test", "")
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Shutdown(context.Background())
			if tr.On() != tc.want {
				t.Fatalf("On() = %v, want %v", tr.On(), tc.want)
			}
		})
	}
	t.Run("grpc refused", func(t *testing.T) {
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
		t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
		if _, err := NewTracing(context.Background(), "test", ""); err == nil {
			t.Fatal("grpc accepted; only http/protobuf is built in")
		}
	})
}

func TestServeGuardsMetrics(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	ready := func(context.Context) error { return errors.New("not yet") }
	t.Setenv(EnvMetricsToken, "")
	if _, err := Serve("0.0.0.0:0", NewMetrics("test"), ready, log); err == nil {
		t.Fatal("a non-loopback address without a token was accepted")
	}
	t.Setenv(EnvMetricsToken, "s3cret")
	s, err := Serve("127.0.0.1:0", NewMetrics("test"), ready, log)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	get := func(path, auth string) int {
		req, _ := http.NewRequest(http.MethodGet, "http://"+s.Addr()+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		path, auth string
		want       int
	}{
		{"/metrics", "", http.StatusUnauthorized},
		{"/metrics", "Bearer wrong", http.StatusUnauthorized},
		{"/metrics", "Bearer s3cret", http.StatusOK},
		{"/healthz", "", http.StatusOK},
		{"/readyz", "", http.StatusServiceUnavailable},
		{"/debug/pprof/heap", "", http.StatusUnauthorized},
		{"/debug/pprof/heap", "Bearer s3cret", http.StatusOK},
		{"/debug/pprof/goroutine", "Bearer wrong", http.StatusUnauthorized},
		{"/debug/pprof/goroutine", "Bearer s3cret", http.StatusOK},
	} {
		if got := get(c.path, c.auth); got != c.want {
			t.Errorf("GET %s (%q): %d, want %d", c.path, c.auth, got, c.want)
		}
	}
}

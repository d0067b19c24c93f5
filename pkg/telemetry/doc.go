// Package telemetry gives a process its observability, built once in main
// and passed to what needs it, never installed globally:
//
//   - Tracing: an OpenTelemetry tracer provider exporting over OTLP/HTTP,
//     configured by the standard OTEL_* environment variables. With none of
//     them set (no OTLP endpoint) it is a no-op provider: no goroutine, no
//     allocation per span.
//   - Header: the one carrier of W3C trace context in NATS message headers,
//     used by publishers (Inject) and consumers (Extract) alike.
//   - Metrics: a Prometheus registry of the pipeline's, the vendor clients'
//     and the bus's figures, and Server, which serves /metrics, /healthz and
//     /readyz.
//
// Everything here is safe for concurrent use.
package telemetry

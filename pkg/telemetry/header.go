package telemetry

import (
	"context"
	"net/http"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/propagation"
)

// propagator is W3C Trace Context (traceparent, tracestate): the only
// format carried on the bus. It is a value here, not the global propagator.
var propagator = propagation.TraceContext{}

// NATSTraceOff is the header a message carrying a traceparent is published
// with: nats-server's own message tracing marker (ADR-41's Nats-Trace-Dest)
// set to the value the server itself writes to turn it off. Without it the
// server takes every sampled traceparent as a request for its tracing and
// copies all the message's headers into a map to look up the account's
// trace destination: about fifteen allocations per message published,
// a tenth of what tracing cost a bulk sync. Our traces are OpenTelemetry's;
// the server's tracing of our messages is not offered.
var NATSTraceOff = [2]string{"Nats-Trace-Dest", "trace disabled"}

// Header adapts a NATS message's headers to a propagation carrier: the one
// carrier type publishers and consumers share.
type Header nats.Header

var _ propagation.TextMapCarrier = Header(nil)

// Get returns the first value of key.
func (h Header) Get(key string) string { return nats.Header(h).Get(key) }

// Set replaces key's values with value.
func (h Header) Set(key, value string) { nats.Header(h).Set(key, value) }

// Keys lists the header names.
func (h Header) Keys() []string {
	out := make([]string, 0, len(h))
	for k := range h {
		out = append(out, k)
	}
	return out
}

// Inject writes the span context of ctx into h (traceparent, tracestate);
// it writes nothing when ctx holds no valid span context.
func Inject(ctx context.Context, h nats.Header) {
	if h == nil {
		return
	}
	propagator.Inject(ctx, Header(h))
}

// Extract returns ctx with the remote span context h carries, if any.
func Extract(ctx context.Context, h nats.Header) context.Context {
	if h == nil {
		return ctx
	}
	return propagator.Extract(ctx, Header(h))
}

// InjectInto writes the span context of ctx into any carrier: one that
// needs no header map (pipeline's compacted messages) saves making one.
func InjectInto(ctx context.Context, c propagation.TextMapCarrier) { propagator.Inject(ctx, c) }

// ExtractFrom returns ctx with the remote span context c carries, if any.
func ExtractFrom(ctx context.Context, c propagation.TextMapCarrier) context.Context {
	return propagator.Extract(ctx, c)
}

// ExtractHTTP returns ctx with the remote span context an HTTP request's
// headers carry (a caller's W3C traceparent), if any.
func ExtractHTTP(ctx context.Context, h http.Header) context.Context {
	if h == nil {
		return ctx
	}
	return propagator.Extract(ctx, propagation.HeaderCarrier(h))
}

package restcall

import (
	"context"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// StartSpan starts the client span of one vendor API call, named
// "<vendor> <method> <route>" with route the template (/contacts/{identifier}:
// never an identifier, e-mail or key), and returns the context to send the
// request with and the func that ends the span with the call's status (0
// when no response arrived) and error. attempt is 1-based. With a nil
// tracer it returns ctx and a no-op: an untraced call costs nothing.
//
// Waits and refusals below the client (the rate limiter, the circuit
// breaker in pkg/resilience) add events to this span through the request's
// context.
func StartSpan(ctx context.Context, tr trace.Tracer, vendor, method, route string, attempt int) (context.Context, func(status int, err error)) {
	if tr == nil {
		return ctx, func(int, error) {}
	}
	ctx, span := tr.Start(ctx, vendor+" "+method+" "+route,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("tajo.vendor", vendor),
			attribute.String("http.request.method", method),
			attribute.String("http.route", route),
			attribute.Int("tajo.attempt", attempt),
		))
	return ctx, func(status int, err error) {
		if status != 0 {
			span.SetAttributes(attribute.Int("http.response.status_code", status))
		}
		switch {
		case err != nil:
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		case status >= 400:
			span.SetStatus(codes.Error, strconv.Itoa(status)+" "+http.StatusText(status))
		}
		span.End()
	}
}

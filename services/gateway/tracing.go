package gateway

import (
	"context"
	"net/http"
	"strings"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/tajo-sync/tajo/pkg/telemetry"
	"github.com/tajo-sync/tajo/proto"
)

// traceRequest starts r's server span, the child of the caller's
// traceparent when it sends one, and returns r with it in its context.
// Untraced (no Tracer), r comes back as it is and the span is nil.
func (s *Server) traceRequest(r *http.Request) (*http.Request, trace.Span) {
	if s.cfg.Tracer == nil {
		return r, nil
	}
	route := r.Pattern
	if route == "" {
		route = r.Method + " (unmatched)"
	}
	_, path, _ := strings.Cut(route, " ")
	ctx := telemetry.ExtractHTTP(r.Context(), r.Header)
	ctx, span := s.cfg.Tracer.Start(ctx, "gateway "+route,
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(
			attribute.String("http.request.method", r.Method),
			attribute.String("http.route", path), // the template, never the path: it may carry an id
			attribute.Int64("http.request.body.size", r.ContentLength),
		))
	return r.WithContext(ctx), span
}

// endRequest ends a request's span with its answer's status.
func endRequest(span trace.Span, status int) {
	if span == nil {
		return
	}
	if status == 0 {
		status = http.StatusOK
	}
	span.SetAttributes(attribute.Int("http.response.status_code", status))
	if status >= 500 {
		span.SetStatus(codes.Error, http.StatusText(status))
	}
	span.End()
}

// traceEvent starts the producer span of one event stored, the child of
// the request's span, and writes its context into hdr: the transformer's
// and the loader's spans of the event continue its trace.
func (s *Server) traceEvent(ctx context.Context, ev *proto.RawEvent, hdr nats.Header) trace.Span {
	if s.cfg.Tracer == nil {
		return nil
	}
	ectx, span := s.cfg.Tracer.Start(ctx, "gateway publish "+proto.SubjectRawBrazeEvents,
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes( // the subject is in the name
			attribute.String("tajo.event_source", ev.Source),
			attribute.String("tajo.event_id", ev.ID),
		))
	telemetry.Inject(ectx, hdr)
	return span
}

// traceEvents starts the producer span of one message of events stored on
// subject (the event's id when it holds one), the child of the request's span, and writes its context into
// hdr: the transformer's and the loader's spans of the message continue
// its trace.
func (s *Server) traceEvents(ctx context.Context, subject string, evs []proto.RawEvent, hdr nats.Header) trace.Span {
	if s.cfg.Tracer == nil || len(evs) == 0 {
		return nil
	}
	attrs := []attribute.KeyValue{ // the subject is in the name
		attribute.Int("messaging.batch.message_count", len(evs)),
		attribute.String("tajo.event_source", evs[0].Source),
	}
	if len(evs) == 1 {
		attrs = append(attrs, attribute.String("tajo.event_id", evs[0].ID))
	}
	ectx, span := s.cfg.Tracer.Start(ctx, "gateway publish "+subject,
		trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...))
	telemetry.Inject(ectx, hdr)
	return span
}

// endEvents ends the events' spans, with err when they were not stored.
func endEvents(spans []trace.Span, err error) {
	for _, sp := range spans {
		if sp == nil {
			continue
		}
		if err != nil {
			sp.RecordError(err)
			sp.SetStatus(codes.Error, "not stored")
		}
		sp.End()
	}
}

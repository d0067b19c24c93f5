package extractor

import (
	"context"
	"strconv"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/tajo-sync/tajo/pkg/telemetry"
	"github.com/tajo-sync/tajo/proto"
)

// traceRun starts the span of a run's export (request, download, read):
// the Braze calls are its children. It returns ctx and a func ending the
// span with the run's error.
func (e *Extractor) traceRun(ctx context.Context, run *proto.SyncRun) (context.Context, func(error)) {
	if e.cfg.Tracer == nil {
		return ctx, func(error) {}
	}
	ctx, span := e.cfg.Tracer.Start(ctx, "extractor export users",
		trace.WithNewRoot(),
		trace.WithAttributes(attribute.String("tajo.run_id", run.ID), attribute.String("tajo.run_type", run.Type)))
	return ctx, func(err error) {
		span.SetAttributes(attribute.Int64("tajo.exported", run.Exported), attribute.Int64("tajo.malformed", run.Malformed))
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}

// traceLine starts the span of one exported line, the root of the trace
// that follows the user through the transformer and the loader to Brevo
// (its context goes in hdr), linked to the run's span in ctx. A trace per
// user, not per run: a run of a million lines would be one unreadable
// trace.
func (e *Extractor) traceLine(ctx context.Context, run *proto.SyncRun, no int64, brazeID string, hdr nats.Header) trace.Span {
	if e.cfg.Tracer == nil {
		return nil
	}
	lctx, span := e.cfg.Tracer.Start(context.Background(), "extractor publish "+proto.SubjectRawBrazeUsers,
		producerKind,
		trace.WithLinks(trace.Link{SpanContext: trace.SpanContextFromContext(ctx)}))
	if span.IsRecording() {
		// Only what the name (stage and subject) does not say: a span per
		// line is most of what tracing costs in a bulk sync.
		span.SetAttributes(
			attribute.String("tajo.run_id", run.ID),
			attribute.String("tajo.line", strconv.FormatInt(no, 10)),
			attribute.String("tajo.braze_id", brazeID))
	}
	telemetry.Inject(lctx, hdr)
	return span
}

// producerKind is made once: an option made per line is an allocation.
var producerKind = trace.WithSpanKind(trace.SpanKindProducer)

// endLine ends a line's span, if traced.
func endLine(span trace.Span, err error) {
	if span == nil {
		return
	}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

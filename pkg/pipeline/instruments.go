package pipeline

import (
	"context"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/tajo-sync/tajo/pkg/telemetry"
	"github.com/tajo-sync/tajo/proto"
)

// Instruments trace and measure a Worker from outside its handler. The
// zero value does neither, at no cost.
type Instruments struct {
	// Tracer, when set, starts a consumer span per message handled, a child
	// of the trace context its headers carry (telemetry.Extract), and a
	// span per batch: the child of its first message's span, linked to all
	// of them, and the context the handler is called with. Before the
	// handler runs, each Msg.Header's traceparent is replaced by its own
	// span's, so a handler that copies it onto what it publishes continues
	// the trace.
	Tracer trace.Tracer
	// Meter, when set, is told of every batch dispatched and every
	// settlement.
	Meter Meter
}

// Meter receives a worker's measurements (pkg/telemetry.Metrics). Plain
// strings, so that an implementation need not import this package.
type Meter interface {
	// Batch: a batch of size messages (the sum of their weights, see
	// Msg.SetWeight) was dispatched because of cause (a FlushCause).
	Batch(stage string, size int, cause string)
	// Settled: a message was settled, reported once per item of its
	// weight: outcome is an OutcomeKind's String
	// (acked, retried, dead_lettered), reason the dead letter's.
	Settled(stage, outcome, reason string)
}

// FlushCause says what dispatched a batch.
type FlushCause string

const (
	FlushCount FlushCause = "count" // BatchSize reached
	FlushBytes FlushCause = "bytes" // BatchBytes reached
	FlushWait  FlushCause = "wait"  // BatchWait passed
	FlushDrain FlushCause = "drain" // the session ended (paused, iterator closed)
)

// traceBatch starts the spans of batch and returns the handler's context
// and the func that ends the batch span. The message spans end when the
// messages are settled (observe).
func (w *Worker) traceBatch(ctx context.Context, batch []*Msg) (context.Context, func()) {
	tr := w.cfg.Instruments.Tracer
	if tr == nil || len(batch) == 0 {
		return ctx, func() {}
	}
	links := make([]trace.Link, 0, len(batch))
	var first context.Context
	for _, m := range batch {
		carrier, keep := m.carrier()
		parent := telemetry.Extract(context.Background(), carrier)
		mctx, span := tr.Start(parent, w.cfg.Stage+" "+m.Subject,
			trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithAttributes(
				attribute.String("messaging.system", "nats"),
				attribute.String("messaging.destination.name", m.Subject),
				attribute.String("messaging.consumer.group.name", w.cfg.Durable),
				attribute.Int64("tajo.stream_seq", int64(m.StreamSeq)),
				attribute.Int64("tajo.delivered", int64(m.NumDelivered)),
				attribute.String("tajo.run_id", m.header(proto.HeaderRunID)),
				attribute.String("tajo.line", m.header(proto.HeaderLine)),
			))
		m.span = span
		telemetry.Inject(mctx, carrier)
		keep()
		links = append(links, trace.Link{SpanContext: span.SpanContext()})
		if first == nil {
			first = mctx
		}
	}
	bctx, span := tr.Start(trace.ContextWithSpan(ctx, trace.SpanFromContext(first)), w.cfg.Stage+" batch",
		trace.WithLinks(links...),
		trace.WithAttributes(attribute.Int("tajo.batch_size", len(batch)), attribute.String("tajo.stage", w.cfg.Stage)))
	return bctx, func() { span.End() }
}

// endSpan ends m's span, if traced, with its outcome.
func endSpan(m *Msg, o Outcome) {
	if m.span == nil {
		return
	}
	m.span.SetAttributes(attribute.String("tajo.outcome", o.Kind.String()))
	switch o.Kind {
	case DeadLettered:
		m.span.SetAttributes(attribute.String("tajo.dead_letter_reason", o.Reason))
		m.span.SetStatus(codes.Error, "dead-lettered: "+o.Reason)
	case Retried:
		if o.Err != nil {
			m.span.RecordError(o.Err)
		}
		m.span.SetStatus(codes.Error, "retried after delivery "+strconv.FormatUint(m.NumDelivered, 10))
	}
	m.span.End()
	m.span = nil
}

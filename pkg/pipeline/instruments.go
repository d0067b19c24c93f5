package pipeline

import (
	"context"
	"strconv"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/tajo-sync/tajo/pkg/telemetry"
	"github.com/tajo-sync/tajo/proto"
)

// Instruments trace and measure a Worker from outside its handler. The
// zero value does neither, at no cost.
type Instruments struct {
	// Tracer, when set, starts a consumer span per message handled, a child
	// of the trace context its headers carry (telemetry.Extract), and a
	// span per batch: the child of its first message's span, linked to
	// them (the first 128: batchLinks), and the context the handler is
	// called with. Before the handler runs, each Msg.Header's traceparent
	// is replaced by its own span's, so a handler that copies it onto what
	// it publishes continues the trace.
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
	FlushCount    FlushCause = "count"     // BatchSize reached
	FlushBytes    FlushCause = "bytes"     // BatchBytes reached
	FlushWait     FlushCause = "wait"      // BatchWait passed
	FlushCaughtUp FlushCause = "caught_up" // Config.CaughtUp said nothing more is coming
	FlushDrain    FlushCause = "drain"     // the session ended (paused, iterator closed)
)

// traceBatch starts the spans of batch and returns the handler's context
// and the func that ends the batch span. The message spans end when the
// messages are settled (observe).
//
// A span per message is the costliest thing tracing does in a bulk sync, so
// each carries only what the trace does not already say: the stream
// sequence (to find the message), the run and line (the user's) when it
// has them, the delivery count when it was redelivered, and at the end its outcome.
// The stage and subject are in its name; the rest (messaging system,
// consumer) is the same for every span of the worker. Attributes are built
// only for a span the sampler records.
func (w *Worker) traceBatch(ctx context.Context, batch []*Msg) (context.Context, func()) {
	tr := w.cfg.Instruments.Tracer
	if tr == nil || len(batch) == 0 {
		return ctx, func() {}
	}
	links := make([]trace.Link, 0, min(len(batch), batchLinks))
	var first trace.Span
	for _, m := range batch {
		c := msgCarrier{m}
		parent := telemetry.ExtractFrom(context.Background(), c)
		mctx, span := tr.Start(parent, w.spanName(m.Subject), consumerKind)
		if span.IsRecording() {
			a := make([]attribute.KeyValue, 0, 4)
			a = append(a, attribute.Int64("tajo.stream_seq", int64(m.StreamSeq)))
			if run := m.header(proto.HeaderRunID); run != "" {
				a = append(a, attribute.String("tajo.run_id", run), attribute.String("tajo.line", m.header(proto.HeaderLine)))
			}
			if m.NumDelivered > 1 {
				a = append(a, attribute.Int64("tajo.delivered", int64(m.NumDelivered)))
			}
			span.SetAttributes(a...)
		}
		m.span = span
		telemetry.InjectInto(mctx, c)
		if len(links) < batchLinks {
			links = append(links, trace.Link{SpanContext: span.SpanContext()})
		}
		if first == nil {
			first = span
		}
	}
	bctx, span := tr.Start(trace.ContextWithSpan(ctx, first), w.cfg.Stage+" batch", trace.WithLinks(links...))
	if span.IsRecording() {
		span.SetAttributes(attribute.Int("tajo.batch_size", len(batch)))
	}
	return bctx, func() { span.End() }
}

// batchLinks is how many of its messages a batch span links: the SDK
// keeps 128 links a span unless told otherwise (OTEL_SPAN_LINK_COUNT_LIMIT)
// and drops the rest, and a loader batch has about 27,000 messages. The
// batch span's tajo.batch_size says how many it had; each message's own
// span names its stream sequence.
const batchLinks = 128

// consumerKind is made once: an option made per span is an allocation.
var consumerKind = trace.WithSpanKind(trace.SpanKindConsumer)

// spanName is the name of a message span: the stage and the subject. The
// worker's own subject's is made once.
func (w *Worker) spanName(subject string) string {
	if subject == w.cfg.Subject {
		return w.msgSpanName
	}
	return w.cfg.Stage + " " + subject
}

// msgCarrier carries a message's trace context: its headers, or once
// compacted the traceparent it kept (no header map is made for it).
type msgCarrier struct{ m *Msg }

var _ propagation.TextMapCarrier = msgCarrier{}

func (c msgCarrier) Get(key string) string { return c.m.header(key) }

func (c msgCarrier) Set(key, value string) {
	m := c.m
	if m.c == nil || m.Header != nil {
		if m.Header == nil {
			m.Header = nats.Header{}
		}
		m.Header.Set(key, value)
		return
	}
	if key == traceparent {
		m.c.traceparent = value
	}
}

func (c msgCarrier) Keys() []string {
	if c.m.c == nil || c.m.Header != nil {
		return telemetry.Header(c.m.Header).Keys()
	}
	return []string{traceparent}
}

// endSpan ends m's span, if traced, with its outcome.
func endSpan(m *Msg, o Outcome) {
	if m.span == nil {
		return
	}
	if m.span.IsRecording() {
		switch o.Kind {
		case DeadLettered:
			m.span.SetAttributes(attribute.String("tajo.outcome", o.Kind.String()), attribute.String("tajo.dead_letter_reason", o.Reason))
			m.span.SetStatus(codes.Error, "dead-lettered: "+o.Reason)
		case Retried:
			m.span.SetAttributes(attribute.String("tajo.outcome", o.Kind.String()))
			if o.Err != nil {
				m.span.RecordError(o.Err)
			}
			m.span.SetStatus(codes.Error, "retried after delivery "+strconv.FormatUint(m.NumDelivered, 10))
		default:
			m.span.SetAttributes(attribute.String("tajo.outcome", o.Kind.String()))
		}
	}
	m.span.End()
	m.span = nil
}

package pipeline_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/telemetry"
	"github.com/tajo-sync/tajo/proto"
)

type meterCounts struct {
	mu      sync.Mutex
	batched int
	causes  map[string]int
	settled map[string]int
}

func (m *meterCounts) Batch(_ string, size int, cause string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.batched += size
	m.causes[cause]++
}

func (m *meterCounts) Settled(_, outcome, _ string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.settled[outcome]++
}

// A message's span continues the trace its headers carry, the handler sees
// its own span's traceparent, and the batch span is a child of the first
// message's span linked to every message's.
func TestWorkerTracesAndMeters(t *testing.T) {
	js := setup(t)
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tr := tp.Tracer("test")

	// Three messages, each the child of a producer span of its own trace.
	ctx := context.Background()
	p := pipeline.NewPublisher(js, 0)
	var producers []trace.SpanContext
	for i := range 3 {
		pctx, span := tr.Start(ctx, "producer")
		hdr := nats.Header{proto.HeaderRunID: []string{"run-1"}}
		telemetry.Inject(pctx, hdr)
		span.End()
		producers = append(producers, span.SpanContext())
		if err := p.Publish(ctx, testSubject, string(rune('a'+i)), hdr, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	meter := &meterCounts{causes: map[string]int{}, settled: map[string]int{}}
	cfg := baseConfig()
	cfg.BatchSize = 3
	cfg.BatchWait = 2 * time.Second
	cfg.Instruments = pipeline.Instruments{Tracer: tr, Meter: meter}
	var mu sync.Mutex
	seen := map[string]trace.SpanContext{} // traceparent the handler saw, by producer trace
	var handlerSpan trace.SpanContext
	w := newWorker(t, js, cfg, func(hctx context.Context, b []*pipeline.Msg) []error {
		mu.Lock()
		defer mu.Unlock()
		handlerSpan = trace.SpanContextFromContext(hctx)
		for _, m := range b {
			sc := trace.SpanContextFromContext(telemetry.Extract(context.Background(), m.Header))
			seen[sc.TraceID().String()] = sc
		}
		return nil
	})
	start(t, w)
	eventually(t, 10*time.Second, "3 messages acked", func() bool { return drained(t, js, cfg) })
	eventually(t, 5*time.Second, "4 spans ended", func() bool { return len(exp.GetSpans()) >= 3+4 })

	spans := exp.GetSpans()
	byID := map[trace.SpanID]tracetest.SpanStub{}
	for _, s := range spans {
		byID[s.SpanContext.SpanID()] = s
	}
	var batch tracetest.SpanStub
	for _, s := range spans {
		if s.Name == "test batch" {
			batch = s
		}
	}
	if batch.Name == "" || len(batch.Links) != 3 {
		t.Fatalf("batch span %q with %d links; want one linked to 3 messages", batch.Name, len(batch.Links))
	}
	if handlerSpan.SpanID() != batch.SpanContext.SpanID() {
		t.Fatalf("the handler's context holds span %s, not the batch span %s", handlerSpan.SpanID(), batch.SpanContext.SpanID())
	}
	for _, prod := range producers {
		sc, ok := seen[prod.TraceID().String()]
		if !ok {
			t.Fatalf("the handler saw no message in trace %s", prod.TraceID())
		}
		msg, ok := byID[sc.SpanID()]
		if !ok || msg.Name != "test "+testSubject || msg.Parent.SpanID() != prod.SpanID() {
			t.Fatalf("the handler's traceparent names span %s (%q, parent %s); want the message span, child of %s",
				sc.SpanID(), msg.Name, msg.Parent.SpanID(), prod.SpanID())
		}
		if msg.SpanKind != trace.SpanKindConsumer {
			t.Fatalf("message span kind %v", msg.SpanKind)
		}
	}
	if first := byID[batch.Parent.SpanID()]; first.Name != "test "+testSubject {
		t.Fatalf("the batch span's parent is %q; want a message span", first.Name)
	}
	meter.mu.Lock()
	defer meter.mu.Unlock()
	if meter.batched != 3 || meter.causes[string(pipeline.FlushCount)] != 1 || meter.settled[pipeline.Acked.String()] != 3 {
		t.Fatalf("meter: batched %d, causes %v, settled %v; want 3 in one count-flushed batch, 3 acked",
			meter.batched, meter.causes, meter.settled)
	}
}

// A message's weight (Msg.SetWeight) is what the Meter counts: a batch's
// size is its messages' weights, a settlement is reported once per item,
// and the handler can take items it reported itself off.
func TestMeterCountsWeights(t *testing.T) {
	js := setup(t)
	ctx := context.Background()
	p := pipeline.NewPublisher(js, 0)
	for i := range 2 {
		if err := p.Publish(ctx, testSubject, string(rune('a'+i)), nil, []byte{5}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	meter := &meterCounts{causes: map[string]int{}, settled: map[string]int{}}
	cfg := baseConfig()
	cfg.BatchSize = 2
	cfg.BatchWait = 2 * time.Second
	cfg.Instruments = pipeline.Instruments{Meter: meter}
	cfg.Prepare = func(m *pipeline.Msg) int {
		m.SetWeight(int(m.Data[0])) // five items each
		return len(m.Data)
	}
	w := newWorker(t, js, cfg, func(_ context.Context, b []*pipeline.Msg) []error {
		b[0].SetWeight(b[0].Weight() - 2) // two reported by the handler
		return nil
	})
	start(t, w)
	eventually(t, 10*time.Second, "2 messages acked", func() bool { return drained(t, js, cfg) })
	eventually(t, 5*time.Second, "8 items settled", func() bool {
		meter.mu.Lock()
		defer meter.mu.Unlock()
		return meter.settled[pipeline.Acked.String()] >= 8
	})
	meter.mu.Lock()
	defer meter.mu.Unlock()
	if meter.batched != 10 || meter.settled[pipeline.Acked.String()] != 8 {
		t.Fatalf("meter: batched %d, settled %v; want 10 items batched, 8 acked", meter.batched, meter.settled)
	}
}

// A batch span links its first 128 messages, not all of a loader batch's
// thousands (the SDK keeps 128 links unless told otherwise, and each link
// made costs), and says how many the batch had.
func TestBatchSpanLinksItsFirstMessages(t *testing.T) {
	js := setup(t)
	exp := tracetest.NewInMemoryExporter()
	limits := sdktrace.NewSpanLimits()
	limits.LinkCountLimit = 1000 // the SDK would keep them all
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithRawSpanLimits(limits))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tr := tp.Tracer("test")
	ctx := context.Background()
	p := pipeline.NewPublisher(js, 0)
	const n = 200
	for i := range n {
		if err := p.Publish(ctx, testSubject, "m"+strconv.Itoa(i), nats.Header{}, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := baseConfig()
	cfg.BatchSize = n
	cfg.MaxAckPending = n
	cfg.BatchWait = 5 * time.Second
	cfg.Instruments = pipeline.Instruments{Tracer: tr}
	w := newWorker(t, js, cfg, func(context.Context, []*pipeline.Msg) []error { return nil })
	start(t, w)
	eventually(t, 20*time.Second, "the messages acked", func() bool { return drained(t, js, cfg) })
	var batches []tracetest.SpanStub
	eventually(t, 5*time.Second, "the batch span ended", func() bool {
		batches = batches[:0]
		for _, s := range exp.GetSpans() {
			if s.Name == "test batch" {
				batches = append(batches, s)
			}
		}
		return len(batches) > 0
	})
	total := 0
	for _, b := range batches {
		size := 0
		for _, a := range b.Attributes {
			if a.Key == "tajo.batch_size" {
				size = int(a.Value.AsInt64())
			}
		}
		total += size
		if want := min(size, 128); len(b.Links) != want {
			t.Errorf("a batch of %d messages: its span has %d links, want %d", size, len(b.Links), want)
		}
	}
	if total != n || len(batches) > 2 {
		t.Fatalf("%d messages in %d batch spans; want %d in one or two", total, len(batches), n)
	}
	if len(batches) == 1 && len(batches[0].Links) != 128 {
		t.Fatalf("one batch of %d: %d links, want 128", n, len(batches[0].Links))
	}
}

package bench

import (
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// countSpans walks the wire format to the spans: it counts as a full
// decode would, whatever else the export holds.
func TestCountSpans(t *testing.T) {
	attr := []*commonpb.KeyValue{{Key: "service.name", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "loader"}}}}
	spans := func(n int) []*tracepb.Span {
		out := make([]*tracepb.Span, n)
		for i := range out {
			out[i] = &tracepb.Span{Name: "loader ops.brevo.events", TraceId: make([]byte, 16), SpanId: make([]byte, 8), Attributes: attr}
		}
		return out
	}
	req := &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{
		{Resource: &resourcepb.Resource{Attributes: attr}, ScopeSpans: []*tracepb.ScopeSpans{
			{Scope: &commonpb.InstrumentationScope{Name: "tajo"}, Spans: spans(3)},
			{Spans: spans(4)},
		}},
		{ScopeSpans: []*tracepb.ScopeSpans{{Spans: spans(5)}}, SchemaUrl: "https://opentelemetry.io/schemas/1.0"},
	}}
	b, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := countSpans(b); err != nil || n != 12 {
		t.Fatalf("countSpans: %d, %v; want 12", n, err)
	}
	if n, err := countSpans(nil); err != nil || n != 0 {
		t.Fatalf("an empty export: %d, %v", n, err)
	}
	if _, err := countSpans(b[:len(b)-3]); err == nil {
		t.Fatal("a truncated export was counted")
	}
}

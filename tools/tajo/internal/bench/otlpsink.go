package bench

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// spanSink is a tiny OTLP/HTTP trace receiver on loopback: it walks each
// export to count its spans, and keeps nothing else; GET /counts answers
// the counts (SpanCounts). It runs in the sandbox child, so that the CPU
// time the tracing line measures is the connector's own (span creation,
// batching, encoding, the HTTP export), not a receiver's.
type spanSink struct {
	srv     *http.Server
	addr    string
	spans   atomic.Int64
	exports atomic.Int64
	bad     atomic.Int64 // exports that could not be decoded
}

func startSpanSink() (*spanSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &spanSink{addr: ln.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", s.export)
	mux.HandleFunc("GET /counts", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(SpanCounts{Spans: s.spans.Load(), Exports: s.exports.Load(), Bad: s.bad.Load()})
	})
	s.srv = &http.Server{Handler: mux}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Endpoint is the OTEL_EXPORTER_OTLP_ENDPOINT that exports here.
func (s *spanSink) Endpoint() string { return "http://" + s.addr }

func (s *spanSink) export(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = http.MaxBytesReader(w, r.Body, 64<<20)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(body)
		if err != nil {
			s.bad.Add(1)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		defer zr.Close()
		body = zr
	}
	b, err := io.ReadAll(body)
	var n int64
	if err == nil {
		n, err = countSpans(b)
	}
	if err != nil {
		s.bad.Add(1)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.spans.Add(n)
	s.exports.Add(1)
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (s *spanSink) Close() error { return s.srv.Close() }

// SpanCounts are what a span receiver was sent.
type SpanCounts struct {
	Spans   int64 `json:"spans"`
	Exports int64 `json:"exports"`
	Bad     int64 `json:"bad"` // exports that could not be decoded
}

// SpanCounts asks the sandbox's span receiver what it was sent.
func (e Endpoints) SpanCounts(ctx context.Context) (SpanCounts, error) {
	var c SpanCounts
	if e.OTLPEndpoint == "" {
		return c, fmt.Errorf("the sandbox serves no span receiver")
	}
	err := adminCall(ctx, http.MethodGet, e.OTLPEndpoint+"/counts", nil, &c)
	return c, err
}

// The field numbers of OTLP's trace messages the count walks through:
// ExportTraceServiceRequest.resource_spans, ResourceSpans.scope_spans,
// ScopeSpans.spans.
const (
	fieldResourceSpans = 1
	fieldScopeSpans    = 2
	fieldSpans         = 2
)

// countSpans counts the spans of an encoded ExportTraceServiceRequest by
// walking its wire format, decoding nothing else: a collector's work is
// not the connector's, and a full decode would be charged to the tracing
// cost measured in this process.
func countSpans(b []byte) (int64, error) {
	var n int64
	err := eachField(b, fieldResourceSpans, func(rs []byte) error {
		return eachField(rs, fieldScopeSpans, func(ss []byte) error {
			return eachField(ss, fieldSpans, func([]byte) error { n++; return nil })
		})
	})
	return n, err
}

// eachField calls fn with the bytes of every length-delimited field num of
// the message b, skipping the other fields.
func eachField(b []byte, num protowire.Number, fn func([]byte) error) error {
	for len(b) > 0 {
		f, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if f == num && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			if err := fn(v); err != nil {
				return err
			}
			b = b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(f, typ, b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
	}
	return nil
}

package transformer

import (
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/tajo-sync/tajo/proto"
)

func TestCarryHeaders(t *testing.T) {
	from := nats.Header{}
	from.Set(proto.HeaderLine, "42")
	from.Set(proto.HeaderRunID, "run-1")
	from.Set("traceparent", "00-abc-def-01")
	to := nats.Header{}
	to.Set(proto.HeaderSchema, "1")
	carryHeaders(to, from, proto.HeaderLine, "traceparent", proto.HeaderKey)
	want := map[string]string{proto.HeaderSchema: "1", proto.HeaderLine: "42", "traceparent": "00-abc-def-01"}
	if len(to) != len(want) {
		t.Fatalf("carried %v, want %v", to, want)
	}
	for k, v := range want {
		if got := to.Get(k); got != v {
			t.Errorf("%s = %q, want %q (all: %v)", k, got, v, to)
		}
	}
}

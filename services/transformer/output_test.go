package transformer

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/pipeline"
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

// settlePublished settles passed (with each message's flags) only what the
// stream stored; when a publish is not stored, every message of the flush
// gets the failure and none is settled.
func TestSettlePublished(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, js := natsxtest.Conn(t, natsxtest.Server(t))
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "OUT", Subjects: []string{"out.>"}}); err != nil {
		t.Fatal(err)
	}
	batch := []*pipeline.Msg{{}, {}, {}}
	errs := make([]error, len(batch))
	pub := pipeline.NewPublisher(js, len(batch))
	for range 2 {
		if err := pub.Publish(ctx, "out.x", "", nil, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	settlePublished(ctx, pub, batch, []int{0, 2}, errs, "things", func(i int) ledger.Flags {
		if i == 2 {
			return ledger.WithoutEmail
		}
		return 0
	})
	for i, want := range []struct {
		o ledger.Outcome
		f ledger.Flags
	}{{ledger.Passed, 0}, {}, {ledger.Passed, ledger.WithoutEmail}} {
		if o, f := batch[i].Outcome(); o != want.o || f != want.f || errs[i] != nil {
			t.Errorf("message %d: settled %v/%v, err %v; want %v/%v", i, o, f, errs[i], want.o, want.f)
		}
	}

	// A subject no stream holds: the flush fails, nothing is settled.
	batch = []*pipeline.Msg{{}, {}}
	errs = make([]error, len(batch))
	pub = pipeline.NewPublisher(js, len(batch))
	for _, subj := range []string{"out.y", "nowhere"} {
		if err := pub.Publish(ctx, subj, "", nil, []byte("y")); err != nil {
			t.Fatal(err)
		}
	}
	settlePublished(ctx, pub, batch, []int{0, 1}, errs, "things", nil)
	for i := range batch {
		if o, _ := batch[i].Outcome(); o != 0 || errs[i] == nil || !strings.HasPrefix(errs[i].Error(), "publishing things: ") {
			t.Errorf("message %d after a failed flush: settled %v, err %v", i, o, errs[i])
		}
	}
}

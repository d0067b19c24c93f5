package transformer_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/transformer"
)

// TestEventsBatchPerMessage maps batch messages into one OPS message each
// (not one per event), dead-letters each event it cannot map on its own,
// with its reason and as a single event a replay sends through again,
// and still reads a single-event message of before batches.
func TestEventsBatchPerMessage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, _, js := natsxtest.Start(t)
	w, err := transformer.NewEvents(js, transformer.EventsConfig{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	defer func() { stop(); <-done }()

	publish := func(id string, v proto.Versioned) {
		t.Helper()
		data, err := proto.Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		m := &nats.Msg{Subject: proto.SubjectRawBrazeEvents, Data: data, Header: nats.Header{}}
		m.Header.Set(proto.HeaderMsgID, id)
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	ev := func(id, user string) proto.RawEvent {
		js := fmt.Sprintf(`{"event_type":"users.messages.email.Open","id":%q,"user":{"external_user_id":%q}}`, id, user)
		if user == "" { // nobody to write it to
			js = fmt.Sprintf(`{"event_type":"users.messages.email.Open","id":%q}`, id)
		}
		return proto.RawEvent{V: proto.SchemaVersion, Source: proto.EventSourceCurrents, ID: id, ReceivedAt: 1, JSON: []byte(js)}
	}
	const batches, per = 3, 10
	bad := map[string]bool{"b1-3": true, "b1-7": true}
	for b := range batches {
		evs := make([]proto.RawEvent, per)
		for i := range evs {
			id := fmt.Sprintf("b%d-%d", b, i)
			user := "u" + id
			if bad[id] {
				user = ""
			}
			evs[i] = ev(id, user)
		}
		publish(fmt.Sprint("batch-", b), &proto.RawEvents{V: proto.SchemaVersion, Events: evs})
	}
	old := ev("single-1", "u9")
	publish("single", &old)

	wantMsgs, wantEvents := batches+1, batches*per-len(bad)+1
	deadline := time.Now().Add(30 * time.Second)
	for {
		n := streamMsgs(t, js, proto.StreamOps)
		if n == uint64(wantMsgs) && streamMsgs(t, js, proto.StreamDLQ) == uint64(len(bad)) {
			break
		}
		if n > uint64(wantMsgs) {
			t.Fatalf("OPS holds %d messages for %d input messages: events were published one message each", n, wantMsgs)
		}
		if time.Now().After(deadline) {
			t.Fatalf("OPS holds %d messages, DLQ %d; want %d and %d", n, streamMsgs(t, js, proto.StreamDLQ), wantMsgs, len(bad))
		}
		time.Sleep(50 * time.Millisecond)
	}
	s, err := js.Stream(ctx, proto.StreamOps)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for seq := uint64(1); seq <= uint64(wantMsgs); seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := proto.DecodeBrevoEvents(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if got[e.ID] {
				t.Fatalf("event %s mapped twice", e.ID)
			}
			got[e.ID] = true
		}
	}
	if len(got) != wantEvents || !got["currents:single-1"] || got["currents:b1-3"] {
		t.Fatalf("OPS holds %d events, want %d (the single-event message's included, the bad ones not): %v", len(got), wantEvents, got)
	}
	dlq, err := js.Stream(ctx, proto.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= uint64(len(bad)); seq++ {
		m, err := dlq.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != proto.DLQSubject(proto.StageTransformer, transformer.ReasonNoIdentifier) {
			t.Fatalf("dead letter on %s", m.Subject)
		}
		var dl proto.DeadLetter
		if err := proto.Decode(m.Data, &dl); err != nil {
			t.Fatal(err)
		}
		evs, err := proto.DecodeRawEvents(dl.Data)
		if err != nil || len(evs) != 1 || !bad[evs[0].ID] || dl.OriginalSubject != proto.SubjectRawBrazeEvents {
			t.Fatalf("dead letter holds %v (%v) from %s, want one bad event", evs, err, dl.OriginalSubject)
		}
		delete(bad, evs[0].ID)
	}
}

func streamMsgs(t *testing.T, js jetstream.JetStream, name string) uint64 {
	t.Helper()
	s, err := js.Stream(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

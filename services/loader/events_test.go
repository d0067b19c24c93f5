package loader_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/loader"
	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
)

// TestEventsWorker writes events to the Brevo simulator: a 207's failed
// event (an unknown contact) is retried, then dead-lettered with Brevo's
// reason, while the others are written once each, duplicates and
// re-deliveries included; an unsubscribe blocklists the email.
func TestEventsWorker(t *testing.T) {
	const key = "xkeysib-events-test"
	sim := brevosim.New(brevosim.Config{APIKey: key})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	bv, err := brevo.New(brevo.Config{BaseURL: srv.URL + "/v3", APIKey: key})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, u := range []string{"u1", "u2"} {
		if _, err := bv.UpsertContact(ctx, brevo.Contact{ExtID: u, Email: u + "@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	_, _, js := natsxtest.Start(t)
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	w, err := loader.NewEvents(ctx, js, bv, st.KeyValue(), loader.EventsConfig{UnknownContactRetries: 2, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	defer func() { stop(); <-done }()

	publish := func(msgID string, ev proto.BrevoEvent) {
		t.Helper()
		ev.V = proto.SchemaVersion
		data, err := proto.Encode(&ev)
		if err != nil {
			t.Fatal(err)
		}
		m := &nats.Msg{Subject: proto.SubjectOpsBrevoEvents, Data: data, Header: nats.Header{}}
		m.Header.Set(proto.HeaderMsgID, msgID)
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	publish("a", proto.BrevoEvent{ID: "currents:1", Name: "email_opened", ExtID: "u1"})
	publish("b", proto.BrevoEvent{ID: "currents:2", Name: "email_unsubscribed", ExtID: "u2", BlocklistEmail: true})
	publish("c", proto.BrevoEvent{ID: "currents:3", Name: "email_opened", ExtID: "nobody"})
	publish("d", proto.BrevoEvent{ID: "currents:1", Name: "email_opened", ExtID: "u1"}) // a re-send past the stream's window

	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := js.Stream(ctx, proto.StreamDLQ)
		if err != nil {
			t.Fatal(err)
		}
		if s.CachedInfo().State.Msgs == 1 {
			m, err := s.GetLastMsgForSubject(ctx, proto.DLQSubject(proto.StageLoader, loader.ReasonContactNotFound))
			if err != nil {
				t.Fatalf("the dead letter is not contact_not_found: %v", err)
			}
			var dl proto.DeadLetter
			if err := proto.Decode(m.Data, &dl); err != nil {
				t.Fatal(err)
			}
			if dl.Attempts < 2 || !strings.Contains(dl.Detail, "Contact does not exist") {
				t.Fatalf("dead letter after %d attempts: %s", dl.Attempts, dl.Detail)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the event for an unknown contact was not dead-lettered")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := sim.State().Events.Count; n != 2 {
		t.Fatalf("Brevo holds %d events, want 2", n)
	}
	if c, _ := sim.ContactByExtID("u2"); !c.EmailBlacklisted {
		t.Fatal("u2 unsubscribed but not blocklisted")
	}
	if c, _ := sim.ContactByExtID("u1"); c.EmailBlacklisted || c.EmailBlacklistedSent {
		t.Fatal("u1 had its blocklist flag touched")
	}
	if n, err := loader.EventsProcessed(ctx, st.KeyValue()); err != nil || n != 2 {
		t.Fatalf("eventsProcessed = %d, %v", n, err)
	}
}

// TestEventsWorkerBatchMessages writes messages of many events each: a
// message with events for a contact Brevo does not know is delivered again
// for them (its other events, written on the first delivery, are not
// written again), then each of those is dead-lettered on its own with
// Brevo's reason; the counter counts events, not messages.
func TestEventsWorkerBatchMessages(t *testing.T) {
	const key = "xkeysib-events-batch-test"
	sim := brevosim.New(brevosim.Config{APIKey: key})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	bv, err := brevo.New(brevo.Config{BaseURL: srv.URL + "/v3", APIKey: key})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, u := range []string{"u1", "u2", "u3"} {
		if _, err := bv.UpsertContact(ctx, brevo.Contact{ExtID: u, Email: u + "@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	_, _, js := natsxtest.Start(t)
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	w, err := loader.NewEvents(ctx, js, bv, st.KeyValue(), loader.EventsConfig{UnknownContactRetries: 2, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	defer func() { stop(); <-done }()

	const msgs, per = 3, 40
	good := 0
	for b := range msgs {
		evs := make([]proto.BrevoEvent, per)
		for i := range evs {
			user := []string{"u1", "u2", "u3"}[i%3]
			if b == 1 && (i == 5 || i == 17) {
				user = "nobody"
			} else {
				good++
			}
			evs[i] = proto.BrevoEvent{V: proto.SchemaVersion, ID: fmt.Sprintf("currents:%d-%d", b, i), Name: "email_opened", ExtID: user}
		}
		if b == 2 {
			evs[0].Name, evs[0].BlocklistEmail = "email_unsubscribed", true
		}
		data, err := proto.Encode(&proto.BrevoEvents{V: proto.SchemaVersion, Events: evs})
		if err != nil {
			t.Fatal(err)
		}
		m := &nats.Msg{Subject: proto.SubjectOpsBrevoEvents, Data: data, Header: nats.Header{}}
		m.Header.Set(proto.HeaderMsgID, fmt.Sprint("batch-", b))
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := js.Stream(ctx, proto.StreamDLQ)
		if err != nil {
			t.Fatal(err)
		}
		if s.CachedInfo().State.Msgs >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the events for an unknown contact were not dead-lettered")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The message is settled once its dead letters are out: wait for the
	// consumer to have nothing pending.
	for {
		c, err := js.Consumer(ctx, proto.StreamOps, loader.EventsDurable)
		if err != nil {
			t.Fatal(err)
		}
		info, err := c.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.NumAckPending == 0 && info.NumPending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer still has %d unacknowledged", info.NumAckPending)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s, err := js.Stream(ctx, proto.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 2 {
		t.Fatalf("DLQ holds %d, want one dead letter per refused event (2)", info.State.Msgs)
	}
	ids := map[string]bool{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != proto.DLQSubject(proto.StageLoader, loader.ReasonContactNotFound) {
			t.Fatalf("dead letter on %s", m.Subject)
		}
		var dl proto.DeadLetter
		if err := proto.Decode(m.Data, &dl); err != nil {
			t.Fatal(err)
		}
		evs, err := proto.DecodeBrevoEvents(dl.Data)
		if err != nil || len(evs) != 1 || evs[0].ExtID != "nobody" || !strings.Contains(dl.Detail, "does not exist") {
			t.Fatalf("dead letter holds %v (%v): %s", evs, err, dl.Detail)
		}
		ids[evs[0].ID] = true
	}
	if !ids["currents:1-5"] || !ids["currents:1-17"] {
		t.Fatalf("dead letters of %v", ids)
	}
	if n := sim.State().Events.Count; n != good {
		t.Fatalf("Brevo holds %d events, want %d: each written once, the redelivered message's included", n, good)
	}
	if n, err := loader.EventsProcessed(ctx, st.KeyValue()); err != nil || n != uint64(good) {
		t.Fatalf("eventsProcessed = %d, %v; want %d", n, err, good)
	}
	if c, _ := sim.ContactByExtID("u1"); !c.EmailBlacklisted {
		t.Fatal("the unsubscribe inside a batch did not blocklist u1")
	}
}

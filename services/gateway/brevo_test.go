package gateway_test

import (
	"context"
	"encoding/base64"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/proto"
)

const webhookToken = "brevo-webhook-token-0123456789"

func TestBrevoWebhooks(t *testing.T) {
	f := start(t)
	one := []byte(`{"event":"unsubscribed","id":7,"email":"a@example.com","date":"2026-01-02 03:04:05","ts":1767323045}`)
	two := []byte(`[{"event":"contact_updated","id":7,"email":"a@example.com","content":{"FIRSTNAME":"Ann"},"api_key_name":"","ts":1},
		{"event":"list_addition","id":8,"email":"b@example.com","list_id":[3],"ts":2,"brand_new_field":true}]`)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("brevo:"+webhookToken))

	for _, tc := range []struct {
		name, auth string
		body       []byte
		status     int
	}{
		{"no credentials", "", one, 401},
		{"the Currents token", "Bearer " + token, one, 401},
		{"a wrong password", "Basic " + base64.StdEncoding.EncodeToString([]byte("brevo:nope")), one, 401},
		{"not an event", "Bearer " + webhookToken, []byte(`{"email":"a@example.com"}`), 400},
		{"an empty batch", "Bearer " + webhookToken, []byte(`[]`), 400},
		{"not JSON", "Bearer " + webhookToken, []byte(`{"event":`), 400},
	} {
		if code, body := f.do(t, "POST", "/v1/brevo/webhooks", tc.auth, tc.body); code != tc.status {
			t.Errorf("%s: %d %v, want %d", tc.name, code, body, tc.status)
		}
	}
	if n := f.stored(t, proto.StreamRaw); n != 0 {
		t.Fatalf("refused deliveries stored %d messages", n)
	}

	if code, body := f.do(t, "POST", "/v1/brevo/webhooks", "Bearer "+webhookToken, one); code != 200 || body["accepted"] != 1.0 {
		t.Fatalf("one event: %d %v", code, body)
	}
	if code, body := f.do(t, "POST", "/v1/brevo/webhooks", basic, two); code != 200 || body["accepted"] != 2.0 {
		t.Fatalf("a batch with basic auth: %d %v", code, body)
	}
	// Brevo delivering the same event again: stored once.
	if code, _ := f.do(t, "POST", "/v1/brevo/webhooks", "Bearer "+webhookToken, one); code != 200 {
		t.Fatalf("re-sent event: %d", code)
	}
	ctx := context.Background()
	s, err := f.js.Stream(ctx, proto.StreamRaw)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(proto.SubjectRawBrevoWebhooks))
	if err != nil {
		t.Fatal(err)
	}
	if got := info.State.Subjects[proto.SubjectRawBrevoWebhooks]; got != 3 {
		t.Fatalf("%d events stored on %s, want 3", got, proto.SubjectRawBrevoWebhooks)
	}
	msg, err := s.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var ev proto.RawEvent
	if err := proto.Decode(msg.Data, &ev); err != nil || ev.Source != proto.EventSourceBrevoWebhook || string(ev.JSON) != string(one) {
		t.Fatalf("stored %+v (%v)", ev, err)
	}
}

package gateway_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/tajo-sync/tajo/services/gateway"
)

// FuzzDecodeCurrents: any body is either refused as not the documented
// shape or yields events that each have an id and are JSON objects as
// sent; it never panics. go test -fuzz FuzzDecodeCurrents to explore.
func FuzzDecodeCurrents(f *testing.F) {
	for _, s := range []string{
		`{"events":[{"event_type":"users.messages.email.Open","id":"a","time":1,"user":{"external_user_id":"u"},"properties":{}}]}`,
		`{"events":[]}`, `{"events":[{}]}`, `{"events":[{"id":null,"event_type":null}]}`, `{"events":null}`,
		`{"events":[{"id":1}]}`, `[]`, `null`, `{"events":[{"x":"\u0000"}]} `, `{"events":[{"id":"a"}],"events":[]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := gateway.DecodeCurrents(body, 100)
		if err != nil {
			if !errors.Is(err, gateway.ErrShape) {
				t.Fatalf("error %v does not wrap ErrShape", err)
			}
			return
		}
		if len(evs) > 100 {
			t.Fatalf("%d events accepted, over the limit", len(evs))
		}
		for _, ev := range evs {
			var m map[string]any
			if ev.ID == "" || json.Unmarshal(ev.Raw, &m) != nil || m == nil {
				t.Fatalf("accepted event without an id or not an object: %q %q", ev.ID, ev.Raw)
			}
		}
	})
}

// FuzzDecodeEvents: handleEvent bodies likewise.
func FuzzDecodeEvents(f *testing.F) {
	for _, s := range []string{
		`{"type":"user.event","payload":{"external_id":"user_12345","name":"product_viewed","properties":{"a":1}}}`,
		`[{"type":"user.event","payload":{"email":"a@b.c","name":"x"}}]`, `[]`, `{}`, `{"type":"","payload":{}}`,
		`{"type":"other","payload":{"external_id":"u"}}`, `{"type":"user.event","payload":{"external_id":1}}`,
		`{"type":"user.event","payload":{"external_id":"u","name":"n","properties":[]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := gateway.DecodeEvents(body, 100)
		if err != nil {
			if !errors.Is(err, gateway.ErrShape) {
				t.Fatalf("error %v does not wrap ErrShape", err)
			}
			return
		}
		if len(evs) == 0 || len(evs) > 100 {
			t.Fatalf("%d events accepted", len(evs))
		}
		for _, ev := range evs {
			var m struct {
				Payload map[string]any `json:"payload"`
			}
			if ev.Type == "" || json.Unmarshal(ev.Raw, &m) != nil || m.Payload == nil {
				t.Fatalf("accepted an event without a type or payload: %q", ev.Raw)
			}
			if m.Payload["external_id"] == nil && m.Payload["email"] == nil {
				t.Fatalf("accepted an event naming no contact: %q", ev.Raw)
			}
		}
	})
}

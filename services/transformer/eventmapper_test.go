package transformer

import (
	"errors"
	"reflect"
	"testing"

	"github.com/tajo-sync/tajo/proto"
)

func TestMapEvent(t *testing.T) {
	names := eventNames(map[string]string{"users.messages.email.Open": "opened_email"})
	cases := []struct {
		name       string
		raw        proto.RawEvent
		want       proto.BrevoEvent
		wantProps  map[string]any
		wantReason string
	}{
		{
			name: "email click, configured name over the default for open is not used",
			raw: proto.RawEvent{Source: "currents", ID: "e1", ReceivedAt: 5, JSON: []byte(`{"event_type":"users.messages.email.Click","id":"e1","time":1700000000.5,
				"user":{"user_id":"b1","external_user_id":"u1"},"properties":{"campaign_id":"c1","campaign_name":"Spring","url":"https://x","email_address":"a@b.c","canvas step":"s"}}`)},
			want:      proto.BrevoEvent{ID: "currents:e1", Name: "email_clicked", Date: 1700000000500, ExtID: "u1", Email: "a@b.c"},
			wantProps: map[string]any{"campaign_id": "c1", "campaign_name": "Spring", "url": "https://x", "canvas_step": "s", "braze_event_id": "e1", "braze_event_type": "users.messages.email.Click"},
		},
		{
			name: "configured mapping",
			raw:  proto.RawEvent{Source: "currents", ID: "e2", JSON: []byte(`{"event_type":"users.messages.email.Open","user":{"external_user_id":"u1"}}`)},
			want: proto.BrevoEvent{ID: "currents:e2", Name: "opened_email", ExtID: "u1"},
		},
		{
			name: "unsubscribe blocklists",
			raw:  proto.RawEvent{Source: "currents", ID: "e3", JSON: []byte(`{"event_type":"users.messages.email.Unsubscribe","user":{"external_user_id":"u1"}}`)},
			want: proto.BrevoEvent{ID: "currents:e3", Name: "email_unsubscribed", ExtID: "u1", BlocklistEmail: true},
		},
		{
			name: "global change to unsubscribed blocklists",
			raw: proto.RawEvent{Source: "currents", ID: "e4", JSON: []byte(`{"event_type":"users.behaviors.subscription.GlobalStateChange","user":{"external_user_id":"u1"},
				"properties":{"channel":"email","subscription_status":"Unsubscribed"}}`)},
			want: proto.BrevoEvent{ID: "currents:e4", Name: "subscription_changed", ExtID: "u1", BlocklistEmail: true},
		},
		{
			name: "resubscribe does not touch the blocklist",
			raw: proto.RawEvent{Source: "currents", ID: "e5", JSON: []byte(`{"event_type":"users.behaviors.subscription.GlobalStateChange","user":{"external_user_id":"u1"},
				"properties":{"channel":"email","subscription_status":"Subscribed"}}`)},
			want: proto.BrevoEvent{ID: "currents:e5", Name: "subscription_changed", ExtID: "u1"},
		},
		{
			name: "push unsubscribe is not an email one",
			raw: proto.RawEvent{Source: "currents", ID: "e6", JSON: []byte(`{"event_type":"users.behaviors.subscription.GlobalStateChange","user":{"external_user_id":"u1"},
				"properties":{"channel":"push","subscription_status":"Unsubscribed"}}`)},
			want: proto.BrevoEvent{ID: "currents:e6", Name: "subscription_changed", ExtID: "u1"},
		},
		{
			name: "unknown type kept",
			raw:  proto.RawEvent{Source: "currents", ID: "e7", JSON: []byte(`{"event_type":"users.messages.whatsapp.Read","user":{"external_user_id":"u1"},"new":1}`)},
			want: proto.BrevoEvent{ID: "currents:e7", Name: "braze_users_messages_whatsapp_read", ExtID: "u1"},
		},
		{
			name: "custom event takes its own name",
			raw:  proto.RawEvent{Source: "currents", ID: "e8", JSON: []byte(`{"event_type":"users.behaviors.CustomEvent","user":{"external_user_id":"u1"},"properties":{"name":"added to cart"}}`)},
			want: proto.BrevoEvent{ID: "currents:e8", Name: "added_to_cart", ExtID: "u1"},
		},
		{
			name:      "handleEvent",
			raw:       proto.RawEvent{Source: "api", ID: "x1", ReceivedAt: 9, JSON: []byte(`{"type":"user.event","payload":{"external_id":"user_12345","name":"product_viewed","properties":{"product id":"p1"}}}`)},
			want:      proto.BrevoEvent{ID: "api:x1", Name: "product_viewed", Date: 9, ExtID: "user_12345"},
			wantProps: map[string]any{"product_id": "p1"},
		},
		{
			name:       "no identifier",
			raw:        proto.RawEvent{Source: "currents", ID: "e9", JSON: []byte(`{"event_type":"users.messages.email.Open","user":{"user_id":"b1"}}`)},
			wantReason: ReasonNoIdentifier,
		},
		{
			name:       "not JSON",
			raw:        proto.RawEvent{Source: "currents", ID: "e10", JSON: []byte(`{`)},
			wantReason: ReasonBadEvent,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := MapEvent(c.raw, names)
			if c.wantReason != "" {
				var ee *EventError
				if !errors.As(err, &ee) || ee.Reason != c.wantReason {
					t.Fatalf("err = %v, want reason %s", err, c.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			props := got.Properties
			got.Properties, got.V = nil, 0
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v\nwant %+v", got, c.want)
			}
			for k, v := range c.wantProps {
				if props[k] != v {
					t.Errorf("property %s = %v, want %v (all: %v)", k, props[k], v, props)
				}
			}
			for _, k := range []string{"email_address", "email"} {
				if _, ok := props[k]; ok {
					t.Errorf("property %s copied onto the event", k)
				}
			}
		})
	}
}

func TestNewEventsRefusesBadMapping(t *testing.T) {
	if _, err := NewEvents(nil, EventsConfig{}); err == nil {
		t.Fatal("no JetStream accepted")
	}
	if brevoToken("a.b c") != "a_b_c" {
		t.Fatal(brevoToken("a.b c"))
	}
}

package brevo

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestEventsStoredPerContact: POST /events and /events/batch keep every
// event against the contact its identifiers name, apply contact_properties,
// and show in the admin state by contact.
func TestEventsStoredPerContact(t *testing.T) {
	h := newHarness(t, Config{})
	h.createAttr("AGE", "float")
	h.addContacts(3) // a0..a2@example.com, ext ids e0..e2, ids 1..3
	h.do("PUT", "/v3/contacts/a2@example.com", map[string]any{"attributes": map[string]any{"SMS": "+33612345678"}}).expect(t, 204, "")

	h.do("POST", "/v3/events", map[string]any{"event_name": "cart_updated", "identifiers": map[string]any{"email_id": "A0@example.com"},
		"contact_properties": map[string]any{"AGE": 37}, "event_properties": map[string]any{"items": 2}}).expect(t, 204, "")
	batch := []map[string]any{
		{"event_name": "order_created", "event_date": "2026-03-01T12:00:00+01:00", "identifiers": map[string]any{"ext_id": "e1"}},
		{"event_name": "order_created", "identifiers": map[string]any{"phone_id": "0033612345678"}},
		{"event_name": "order_created", "identifiers": map[string]any{"contact_id": 1, "email_id": "nobody@example.com"}}, // contact_id wins
	}
	h.do("POST", "/v3/events/batch", map[string]any{"events": batch}).expect(t, 204, "")

	st := h.srv.State().Events
	want := map[int64]int{1: 2, 2: 1, 3: 1}
	if st.Count != 4 || fmt.Sprint(st.ByContact) != fmt.Sprint(want) || st.ByName["order_created"] != 3 || st.ByName["cart_updated"] != 1 {
		t.Fatalf("event state %+v, want 4 events by contact %v", st, want)
	}
	evs := h.srv.Events(2)
	if len(evs) != 1 || !evs[0].Date.Equal(time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)) {
		t.Fatalf("contact 2's events: %+v", evs)
	}
	first := h.srv.Events(1)[0]
	if first.Name != "cart_updated" || !first.Date.Equal(h.clock.Now()) || first.EventProperties["items"] != 2.0 {
		t.Fatalf("contact 1's first event (event_date defaults to now): %+v", first)
	}
	if c, _ := h.srv.ContactByEmail("a0@example.com"); c.Attributes["AGE"] != 37.0 {
		t.Fatalf("contact_properties not applied: %v", c.Attributes)
	}
	r := h.do("GET", "/_admin/contacts/1/events", nil).expect(t, 200, "")
	if r.body["count"] != 2.0 || !strings.Contains(string(r.raw), `"event_name":"order_created"`) {
		t.Fatalf("admin events of contact 1: %s", r.raw)
	}
}

// TestEventsBatchPartialFailure: invalid events in a batch get a 207 naming
// them by index and reason; the valid ones are stored all the same.
func TestEventsBatchPartialFailure(t *testing.T) {
	h := newHarness(t, Config{})
	h.addContacts(2)
	ok := map[string]any{"event_name": "seen", "identifiers": map[string]any{"ext_id": "e0"}}
	batch := []any{
		ok,
		map[string]any{"event_name": "seen", "identifiers": map[string]any{"email_id": "nobody@example.com"}},
		map[string]any{"event_name": "not ok!", "identifiers": map[string]any{"ext_id": "e1"}},
		ok,
		map[string]any{"event_name": "seen", "identifiers": map[string]any{"email_id": "ghost@example.com"}},
		map[string]any{"event_name": "seen", "identifiers": map[string]any{"ext_id": "e1"}, "event_date": "yesterday"},
		map[string]any{"event_name": 7, "identifiers": map[string]any{"ext_id": "e1"}},
		map[string]any{"event_name": "seen", "identifiers": map[string]any{}},
	}
	r := h.do("POST", "/v3/events/batch", map[string]any{"events": batch}).expect(t, 207, "")
	if r.body["status"] != "partial_success" || r.body["total_events"] != 8.0 || r.body["successful_events"] != 2.0 || r.body["failed_events"] != 6.0 {
		t.Fatalf("207 body: %s", r.raw)
	}
	var indexes []string
	for _, e := range r.body["errors"].([]any) {
		m := e.(map[string]any)
		if m["message"] == "" {
			t.Fatalf("error without a message: %s", r.raw)
		}
		indexes = append(indexes, fmt.Sprint(m["eventIndex"]))
	}
	// One group per message; an unknown contact's message names the
	// identifier, so the two unknown emails are two groups.
	if got := strings.Join(indexes, " "); got != "[1] [2] [4] [5] [6] [7]" {
		t.Fatalf("failed event indexes by reason: %s (%s)", got, r.raw)
	}
	if n := h.srv.State().Events.Count; n != 2 {
		t.Fatalf("%d events stored, want the 2 valid ones", n)
	}

	r = h.do("POST", "/v3/events/batch", map[string]any{"events": []any{batch[1]}}).expect(t, 207, "")
	if r.body["status"] != "failed" || r.body["successful_events"] != 0.0 {
		t.Fatalf("a batch with no valid event: %s", r.raw)
	}
	many := make([]any, maxBatchEvents+1)
	for i := range many {
		many[i] = ok
	}
	h.do("POST", "/v3/events/batch", map[string]any{"events": many}).expect(t, 400, "invalid_parameter")
	h.do("POST", "/v3/events/batch", map[string]any{"events": []any{}}).expect(t, 400, "missing_parameter")
	h.do("POST", "/v3/events/batch", map[string]any{}).expect(t, 400, "missing_parameter")
	h.do("POST", "/v3/events/batch", map[string]any{"events": "x"}).expect(t, 400, "invalid_parameter")
	big := map[string]any{"event_name": "seen", "identifiers": map[string]any{"ext_id": "e0"},
		"event_properties": map[string]any{"blob": strings.Repeat("x", 51<<10)}}
	h.do("POST", "/v3/events", big).expect(t, 400, "invalid_parameter")
	h.do("POST", "/v3/events/batch", map[string]any{"events": []any{big, big, big, big, big, big, big, big, big, big, big}}).expect(t, 400, "invalid_parameter") // > 512 KB
	if n := h.srv.State().Events.Count; n != 2 {
		t.Fatalf("refused requests stored events: %d", n)
	}
}

// TestEventsRateLimit: POST /events has its own 10 requests a second
// (General plan), apart from the /contacts pool.
func TestEventsRateLimit(t *testing.T) {
	h := newHarness(t, Config{RateLimit: true})
	h.do("POST", "/v3/contacts", map[string]any{"email": "a@example.com"}).expect(t, 201, "")
	ev := map[string]any{"event_name": "seen", "identifiers": map[string]any{"email_id": "a@example.com"}}
	for i := range 10 {
		r := h.do("POST", "/v3/events", ev).expect(t, 204, "")
		if limit, remaining, _ := rateHeaders(t, r); limit != 10 || remaining != 9-i {
			t.Fatalf("event %d: limit %d remaining %d", i, limit, remaining)
		}
	}
	h.do("POST", "/v3/events/batch", map[string]any{"events": []any{ev}}).expect(t, 429, "too_many_requests")
	h.do("GET", "/v3/contacts/a@example.com", nil).expect(t, 200, "") // the contacts pool is untouched
	h.clock.Advance(time.Second)
	h.do("POST", "/v3/events/batch", map[string]any{"events": []any{ev}}).expect(t, 204, "")
}

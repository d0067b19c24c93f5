package brevo

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// receiver records the webhook deliveries it gets.
type receiver struct {
	mu     sync.Mutex
	events []map[string]any
	posts  int
	auth   []string
	arrays int
}

func newReceiver(t *testing.T) (*receiver, string) {
	rc := &receiver{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.posts++
		rc.auth = append(rc.auth, r.Header.Get("Authorization"))
		var many []map[string]any
		if json.Unmarshal(body, &many) == nil {
			rc.arrays++
			rc.events = append(rc.events, many...)
			return
		}
		var one map[string]any
		if err := json.Unmarshal(body, &one); err != nil {
			t.Errorf("webhook body is not JSON: %s", body)
		}
		rc.events = append(rc.events, one)
	}))
	t.Cleanup(ts.Close)
	return rc, ts.URL
}

// wait returns the events once n have arrived, failing after 5s.
func (rc *receiver) wait(t *testing.T, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		rc.mu.Lock()
		got := append([]map[string]any(nil), rc.events...)
		rc.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d webhook events arrived, want %d: %v", len(got), n, got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestWebhooksFireOnContactChanges(t *testing.T) {
	rc, url := newReceiver(t)
	h := newHarness(t, Config{APIKeyName: "tajo", WebhookBatchWait: time.Millisecond})
	h.srv.AddNamedKey("xkeysib-other", "crm-import")
	h.do("POST", "/v3/webhooks", map[string]any{"url": url + "/hook", "type": "marketing",
		"events": []string{"contactUpdated", "unsubscribed", "contactDeleted", "listAddition"},
		"auth":   map[string]any{"type": "bearer", "token": "s3cret"}}).expect(t, 201, "")
	h.do("POST", "/v3/contacts/lists", map[string]any{"name": "l", "folderId": 1}).expect(t, 201, "")

	// Created: no contact_updated; joining a list is a list_addition.
	h.do("POST", "/v3/contacts", map[string]any{"email": "a@example.com", "attributes": map[string]any{"FIRSTNAME": "Ann"}, "listIds": []int{2}}).expect(t, 201, "")
	// Updated through the connector's key, then another key, then by a person.
	h.do("PUT", "/v3/contacts/a@example.com", map[string]any{"attributes": map[string]any{"FIRSTNAME": "Anna"}}).expect(t, 204, "")
	h.doKey("xkeysib-other", "PUT", "/v3/contacts/a@example.com", map[string]any{"attributes": map[string]any{"LASTNAME": "Lee"}}).expect(t, 204, "")
	// An update that changes nothing fires nothing.
	h.do("PUT", "/v3/contacts/a@example.com", map[string]any{"attributes": map[string]any{"FIRSTNAME": "Anna"}}).expect(t, 204, "")
	yes := true
	if err := h.srv.EditContact(1, map[string]any{"LASTNAME": nil}, &yes); err != nil {
		t.Fatal(err)
	}
	h.do("DELETE", "/v3/contacts/1", nil).expect(t, 204, "")

	got := rc.wait(t, 6)
	type want struct {
		event, key string
		content    map[string]any
	}
	wants := []want{
		{"list_addition", "tajo", nil},
		{"contact_updated", "tajo", map[string]any{"FIRSTNAME": "Anna"}},
		{"contact_updated", "crm-import", map[string]any{"LASTNAME": "Lee"}},
		{"contact_updated", "", map[string]any{"LASTNAME": nil}},
		{"unsubscribed", "", nil},
		{"contact_deleted", "", nil},
	}
	if len(got) != len(wants) {
		t.Fatalf("events %v, want %d", got, len(wants))
	}
	for i, w := range wants {
		ev := got[i]
		if ev["event"] != w.event || ev["email"] != "a@example.com" || ev["id"] != 1.0 || ev["ts"] == nil || ev["date"] == nil {
			t.Errorf("event %d: %v, want %s", i, ev, w.event)
		}
		if k, ok := ev["api_key_name"]; (w.event == "contact_updated" || w.event == "list_addition") && (!ok || k != w.key) {
			t.Errorf("event %d api_key_name %v, want %q", i, k, w.key)
		}
		if w.content != nil {
			c, _ := ev["content"].(map[string]any)
			for name, v := range w.content {
				if got, ok := c[name]; !ok || got != v {
					t.Errorf("event %d content %v, want %s=%v", i, c, name, v)
				}
			}
		}
	}
	rc.mu.Lock()
	for _, a := range rc.auth {
		if a != "Bearer s3cret" {
			t.Errorf("delivery carried Authorization %q", a)
		}
	}
	rc.mu.Unlock()
	if st := h.srv.WebhookStats(); st.Delivered != 6 || st.Failed != 0 {
		t.Errorf("stats %+v", st)
	}
	// modifiedSince shows the person's edit too (the contact is deleted: none).
	page := h.do("GET", "/v3/contacts?modifiedSince=2020-01-01T00:00:00.000Z", nil).expect(t, 200, "")
	if page.body["count"] != 0.0 {
		t.Errorf("deleted contact listed: %v", page.body)
	}
}

func TestWebhooksBatched(t *testing.T) {
	rc, url := newReceiver(t)
	h := newHarness(t, Config{WebhookBatchWait: 50 * time.Millisecond})
	h.do("POST", "/v3/webhooks", map[string]any{"url": url, "type": "marketing", "batched": true,
		"events": []string{"contactUpdated"}}).expect(t, 201, "")
	for _, e := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		h.do("POST", "/v3/contacts", map[string]any{"email": e}).expect(t, 201, "")
	}
	h.do("POST", "/v3/contacts/import", map[string]any{"listIds": []int{2}, "jsonBody": []map[string]any{
		{"email": "a@example.com", "attributes": map[string]any{"FIRSTNAME": "A"}},
		{"email": "b@example.com", "attributes": map[string]any{"FIRSTNAME": "B"}},
		{"email": "c@example.com", "attributes": map[string]any{"FIRSTNAME": "C"}},
	}}).expect(t, 202, "")
	h.clock.Advance(time.Minute)
	h.srv.nudge() // the import completes
	got := rc.wait(t, 3)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.arrays != rc.posts || rc.posts > 2 {
		t.Errorf("%d posts, %d of them arrays: a batched webhook sends arrays", rc.posts, rc.arrays)
	}
	for _, ev := range got {
		if ev["event"] != "contact_updated" || ev["api_key_name"] != "sandbox" {
			t.Errorf("event %v", ev)
		}
	}
}

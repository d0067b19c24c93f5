package brevo

import (
	"encoding/json"
	"net/http"
	"testing"
)

func TestAuth(t *testing.T) {
	h := newHarness(t, Config{})
	h.srv.AddKey("xkeysib-second")
	cases := []struct {
		name   string
		key    string
		status int
	}{
		{"configured key", testKey, 200},
		{"added key", "xkeysib-second", 200},
		{"missing key", "", 401},
		{"wrong key", "xkeysib-nope", 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.doKey(tc.key, "GET", "/v3/contacts/attributes", nil)
			r.expect(t, tc.status, "")
			if tc.status == 401 && (r.body["code"] != "unauthorized" || r.body["message"] != "Key not found") {
				t.Fatalf("401 body %s", r.raw)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("content-type %q", ct)
			}
		})
	}
	if got := h.srv.Requests()["GET /v3/contacts/attributes 401"]; got != 2 {
		t.Fatalf("401s counted %d, want 2", got)
	}
}

func TestUnroutedIsJSON(t *testing.T) {
	h := newHarness(t, Config{})
	h.do("GET", "/v3/nowhere", nil).expect(t, 404, "document_not_found")
	h.do("PATCH", "/v3/contacts/import", nil).expect(t, 405, "method_not_allowed")
}

func TestAdminStateOverHTTP(t *testing.T) {
	h := newHarness(t, Config{})
	h.do("POST", "/v3/contacts", map[string]any{"email": "a@example.com", "extId": "typo"}).expect(t, 201, "")
	resp, err := http.Get(h.url + "/_admin/state")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("admin state status %d", resp.StatusCode)
	}
	st := h.srv.State()
	if st.Contacts != 1 || st.Requests["POST /v3/contacts 201"] != 1 {
		t.Fatalf("state %+v", st)
	}
	if st.UnknownFields["POST /v3/contacts extId"] != 1 {
		t.Fatalf("unknown field not counted: %v", st.UnknownFields)
	}
}

func TestAdminContactsNDJSON(t *testing.T) {
	h := newHarness(t, Config{})
	h.do("POST", "/v3/contacts", map[string]any{"email": "a@example.com", "ext_id": "A", "emailBlacklisted": true}).expect(t, 201, "")
	h.do("POST", "/v3/contacts", map[string]any{"attributes": map[string]any{"SMS": "+14155550100", "FIRSTNAME": "B"}}).expect(t, 201, "")
	resp, err := http.Get(h.url + "/_admin/contacts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	var got []Contact
	for dec.More() {
		var c Contact
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("decoding NDJSON line %d: %v", len(got)+1, err)
		}
		got = append(got, c)
	}
	if len(got) != 2 || got[0].ExtID != "A" || !got[0].EmailBlacklisted || !got[0].EmailBlacklistedSent ||
		got[1].SMS != "+14155550100" || got[1].Attributes["FIRSTNAME"] != "B" || got[1].Email != "" {
		t.Fatalf("admin contacts %+v", got)
	}
	// Reset over HTTP empties the account but keeps the key.
	reset, err := http.Post(h.url+"/_admin/reset", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	reset.Body.Close()
	if reset.StatusCode != 204 {
		t.Fatalf("reset status %d", reset.StatusCode)
	}
	if n := h.do("GET", "/v3/contacts", nil).expect(t, 200, "").body["count"]; n != 0.0 {
		t.Fatalf("count after reset %v", n)
	}
}

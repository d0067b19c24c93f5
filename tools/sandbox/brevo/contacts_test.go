package brevo

import (
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"
)

func TestCreateUpdateContact(t *testing.T) {
	h := newHarness(t, Config{})
	r := h.do("POST", "/v3/contacts", map[string]any{"email": "Ann@Example.com", "ext_id": "u1",
		"attributes": map[string]any{"FIRSTNAME": "Ann", "SMS": "+33 6 12 34 56 78"}, "listIds": []int{2}}).expect(t, 201, "")
	if r.body["id"] != 1.0 {
		t.Fatalf("created id %v", r.body["id"])
	}
	cases := []struct {
		name   string
		body   map[string]any
		status int
		code   string
		dups   []any
	}{
		{"existing without updateEnabled", map[string]any{"email": "ann@example.com"}, 400, "duplicate_parameter", []any{"email"}},
		{"existing by ext_id without updateEnabled", map[string]any{"ext_id": "u1"}, 400, "duplicate_parameter", []any{"ext_id"}},
		{"update by email", map[string]any{"email": "ann@example.com", "updateEnabled": true, "attributes": map[string]any{"LASTNAME": "Lee"}}, 204, "", nil},
		{"update by ext_id changes email", map[string]any{"ext_id": "u1", "email": "ann2@example.com", "updateEnabled": true}, 204, "", nil},
		{"update by SMS in another format", map[string]any{"updateEnabled": true, "attributes": map[string]any{"SMS": "0033612345678", "FIRSTNAME": "Annie"}}, 204, "", nil},
		{"no identifier", map[string]any{"attributes": map[string]any{"FIRSTNAME": "X"}}, 400, "missing_parameter", nil},
		{"invalid email", map[string]any{"email": "not-an-email"}, 400, "invalid_parameter", nil},
		{"invalid phone", map[string]any{"email": "b@example.com", "attributes": map[string]any{"SMS": "0612345678"}}, 400, "invalid_parameter", nil},
		{"email not a string", map[string]any{"email": 42}, 400, "invalid_parameter", nil},
		{"listIds not integers", map[string]any{"email": "b@example.com", "listIds": []string{"a"}}, 400, "invalid_parameter", nil},
		{"updateEnabled not a boolean", map[string]any{"email": "b@example.com", "updateEnabled": "yes"}, 400, "invalid_parameter", nil},
		{"attributes not an object", map[string]any{"email": "b@example.com", "attributes": []int{1}}, 400, "invalid_parameter", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("POST", "/v3/contacts", tc.body).expect(t, tc.status, tc.code)
			if tc.dups != nil && !slices.Equal(r.duplicates(), tc.dups) {
				t.Fatalf("duplicate_identifiers %v, want %v", r.duplicates(), tc.dups)
			}
		})
	}
	c, ok := h.srv.ContactByExtID("u1")
	if !ok {
		t.Fatal("contact u1 missing")
	}
	if c.ID != 1 || c.Email != "ann2@example.com" || c.SMS != "+33612345678" ||
		c.Attributes["FIRSTNAME"] != "Annie" || c.Attributes["LASTNAME"] != "Lee" || !slices.Equal(c.ListIDs, []int64{2}) {
		t.Fatalf("contact after updates: %+v", c)
	}
	if _, ok := h.srv.ContactByEmail("ann@example.com"); ok {
		t.Fatal("old email still indexed")
	}
	if n := len(h.srv.Contacts()); n != 1 {
		t.Fatalf("%d contacts, want 1", n)
	}
}

func TestUniqueness(t *testing.T) {
	h := newHarness(t, Config{})
	h.do("POST", "/v3/contacts", map[string]any{"email": "a@example.com", "ext_id": "A", "attributes": map[string]any{"SMS": "+4915112345678"}}).expect(t, 201, "")
	h.do("POST", "/v3/contacts", map[string]any{"email": "b@example.com", "ext_id": "B"}).expect(t, 201, "")
	cases := []struct {
		name string
		body map[string]any
		dups []any
	}{
		{"SMS of another contact", map[string]any{"email": "b@example.com", "updateEnabled": true, "attributes": map[string]any{"SMS": "004915112345678"}}, []any{"SMS"}},
		{"email of another contact", map[string]any{"ext_id": "B", "email": "a@example.com", "updateEnabled": true}, []any{"email"}},
		{"ext_id and SMS of another contact", map[string]any{"ext_id": "A", "email": "b@example.com", "updateEnabled": true}, []any{"email"}},
		{"new contact with a taken SMS", map[string]any{"email": "c@example.com", "updateEnabled": true, "attributes": map[string]any{"SMS": "+4915112345678"}}, []any{"SMS"}},
		{"SMS alone identifies its owner", map[string]any{"updateEnabled": true, "attributes": map[string]any{"SMS": "+4915112345678", "FIRSTNAME": "A"}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("POST", "/v3/contacts", tc.body)
			if tc.dups == nil {
				r.expect(t, 204, "")
				return
			}
			r.expect(t, 400, "duplicate_parameter")
			if !slices.Equal(r.duplicates(), tc.dups) {
				t.Fatalf("duplicate_identifiers %v, want %v", r.duplicates(), tc.dups)
			}
			want := fmt.Sprintf("%s is already associated with another Contact", tc.dups[0])
			if r.body["message"] != want {
				t.Fatalf("message %q, want %q", r.body["message"], want)
			}
		})
	}
	// PUT checks uniqueness too.
	r := h.do("PUT", "/v3/contacts/B?identifierType=ext_id", map[string]any{"attributes": map[string]any{"SMS": "+4915112345678"}})
	r.expect(t, 400, "duplicate_parameter")
	if !slices.Equal(r.duplicates(), []any{"SMS"}) {
		t.Fatalf("PUT duplicate_identifiers %v", r.duplicates())
	}
}

func TestUpdateAndGetByIdentifier(t *testing.T) {
	h := newHarness(t, Config{})
	h.do("POST", "/v3/contacts", map[string]any{"email": "a@example.com", "ext_id": "ext-1", "attributes": map[string]any{"SMS": "+447700900123"}}).expect(t, 201, "")
	cases := []struct {
		name, path string
		status     int
	}{
		{"email without type", "/v3/contacts/" + url.PathEscape("a@example.com"), 204},
		{"id without type", "/v3/contacts/1", 204},
		{"email_id", "/v3/contacts/a@example.com?identifierType=email_id", 204},
		{"contact_id", "/v3/contacts/1?identifierType=contact_id", 204},
		{"ext_id", "/v3/contacts/ext-1?identifierType=ext_id", 204},
		{"phone_id", "/v3/contacts/" + url.PathEscape("+447700900123") + "?identifierType=phone_id", 204},
		{"unknown email", "/v3/contacts/zz@example.com", 404},
		{"unknown id", "/v3/contacts/99", 404},
		{"unknown ext_id", "/v3/contacts/nope?identifierType=ext_id", 404},
		{"ext_id without type", "/v3/contacts/ext-1", 404},
		{"bad identifierType", "/v3/contacts/1?identifierType=uuid", 400},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("N%d", i)
			r := h.do("PUT", tc.path, map[string]any{"attributes": map[string]any{"FIRSTNAME": name}}).expect(t, tc.status, "")
			get := h.do("GET", tc.path, nil)
			if tc.status != 204 {
				if tc.status == 404 && (r.body["code"] != "document_not_found" || get.status != 404) {
					t.Fatalf("PUT %s GET %d", r.raw, get.status)
				}
				return
			}
			get.expect(t, 200, "")
			attrs := get.body["attributes"].(map[string]any)
			if attrs["FIRSTNAME"] != name || attrs["EXT_ID"] != "ext-1" || attrs["SMS"] != "+447700900123" {
				t.Fatalf("attributes %v", attrs)
			}
			if _, ok := get.body["statistics"]; !ok {
				t.Fatal("GET /contacts/{id} lacks statistics")
			}
		})
	}
	// GET also finds an SMS without identifierType.
	h.do("GET", "/v3/contacts/"+url.PathEscape("+447700900123"), nil).expect(t, 200, "")
}

func TestBlacklistFlagsOnlyWhenSent(t *testing.T) {
	h := newHarness(t, Config{})
	h.do("POST", "/v3/contacts", map[string]any{"email": "a@example.com"}).expect(t, 201, "")
	h.do("POST", "/v3/contacts", map[string]any{"email": "b@example.com", "emailBlacklisted": false}).expect(t, 201, "")
	h.do("PUT", "/v3/contacts/a@example.com", map[string]any{"smsBlacklisted": true}).expect(t, 204, "")
	a, _ := h.srv.ContactByEmail("a@example.com")
	b, _ := h.srv.ContactByEmail("b@example.com")
	if a.EmailBlacklistedSent || !a.SMSBlacklistedSent || !a.SMSBlacklisted || a.EmailBlacklisted {
		t.Fatalf("a: %+v", a)
	}
	if !b.EmailBlacklistedSent || b.EmailBlacklisted || b.SMSBlacklistedSent {
		t.Fatalf("b: %+v", b)
	}
	if got := h.srv.State().BlacklistFlagsSent; got.EmailBlacklisted != 1 || got.SMSBlacklisted != 1 {
		t.Fatalf("flags sent %+v", got)
	}
}

func TestListContactsModifiedSince(t *testing.T) {
	h := newHarness(t, Config{})
	for i := range 5 {
		h.do("POST", "/v3/contacts", map[string]any{"email": fmt.Sprintf("c%d@example.com", i)}).expect(t, 201, "")
		h.clock.Advance(time.Second)
	}
	mark := h.clock.Now()
	// Touch c1 and c3 after the watermark; a no-op update must not count.
	h.do("PUT", "/v3/contacts/c3@example.com", map[string]any{"attributes": map[string]any{"FIRSTNAME": "x"}}).expect(t, 204, "")
	h.do("PUT", "/v3/contacts/c1@example.com", map[string]any{"attributes": map[string]any{"FIRSTNAME": "y"}}).expect(t, 204, "")
	h.clock.Advance(time.Second)
	h.do("PUT", "/v3/contacts/c3@example.com", map[string]any{"attributes": map[string]any{"FIRSTNAME": "x"}}).expect(t, 204, "")

	since := url.QueryEscape(mark.Format(time.RFC3339Nano))
	cases := []struct {
		name  string
		query string
		ids   []float64
		count float64
	}{
		{"all, default desc", "", []float64{5, 4, 3, 2, 1}, 5},
		{"asc page", "?sort=asc&limit=2&offset=1", []float64{2, 3}, 5},
		{"modifiedSince asc", "?sort=asc&modifiedSince=" + since, []float64{2, 4}, 2},
		{"modifiedSince paged", "?sort=asc&limit=1&offset=1&modifiedSince=" + since, []float64{4}, 2},
		{"past the end", "?offset=10", []float64{}, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("GET", "/v3/contacts"+tc.query, nil).expect(t, 200, "")
			ids := []float64{}
			for _, c := range r.body["contacts"].([]any) {
				ids = append(ids, c.(map[string]any)["id"].(float64))
			}
			if !slices.Equal(ids, tc.ids) || r.body["count"] != tc.count {
				t.Fatalf("ids %v count %v, want %v %v", ids, r.body["count"], tc.ids, tc.count)
			}
		})
	}
	c3, _ := h.srv.ContactByEmail("c3@example.com")
	if !c3.ModifiedAt.Equal(mark) {
		t.Fatalf("no-op update moved modifiedAt to %v (want %v)", c3.ModifiedAt, mark)
	}
	// The last one is what a client that forgets to urlencode "+02:00" sends.
	bad := []string{"?limit=1001", "?limit=-1", "?sort=up", "?modifiedSince=yesterday",
		"?modifiedSince=2026-03-02T10:00:00+02:00"}
	for _, q := range bad {
		h.do("GET", "/v3/contacts"+q, nil).expect(t, 400, "invalid_parameter")
	}
}

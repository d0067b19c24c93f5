package brevo

import (
	"testing"
	"time"
)

// TestForceMerge: POST /contacts with forceMerge merges the contacts its
// identifiers name, keeping the most recently modified, instead of
// answering 400 (issue 15, item 5).
func TestForceMerge(t *testing.T) {
	h := newHarness(t, Config{})
	h.createAttr("CITY", "text")
	h.do("POST", "/v3/contacts", map[string]any{"email": "ann@example.com", "attributes": map[string]any{"CITY": "Lyon"}}).expect(t, 201, "") // 1
	h.clock.Advance(time.Second)
	h.do("POST", "/v3/contacts", map[string]any{"ext_id": "X9", "attributes": map[string]any{"SMS": "+33612345678"}}).expect(t, 201, "") // 2, newer

	conflicting := map[string]any{"email": "ann@example.com", "ext_id": "X9", "attributes": map[string]any{"FIRSTNAME": "Ann"}}
	r := h.do("POST", "/v3/contacts", conflicting).expect(t, 400, "duplicate_parameter")
	if len(r.duplicates()) == 0 {
		t.Fatalf("without forceMerge the conflict names no identifier: %s", r.raw)
	}

	h.clock.Advance(time.Second)
	conflicting["forceMerge"] = true
	h.do("POST", "/v3/contacts", conflicting).expect(t, 204, "")
	h.do("GET", "/v3/contacts/1", nil).expect(t, 404, "document_not_found")
	c := h.do("GET", "/v3/contacts/2", nil).expect(t, 200, "")
	attrs := c.body["attributes"].(map[string]any)
	if c.body["email"] != "ann@example.com" || attrs["EXT_ID"] != "X9" || attrs["SMS"] != "+33612345678" ||
		attrs["FIRSTNAME"] != "Ann" || attrs["CITY"] != nil {
		t.Fatalf("the survivor should be contact 2 (most recently modified) with the request applied: %s", c.raw)
	}
	if got := h.do("GET", "/v3/contacts/ann@example.com", nil).expect(t, 200, ""); got.body["id"] != 2.0 {
		t.Fatalf("the email names contact %v, want 2", got.body["id"])
	}
	l := h.do("GET", "/v3/contacts", nil).expect(t, 200, "")
	if got := ids(t, l, "contacts"); l.body["count"] != 1.0 || len(got) != 1 || got[0] != 2 {
		t.Fatalf("contacts after the merge: %s", l.raw)
	}
	if st := h.srv.State(); st.Contacts != 1 || st.MergedAway != 1 || len(h.srv.Contacts()) != 1 {
		t.Fatalf("state: %d contacts, %d merged away", st.Contacts, st.MergedAway)
	}

	// getId: the id of the contact written, even when nothing was created.
	r = h.do("POST", "/v3/contacts", map[string]any{"email": "ann@example.com", "updateEnabled": true, "getId": true}).expect(t, 201, "")
	if r.body["id"] != 2.0 {
		t.Fatalf("getId on an update: %s", r.raw)
	}
	h.do("POST", "/v3/contacts", map[string]any{"email": "ann@example.com", "updateEnabled": true}).expect(t, 204, "")
	r = h.do("POST", "/v3/contacts", map[string]any{"email": "new@example.com", "forceMerge": true, "getId": true}).expect(t, 201, "")
	if r.body["id"] != 3.0 {
		t.Fatalf("forceMerge naming nobody creates: %s", r.raw)
	}
	h.do("POST", "/v3/contacts", map[string]any{"email": "x@example.com", "forceMerge": "yes"}).expect(t, 400, "invalid_parameter")
}

// TestListContactsByIDs: GET /contacts?ids= returns those contacts only,
// in either spelling, at most 20 of them (issue 15, item 4).
func TestListContactsByIDs(t *testing.T) {
	h := newHarness(t, Config{})
	h.addContacts(5)
	for _, q := range []string{"ids=2,4,9", "ids=2&ids=4&ids=9", "ids=4&ids=2&sort=desc"} {
		r := h.do("GET", "/v3/contacts?"+q, nil).expect(t, 200, "")
		got := ids(t, r, "contacts")
		if r.body["count"] != 2.0 || len(got) != 2 || got[0]+got[1] != 6 {
			t.Fatalf("%s: %s", q, r.raw)
		}
	}
	r := h.do("GET", "/v3/contacts?ids=2,4&sort=asc&limit=1&offset=1", nil).expect(t, 200, "")
	if got := ids(t, r, "contacts"); r.body["count"] != 2.0 || len(got) != 1 || got[0] != 4 {
		t.Fatalf("second page of ids=2,4: %s", r.raw)
	}
	h.do("GET", "/v3/contacts?ids=two", nil).expect(t, 400, "invalid_parameter")
	h.do("GET", "/v3/contacts?ids="+idList(21), nil).expect(t, 400, "invalid_parameter")
	if r := h.do("GET", "/v3/contacts?ids="+idList(20), nil).expect(t, 200, ""); r.body["count"] != 5.0 {
		t.Fatalf("20 ids, 5 of them existing: %s", r.raw)
	}
}

package brevo

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func (h *harness) processStatus(id any) string {
	h.t.Helper()
	return h.do("GET", fmt.Sprintf("/v3/processes/%v", id), nil).expect(h.t, 200, "").body["status"].(string)
}

func TestImportLifecycle(t *testing.T) {
	h := newHarness(t, Config{ImportDelay: time.Minute})
	h.createAttr("SCORE", "float")
	h.do("POST", "/v3/contacts", map[string]any{"email": "old@example.com", "attributes": map[string]any{"SMS": "+33612345678", "FIRSTNAME": "Old"}}).expect(t, 201, "")

	rows := []map[string]any{
		{"email": "new1@example.com", "attributes": map[string]any{"EXT_ID": "e1", "SCORE": 3, "NOPE": "x"}},
		{"email": "old@example.com", "attributes": map[string]any{"FIRSTNAME": "Updated", "LASTNAME": ""}},
		{"email": "bad-email", "attributes": map[string]any{}},
		{"email": "new2@example.com", "attributes": map[string]any{"SMS": "0612"}},
		{"email": "new3@example.com", "attributes": map[string]any{"SMS": "+33612345678"}},
		{"attributes": map[string]any{"EXT_ID": "e2", "FIRSTNAME": "NoEmail"}},
		{"attributes": map[string]any{"FIRSTNAME": "Nobody"}},
	}
	r := h.do("POST", "/v3/contacts/import", map[string]any{"jsonBody": rows, "listIds": []int{2}}).expect(t, 202, "")
	pid := r.body["processId"]
	if got := h.processStatus(pid); got != "queued" {
		t.Fatalf("status right after submit %q, want queued", got)
	}
	if len(h.srv.Contacts()) != 1 {
		t.Fatal("import applied before completion")
	}
	h.clock.Advance(30 * time.Second)
	if got := h.processStatus(pid); got != "in_process" {
		t.Fatalf("status mid-way %q, want in_process", got)
	}
	h.clock.Advance(30 * time.Second)
	if got := h.processStatus(pid); got != "completed" {
		t.Fatalf("status after ImportDelay %q, want completed", got)
	}

	st := h.srv.State()
	want := ImportResult{Rows: 7, Created: 2, Updated: 1, Invalid: 4}
	if st.Imports.Rows != want || st.Imports.Completed != 1 || st.Imports.ConcurrentViolations != 0 {
		t.Fatalf("import state %+v, want rows %+v", st.Imports, want)
	}
	if st.UnknownAttributes["NOPE"] != 1 {
		t.Fatalf("unknown attribute not counted: %v", st.UnknownAttributes)
	}
	n1, ok := h.srv.ContactByExtID("e1")
	if !ok || n1.Email != "new1@example.com" || n1.Attributes["SCORE"] != 3.0 || n1.ListIDs[0] != 2 {
		t.Fatalf("new1: %+v", n1)
	}
	if !n1.CreatedAt.Equal(h.clock.Now()) {
		t.Fatalf("applied at %v, want completion time %v", n1.CreatedAt, h.clock.Now())
	}
	old, _ := h.srv.ContactByEmail("old@example.com")
	if old.Attributes["FIRSTNAME"] != "Updated" || old.SMS != "+33612345678" {
		t.Fatalf("old: %+v", old)
	}
	if _, ok := h.srv.ContactByExtID("e2"); !ok {
		t.Fatal("contact identified by EXT_ID only was not created")
	}
	h.do("GET", "/v3/processes/99", nil).expect(t, 404, "invalid_parameter")
}

func TestImportOneAtATime(t *testing.T) {
	h := newHarness(t, Config{ImportDelay: 10 * time.Second})
	first := h.do("POST", "/v3/contacts/import", map[string]any{"listIds": []int{2},
		"jsonBody": []map[string]any{{"email": "a@example.com", "attributes": map[string]any{"FIRSTNAME": "First"}}}}).expect(t, 202, "")
	h.clock.Advance(5 * time.Second)
	second := h.do("POST", "/v3/contacts/import", map[string]any{"listIds": []int{2},
		"jsonBody": []map[string]any{{"email": "a@example.com", "attributes": map[string]any{"FIRSTNAME": "Second"}}}}).expect(t, 202, "")

	steps := []struct {
		advance       time.Duration
		first, second string
		name          string
	}{
		{0, "in_process", "queued", "First"},
		{5 * time.Second, "completed", "queued", "First"}, // second starts now, at t=10s
		{2 * time.Second, "completed", "queued", "First"}, // still in its first quarter
		{1 * time.Second, "completed", "in_process", "First"},
		{6 * time.Second, "completed", "in_process", "First"},
		{1 * time.Second, "completed", "completed", "Second"}, // t=20s
	}
	for i, s := range steps {
		h.clock.Advance(s.advance)
		f, sc := h.processStatus(first.body["processId"]), h.processStatus(second.body["processId"])
		c, _ := h.srv.ContactByEmail("a@example.com")
		got := c.Attributes["FIRSTNAME"]
		if f != s.first || sc != s.second || (got != nil && got != s.name) {
			t.Fatalf("step %d: first %s second %s name %v, want %s %s %s", i, f, sc, got, s.first, s.second, s.name)
		}
	}
	if v := h.srv.State().Imports.ConcurrentViolations; v != 1 {
		t.Fatalf("concurrent violations %d, want 1", v)
	}
	// Sequential imports are no violation.
	h.do("POST", "/v3/contacts/import", map[string]any{"listIds": []int{2},
		"jsonBody": []map[string]any{{"email": "b@example.com"}}}).expect(t, 202, "")
	if v := h.srv.State().Imports.ConcurrentViolations; v != 1 {
		t.Fatalf("concurrent violations %d after a sequential import, want 1", v)
	}
	r := h.do("GET", "/v3/processes?sort=asc", nil).expect(t, 200, "")
	if r.body["count"] != 3.0 || len(r.body["processes"].([]any)) != 3 {
		t.Fatalf("process list %s", r.raw)
	}
}

func TestImportOptions(t *testing.T) {
	h := newHarness(t, Config{ImportDelay: time.Second})
	h.createAttr("SCORE", "float")
	h.do("POST", "/v3/contacts", map[string]any{"email": "a@example.com", "attributes": map[string]any{"FIRSTNAME": "A", "LASTNAME": "L"}}).expect(t, 201, "")
	run := func(body map[string]any) {
		t.Helper()
		body["listIds"] = []int{2}
		h.do("POST", "/v3/contacts/import", body).expect(t, 202, "")
		h.clock.Advance(2 * time.Second)
		h.srv.State() // observes completion
	}
	run(map[string]any{"updateExistingContacts": false, "jsonBody": []map[string]any{{"email": "a@example.com", "attributes": map[string]any{"FIRSTNAME": "B"}}}})
	if c, _ := h.srv.ContactByEmail("a@example.com"); c.Attributes["FIRSTNAME"] != "A" {
		t.Fatalf("updateExistingContacts=false updated: %v", c.Attributes)
	}
	run(map[string]any{"jsonBody": []map[string]any{{"email": "a@example.com", "attributes": map[string]any{"FIRSTNAME": "", "SCORE": "oops"}}}})
	if c, _ := h.srv.ContactByEmail("a@example.com"); c.Attributes["FIRSTNAME"] != "A" {
		t.Fatalf("empty value erased without emptyContactsAttributes: %v", c.Attributes)
	}
	run(map[string]any{"emptyContactsAttributes": true, "jsonBody": []map[string]any{{"email": "a@example.com", "attributes": map[string]any{"FIRSTNAME": ""}}}})
	if c, _ := h.srv.ContactByEmail("a@example.com"); c.Attributes["FIRSTNAME"] != nil || c.Attributes["LASTNAME"] != "L" {
		t.Fatalf("emptyContactsAttributes did not erase just FIRSTNAME: %v", c.Attributes)
	}
	// CSV fileBody: text cells are typed by the attribute; CONTACT_ID wins over email.
	run(map[string]any{"fileBody": "CONTACT_ID;EMAIL;SCORE;EXT_ID\n1;renamed@example.com;4.5;x1\n;c@example.com;nan-ish;\n"})
	c, ok := h.srv.ContactByExtID("x1")
	if !ok || c.ID != 1 || c.Email != "renamed@example.com" || c.Attributes["SCORE"] != 4.5 {
		t.Fatalf("CSV import by CONTACT_ID: %+v", c)
	}
	if c, ok := h.srv.ContactByEmail("c@example.com"); !ok || c.Attributes["SCORE"] != nil {
		t.Fatalf("CSV row 2: %+v %v", c, ok)
	}
}

func TestImportValidation(t *testing.T) {
	h := newHarness(t, Config{})
	row := []map[string]any{{"email": "a@example.com"}}
	big := `{"listIds":[2],"jsonBody":[{"email":"a@example.com","attributes":{"FIRSTNAME":"` + strings.Repeat("x", 10<<20) + `"}}]}`
	cases := []struct {
		name string
		body any
		code string
	}{
		{"no source", map[string]any{"listIds": []int{2}}, "missing_parameter"},
		{"no list", map[string]any{"jsonBody": row}, "missing_parameter"},
		{"two sources", map[string]any{"listIds": []int{2}, "jsonBody": row, "fileBody": "EMAIL\na@example.com"}, "invalid_parameter"},
		{"fileUrl", map[string]any{"listIds": []int{2}, "fileUrl": "http://127.0.0.1:1/x.csv"}, "invalid_parameter"},
		{"jsonBody not an array", map[string]any{"listIds": []int{2}, "jsonBody": "a@example.com"}, "invalid_parameter"},
		{"email not a string", map[string]any{"listIds": []int{2}, "jsonBody": []map[string]any{{"email": 1}}}, "invalid_parameter"},
		{"empty import", map[string]any{"listIds": []int{2}, "jsonBody": []any{}}, "invalid_parameter"},
		{"newList without folder", map[string]any{"newList": map[string]any{"listName": "L"}, "jsonBody": row}, "missing_parameter"},
		{"over 10MB", big, "invalid_parameter"},
		{"not JSON", "listIds=1", "invalid_parameter"},
		{"empty body", "", "missing_parameter"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.do("POST", "/v3/contacts/import", tc.body).expect(t, 400, tc.code)
		})
	}
	if n := h.srv.State().Imports.Count; n != 0 {
		t.Fatalf("%d refused imports were queued", n)
	}
	h.do("POST", "/v3/contacts/import", map[string]any{"newList": map[string]any{"listName": "L", "folderId": 1}, "jsonBody": row}).expect(t, 202, "")
}

// TestImportCompletesWithRealClock checks the timer that completes an import
// when nobody polls, polling the admin snapshot with a deadline.
func TestImportCompletesWithRealClock(t *testing.T) {
	srv := New(Config{APIKey: testKey, ImportDelay: 20 * time.Millisecond})
	h := &harness{t: t, srv: srv}
	ts := newTestHTTP(t, srv)
	h.url = ts
	h.do("POST", "/v3/contacts/import", map[string]any{"listIds": []int{2},
		"jsonBody": []map[string]any{{"email": "a@example.com"}}}).expect(t, 202, "")
	deadline := time.Now().Add(5 * time.Second)
	for {
		srv.mu.Lock()
		done := len(srv.st.contacts) == 1 // read raw state: State() itself would advance the queue
		srv.mu.Unlock()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("import not completed by its timer within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

package brevo

import (
	"slices"
	"testing"
)

// TestFolderDetailsAndLists: a folder just created reads back by id, with
// counts over its lists (a contact in two of them counted once) and only its
// own lists (issue 15, item 2).
func TestFolderDetailsAndLists(t *testing.T) {
	h := newHarness(t, Config{})
	h.addContacts(3)
	h.do("POST", "/v3/contacts/folders", map[string]any{"name": "tajo"}).expect(t, 201, "") // folder 2
	for _, name := range []string{"a", "b"} {
		h.do("POST", "/v3/contacts/lists", map[string]any{"name": name, "folderId": 2}).expect(t, 201, "") // lists 3, 4
	}
	h.do("POST", "/v3/contacts/lists/3/contacts/add", map[string]any{"ids": []int{1, 2}}).expect(t, 201, "")
	h.do("POST", "/v3/contacts/lists/4/contacts/add", map[string]any{"ids": []int{2, 3}}).expect(t, 201, "")
	h.do("POST", "/v3/contacts/lists/2/contacts/add", map[string]any{"ids": []int{1}}).expect(t, 201, "") // folder 1

	f := h.do("GET", "/v3/contacts/folders/2", nil).expect(t, 200, "")
	if f.body["id"] != 2.0 || f.body["name"] != "tajo" || f.body["uniqueSubscribers"] != 3.0 ||
		f.body["totalSubscribers"] != 3.0 || f.body["totalBlacklisted"] != 0.0 {
		t.Fatalf("folder 2: %s", f.raw)
	}
	if f := h.do("GET", "/v3/contacts/folders/1", nil).expect(t, 200, ""); f.body["uniqueSubscribers"] != 1.0 {
		t.Fatalf("folder 1: %s", f.raw)
	}

	l := h.do("GET", "/v3/contacts/folders/2/lists", nil).expect(t, 200, "")
	if got := ids(t, l, "lists"); l.body["count"] != 2.0 || !slices.Equal(got, []float64{4, 3}) {
		t.Fatalf("lists of folder 2, newest first: %v in %s", got, l.raw)
	}
	l = h.do("GET", "/v3/contacts/folders/2/lists?sort=asc&limit=1&offset=1", nil).expect(t, 200, "")
	if got := ids(t, l, "lists"); l.body["count"] != 2.0 || !slices.Equal(got, []float64{4}) {
		t.Fatalf("second list of folder 2, oldest first: %v in %s", got, l.raw)
	}
	first := l.body["lists"].([]any)[0].(map[string]any)
	if first["uniqueSubscribers"] != 2.0 || first["name"] != "b" {
		t.Fatalf("list 4 in folder 2's lists: %v", first)
	}

	h.do("GET", "/v3/contacts/folders/9", nil).expect(t, 404, "document_not_found")
	h.do("GET", "/v3/contacts/folders/9/lists", nil).expect(t, 404, "document_not_found")
	h.do("GET", "/v3/contacts/folders/x", nil).expect(t, 400, "invalid_parameter")
	h.do("GET", "/v3/contacts/folders/2/lists?limit=51", nil).expect(t, 400, "invalid_parameter")
}

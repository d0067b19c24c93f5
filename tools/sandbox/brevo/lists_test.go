package brevo

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// ids reads the id of every object in a JSON array field.
func ids(t *testing.T, r response, field string) []float64 {
	t.Helper()
	arr, ok := r.body[field].([]any)
	if !ok {
		t.Fatalf("%s is not an array: %s", field, r.raw)
	}
	var out []float64
	for _, o := range arr {
		out = append(out, o.(map[string]any)["id"].(float64))
	}
	return out
}

func TestFreshAccountFolderAndList(t *testing.T) {
	h := newHarness(t, Config{})
	f := h.do("GET", "/v3/contacts/folders?limit=10&offset=0", nil).expect(t, 200, "")
	folders := f.body["folders"].([]any)
	if f.body["count"] != 1.0 || len(folders) != 1 ||
		folders[0].(map[string]any)["id"] != 1.0 || folders[0].(map[string]any)["name"] != "Your first folder" {
		t.Fatalf("folders of a fresh account: %s", f.raw)
	}
	l := h.do("GET", "/v3/contacts/lists", nil).expect(t, 200, "")
	lists := l.body["lists"].([]any)
	if l.body["count"] != 1.0 || len(lists) != 1 {
		t.Fatalf("lists of a fresh account: %s", l.raw)
	}
	first := lists[0].(map[string]any)
	if first["id"] != 2.0 || first["name"] != "Your first list" || first["folderId"] != 1.0 || first["uniqueSubscribers"] != 0.0 {
		t.Fatalf("first list: %v", first)
	}
	// A fresh account takes an import into list 2; Reset brings the list back.
	h.do("POST", "/v3/contacts/import", map[string]any{"listIds": []int{2},
		"jsonBody": []map[string]any{{"email": "a@example.com"}}}).expect(t, 202, "")
	h.do("POST", "/v3/contacts/folders", map[string]any{"name": "extra"}).expect(t, 201, "")
	h.srv.Reset()
	if st := h.srv.State(); len(st.Folders) != 1 || len(st.Lists) != 1 || st.Lists[0].ID != 2 {
		t.Fatalf("after reset: folders %v lists %v", st.Folders, st.Lists)
	}
}

func TestCreateFoldersAndLists(t *testing.T) {
	h := newHarness(t, Config{})
	cases := []struct {
		name, path string
		body       any
		status     int
		code       string
		id         float64
	}{
		{"folder", "/v3/contacts/folders", map[string]any{"name": "tajo"}, 201, "", 2},
		{"second folder", "/v3/contacts/folders", map[string]any{"name": "other"}, 201, "", 3},
		{"folder without name", "/v3/contacts/folders", map[string]any{}, 400, "missing_parameter", 0},
		{"folder with blank name", "/v3/contacts/folders", map[string]any{"name": " "}, 400, "missing_parameter", 0},
		{"folder name not a string", "/v3/contacts/folders", map[string]any{"name": 3}, 400, "invalid_parameter", 0},
		{"folder without body", "/v3/contacts/folders", "", 400, "missing_parameter", 0},
		{"list", "/v3/contacts/lists", map[string]any{"name": "synced", "folderId": 2}, 201, "", 3},
		{"list in the first folder", "/v3/contacts/lists", map[string]any{"name": "b", "folderId": 1}, 201, "", 4},
		{"list in an unknown folder", "/v3/contacts/lists", map[string]any{"name": "c", "folderId": 99}, 400, "invalid_parameter", 0},
		{"list without folder", "/v3/contacts/lists", map[string]any{"name": "c"}, 400, "missing_parameter", 0},
		{"list without name", "/v3/contacts/lists", map[string]any{"folderId": 1}, 400, "missing_parameter", 0},
		{"list folderId not an integer", "/v3/contacts/lists", map[string]any{"name": "c", "folderId": "1"}, 400, "invalid_parameter", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("POST", tc.path, tc.body).expect(t, tc.status, tc.code)
			if tc.id != 0 && r.body["id"] != tc.id {
				t.Fatalf("id %v, want %v", r.body["id"], tc.id)
			}
		})
	}
	pages := []struct {
		query string
		want  []float64
	}{
		{"", []float64{4, 3, 2}},
		{"?sort=asc", []float64{2, 3, 4}},
		{"?limit=1&offset=1", []float64{3}},
		{"?limit=2&offset=1&sort=asc", []float64{3, 4}},
		{"?offset=3", nil},
	}
	for _, p := range pages {
		r := h.do("GET", "/v3/contacts/lists"+p.query, nil).expect(t, 200, "")
		if got := ids(t, r, "lists"); !slices.Equal(got, p.want) || r.body["count"] != 3.0 {
			t.Fatalf("lists%s: ids %v, want %v; count %v", p.query, got, p.want, r.body["count"])
		}
	}
	r := h.do("GET", "/v3/contacts/folders?sort=asc&limit=50", nil).expect(t, 200, "")
	if got := ids(t, r, "folders"); !slices.Equal(got, []float64{1, 2, 3}) {
		t.Fatalf("folders %v", got)
	}
	for _, q := range []string{"?limit=51", "?limit=-1", "?offset=x", "?sort=up"} {
		h.do("GET", "/v3/contacts/lists"+q, nil).expect(t, 400, "invalid_parameter")
		h.do("GET", "/v3/contacts/folders"+q, nil).expect(t, 400, "invalid_parameter")
	}
}

// addContacts creates n contacts a0..a(n-1)@example.com with ext ids e0..;
// their ids are 1..n.
func (h *harness) addContacts(n int) {
	h.t.Helper()
	for i := range n {
		h.do("POST", "/v3/contacts", map[string]any{"email": fmt.Sprintf("a%d@example.com", i), "ext_id": fmt.Sprintf("e%d", i)}).expect(h.t, 201, "")
	}
}

func TestAddAndRemoveListMembers(t *testing.T) {
	h := newHarness(t, Config{})
	h.addContacts(4)
	h.do("POST", "/v3/contacts/lists", map[string]any{"name": "L", "folderId": 1}).expect(t, 201, "")
	add, remove := "/v3/contacts/lists/3/contacts/add", "/v3/contacts/lists/3/contacts/remove"
	cases := []struct {
		name, path       string
		body             any
		status           int
		code             string
		success, failure []any
	}{
		{"by email, unknown and invalid fail", add, map[string]any{"emails": []string{"A0@example.com", "zz@example.com", "nope"}}, 201, "", []any{"A0@example.com"}, []any{"zz@example.com", "nope"}},
		{"already in the list fails", add, map[string]any{"emails": []string{"a0@example.com", "a1@example.com"}}, 201, "", []any{"a1@example.com"}, []any{"a0@example.com"}},
		{"by id, as integers", add, map[string]any{"ids": []int{3, 99, 0}}, 201, "", []any{3.0}, []any{99.0, 0.0}},
		{"by ext id", add, map[string]any{"extIds": []string{"e3", "x"}}, 201, "", []any{"e3"}, []any{"x"}},
		{"nothing to add is a 400", add, map[string]any{"ids": []int{1, 2}}, 400, "invalid_parameter", nil, nil},
		{"remove by ext id", remove, map[string]any{"extIds": []string{"e0", "e0"}}, 201, "", []any{"e0"}, []any{"e0"}},
		{"remove by id", remove, map[string]any{"ids": []int{2}}, 201, "", []any{2.0}, []any{}},
		{"nothing to remove is a 400", remove, map[string]any{"emails": []string{"a0@example.com"}}, 400, "invalid_parameter", nil, nil},
		{"two kinds", add, map[string]any{"emails": []string{"a0@example.com"}, "ids": []int{1}}, 400, "invalid_parameter", nil, nil},
		{"no kind", add, map[string]any{}, 400, "missing_parameter", nil, nil},
		{"all is for remove only", add, map[string]any{"all": true}, 400, "missing_parameter", nil, nil},
		{"all with ids", remove, map[string]any{"all": true, "ids": []int{1}}, 400, "invalid_parameter", nil, nil},
		{"all false", remove, map[string]any{"all": false}, 400, "missing_parameter", nil, nil},
		{"empty array", add, map[string]any{"ids": []int{}}, 400, "invalid_parameter", nil, nil},
		{"151 ids", add, map[string]any{"ids": make([]int, 151)}, 400, "invalid_parameter", nil, nil},
		{"ids not integers", add, map[string]any{"ids": []string{"1"}}, 400, "invalid_parameter", nil, nil},
		{"unknown list", "/v3/contacts/lists/99/contacts/add", map[string]any{"ids": []int{1}}, 404, "document_not_found", nil, nil},
		{"list id not an integer", "/v3/contacts/lists/x/contacts/remove", map[string]any{"ids": []int{1}}, 400, "invalid_parameter", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("POST", tc.path, tc.body).expect(t, tc.status, tc.code)
			if tc.status != 201 {
				return
			}
			got, _ := r.body["contacts"].(map[string]any)
			if !slices.Equal(got["success"].([]any), tc.success) || !slices.Equal(got["failure"].([]any), tc.failure) {
				t.Fatalf("contacts %v, want success %v failure %v", got, tc.success, tc.failure)
			}
		})
	}
	var members []int64
	for _, c := range h.srv.Contacts() {
		if slices.Contains(c.ListIDs, 3) {
			members = append(members, c.ID)
		}
	}
	if !slices.Equal(members, []int64{3, 4}) {
		t.Fatalf("members of list 3: %v, want [3 4]", members)
	}
	if st := h.srv.State(); st.Lists[1].ID != 3 || st.Lists[1].Members != 2 {
		t.Fatalf("admin lists %+v", st.Lists)
	}
}

func TestListMembershipChangesModifiedAt(t *testing.T) {
	h := newHarness(t, Config{})
	h.addContacts(1)
	h.clock.Advance(time.Minute)
	h.do("POST", "/v3/contacts/lists/2/contacts/add", map[string]any{"ids": []int{1}}).expect(t, 201, "")
	if c := h.srv.Contacts()[0]; !c.ModifiedAt.Equal(h.clock.Now()) || !slices.Equal(c.ListIDs, []int64{2}) {
		t.Fatalf("contact after add: %+v", c)
	}
}

func TestGetListAndCounts(t *testing.T) {
	h := newHarness(t, Config{})
	yes := true
	h.addContacts(3)
	h.do("PUT", "/v3/contacts/3", map[string]any{"emailBlacklisted": yes}).expect(t, 204, "")
	h.do("POST", "/v3/contacts/lists", map[string]any{"name": "L", "folderId": 1}).expect(t, 201, "")
	h.do("POST", "/v3/contacts/lists/2/contacts/add", map[string]any{"ids": []int{1, 2, 3}}).expect(t, 201, "")
	h.do("POST", "/v3/contacts/lists/3/contacts/add", map[string]any{"ids": []int{1}}).expect(t, 201, "")

	r := h.do("GET", "/v3/contacts/lists/2", nil).expect(t, 200, "")
	want := map[string]any{"id": 2.0, "name": "Your first list", "folderId": 1.0, "totalSubscribers": 2.0,
		"totalBlacklisted": 1.0, "uniqueSubscribers": 3.0, "dynamicList": false, "createdAt": "2026-03-02T10:00:00.000Z"}
	for k, v := range want {
		if r.body[k] != v {
			t.Fatalf("list 2 %s = %v, want %v (%s)", k, r.body[k], v, r.raw)
		}
	}
	f := h.do("GET", "/v3/contacts/folders", nil).expect(t, 200, "")
	folder := f.body["folders"].([]any)[0].(map[string]any)
	// Contact 1 is in both lists of the folder: counted once.
	if folder["uniqueSubscribers"] != 3.0 || folder["totalBlacklisted"] != 1.0 || folder["totalSubscribers"] != 2.0 {
		t.Fatalf("folder counts %v", folder)
	}
	h.do("GET", "/v3/contacts/lists/99", nil).expect(t, 404, "document_not_found")
	h.do("GET", "/v3/contacts/lists/abc", nil).expect(t, 400, "invalid_parameter")
	h.do("GET", "/v3/contacts/lists/2?startDate=2026-01-01T00:00:00Z&endDate=2026-02-01T00:00:00Z", nil).expect(t, 400, "invalid_parameter")
}

func TestListContactsOfList(t *testing.T) {
	h := newHarness(t, Config{})
	h.addContacts(5)
	since := h.clock.Now().Add(30 * time.Second)
	h.do("POST", "/v3/contacts/lists/2/contacts/add", map[string]any{"ids": []int{1, 2, 4}}).expect(t, 201, "")
	h.clock.Advance(time.Minute)
	h.do("POST", "/v3/contacts/lists/2/contacts/add", map[string]any{"ids": []int{5}}).expect(t, 201, "")
	cases := []struct {
		query string
		want  []float64
		count float64
	}{
		{"", []float64{5, 4, 2, 1}, 4},
		{"?sort=asc&limit=2", []float64{1, 2}, 4},
		{"?sort=asc&limit=2&offset=3", []float64{5}, 4},
		{"?modifiedSince=" + since.Format("2006-01-02T15:04:05Z"), []float64{5}, 1},
		{"?limit=500", []float64{5, 4, 2, 1}, 4},
	}
	for _, tc := range cases {
		r := h.do("GET", "/v3/contacts/lists/2/contacts"+tc.query, nil).expect(t, 200, "")
		if got := ids(t, r, "contacts"); !slices.Equal(got, tc.want) || r.body["count"] != tc.count {
			t.Fatalf("members%s: %v count %v, want %v count %v", tc.query, got, r.body["count"], tc.want, tc.count)
		}
	}
	for _, q := range []string{"?limit=501", "?sort=x", "?modifiedSince=yesterday"} {
		h.do("GET", "/v3/contacts/lists/2/contacts"+q, nil).expect(t, 400, "invalid_parameter")
	}
	h.do("GET", "/v3/contacts/lists/7/contacts", nil).expect(t, 404, "document_not_found")
}

func TestRemoveAllStartsAProcess(t *testing.T) {
	h := newHarness(t, Config{ImportDelay: 4 * time.Second})
	h.addContacts(3)
	h.do("POST", "/v3/contacts/lists/2/contacts/add", map[string]any{"ids": []int{1, 3}}).expect(t, 201, "")
	r := h.do("POST", "/v3/contacts/lists/2/contacts/remove", map[string]any{"all": true}).expect(t, 201, "")
	got := r.body["contacts"].(map[string]any)
	if got["total"] != 2.0 || got["processId"] != 1.0 {
		t.Fatalf("remove all: %s", r.raw)
	}
	if h.processStatus(got["processId"]) != "queued" || h.srv.State().Lists[0].Members != 2 {
		t.Fatal("remove all applied before its process completed")
	}
	h.clock.Advance(5 * time.Second)
	p := h.do("GET", "/v3/processes/1", nil).expect(t, 200, "")
	if p.body["status"] != "completed" || p.body["name"] != "IMPORTUSER" {
		t.Fatalf("process %s", p.raw)
	}
	st := h.srv.State()
	if st.Lists[0].Members != 0 || st.Imports.Count != 0 {
		t.Fatalf("after remove all: lists %+v, imports %+v (a removal is no import)", st.Lists, st.Imports)
	}
	// An import queued behind a removal is not a concurrent import.
	h.do("POST", "/v3/contacts/lists/2/contacts/add", map[string]any{"ids": []int{2}}).expect(t, 201, "")
	h.do("POST", "/v3/contacts/lists/2/contacts/remove", map[string]any{"all": true}).expect(t, 201, "")
	h.do("POST", "/v3/contacts/import", map[string]any{"listIds": []int{2},
		"jsonBody": []map[string]any{{"email": "n@example.com"}}}).expect(t, 202, "")
	if v := h.srv.State().Imports.ConcurrentViolations; v != 0 {
		t.Fatalf("concurrent violations %d, want 0", v)
	}
}

func TestUnknownListsRefused(t *testing.T) {
	h := newHarness(t, Config{})
	h.addContacts(1)
	row := []map[string]any{{"email": "b@example.com"}}
	cases := []struct {
		name, method, path string
		body               map[string]any
		status             int
		code               string
	}{
		{"create into an unknown list", "POST", "/v3/contacts", map[string]any{"email": "b@example.com", "listIds": []int{2, 9}}, 400, "invalid_parameter"},
		{"update into an unknown list", "PUT", "/v3/contacts/1", map[string]any{"listIds": []int{9}}, 400, "invalid_parameter"},
		{"unlink an unknown list", "PUT", "/v3/contacts/1", map[string]any{"unlinkListIds": []int{9}}, 400, "invalid_parameter"},
		{"import into an unknown list", "POST", "/v3/contacts/import", map[string]any{"listIds": []int{1}, "jsonBody": row}, 400, "invalid_parameter"},
		{"newList in an unknown folder", "POST", "/v3/contacts/import", map[string]any{"newList": map[string]any{"listName": "N", "folderId": 5}, "jsonBody": row}, 400, "invalid_parameter"},
		{"create into list 2", "POST", "/v3/contacts", map[string]any{"email": "b@example.com", "listIds": []int{2}}, 201, ""},
		{"import into list 2", "POST", "/v3/contacts/import", map[string]any{"listIds": []int{2}, "jsonBody": row}, 202, ""},
		{"newList in folder 1", "POST", "/v3/contacts/import", map[string]any{"newList": map[string]any{"listName": "N", "folderId": 1}, "jsonBody": row}, 202, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.do(tc.method, tc.path, tc.body).expect(t, tc.status, tc.code)
		})
	}
	if _, ok := h.srv.ContactByEmail("b@example.com"); !ok {
		t.Fatal("contact in list 2 not created")
	}
	st := h.srv.State()
	if st.Imports.Count != 2 || len(st.Lists) != 2 || st.Lists[1] != (ListState{ID: 3, Name: "N", FolderID: 1}) {
		t.Fatalf("imports %d (refused ones queued?), lists %+v", st.Imports.Count, st.Lists)
	}
}

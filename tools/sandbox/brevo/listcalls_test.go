package brevo

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
)

func TestListCallLog(t *testing.T) {
	h := newHarness(t, Config{})
	h.addContacts(3)
	add, remove := "/v3/contacts/lists/2/contacts/add", "/v3/contacts/lists/2/contacts/remove"
	h.do("POST", add, map[string]any{"extIds": []string{"e0", "e1", "zz"}}).expect(t, 201, "")
	h.do("POST", add, map[string]any{"ids": make([]int, 151)}).expect(t, 400, "invalid_parameter")
	h.do("POST", remove, map[string]any{"emails": []string{"a2@example.com"}}).expect(t, 400, "invalid_parameter")
	h.do("POST", "/v3/contacts/lists/99/contacts/remove", map[string]any{"ids": []int{1}}).expect(t, 404, "document_not_found")
	h.do("POST", remove, map[string]any{"ids": []int{1}}).expect(t, 201, "")

	want := []ListCall{
		{Op: "add", ListID: 2, Kind: "extIds", Count: 3, Status: 201, Success: []string{"e0", "e1"}, Failure: []string{"zz"}},
		{Op: "add", ListID: 2, Kind: "ids", Count: 151, Status: 400},
		{Op: "remove", ListID: 2, Kind: "emails", Count: 1, Status: 400, Failure: []string{"a2@example.com"}},
		{Op: "remove", ListID: 99, Kind: "ids", Count: 1, Status: 404},
		{Op: "remove", ListID: 2, Kind: "ids", Count: 1, Status: 201, Success: []string{"1"}},
	}
	got := h.srv.ListCalls()
	if len(got) != len(want) {
		t.Fatalf("%d calls logged, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Op != w.Op || g.ListID != w.ListID || g.Kind != w.Kind || g.Count != w.Count || g.Status != w.Status ||
			!slices.Equal(g.Success, w.Success) || !slices.Equal(g.Failure, w.Failure) {
			t.Errorf("call %d: %+v, want %+v", i, g, w)
		}
	}

	resp, err := http.Get(h.url + "/_admin/lists/calls")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Calls   []ListCall `json:"calls"`
		Dropped int        `json:"dropped"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body.Calls) != len(want) || body.Dropped != 0 {
		t.Fatalf("admin list calls: %+v (%v)", body, err)
	}
	h.srv.Reset()
	if n := len(h.srv.ListCalls()); n != 0 {
		t.Errorf("%d calls after Reset", n)
	}
}

func TestListCallLogBounded(t *testing.T) {
	var l listCallLog
	for i := range maxListCalls + 5 {
		l.add(ListCall{Count: i})
	}
	if len(l.calls) > maxListCalls || l.dropped != maxListCalls/10 || l.calls[len(l.calls)-1].Count != maxListCalls+4 {
		t.Fatalf("%d calls kept, %d dropped", len(l.calls), l.dropped)
	}
}

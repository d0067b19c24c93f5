package brevo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeCatalog answers the folder and list routes from memory, paging as
// Brevo does, and records every request line.
type fakeCatalog struct {
	mu       sync.Mutex
	folders  []Folder
	lists    []List
	requests []string
	failOn   string // "METHOD path" answered with a 500
}

func (f *fakeCatalog) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	line := r.Method + " " + r.URL.Path
	f.requests = append(f.requests, line+"?"+r.URL.RawQuery)
	if line == f.failOn {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	offset, _ := strconv.Atoi(q.Get("offset"))
	window := func(n int) (int, int) { return min(offset, n), min(offset+limit, n) }
	switch line {
	case "GET /contacts/folders":
		from, to := window(len(f.folders))
		_ = json.NewEncoder(w).Encode(map[string]any{"folders": f.folders[from:to], "count": len(f.folders)})
	case "GET /contacts/lists":
		from, to := window(len(f.lists))
		_ = json.NewEncoder(w).Encode(map[string]any{"lists": f.lists[from:to], "count": len(f.lists)})
	case "POST /contacts/folders":
		var body struct{ Name string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		id := int64(100 + len(f.folders))
		f.folders = append(f.folders, Folder{ID: id, Name: body.Name})
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%d}`, id)
	case "POST /contacts/lists":
		var body struct {
			Name     string
			FolderID int64 `json:"folderId"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		id := int64(200 + len(f.lists))
		f.lists = append(f.lists, List{ID: id, Name: body.Name, FolderID: body.FolderID})
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%d}`, id)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeCatalog) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

func manyLists(n int) []List {
	out := make([]List, n)
	for i := range out {
		out[i] = List{ID: int64(i + 1), Name: fmt.Sprintf("list-%d", i+1), FolderID: 1}
	}
	return out
}

func TestListsReadsEveryPage(t *testing.T) {
	cases := []struct {
		name  string
		lists int
		pages []string
	}{
		{"empty", 0, []string{"0"}},
		{"one short page", 3, []string{"0"}},
		{"exactly one page", 50, []string{"0"}},
		{"three pages", 120, []string{"0", "50", "100"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeCatalog{lists: manyLists(tc.lists)}
			c, _ := newTestClient(t, f.serve)
			got, err := c.Lists(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(f.lists) || len(got) > 0 && !reflect.DeepEqual(got, f.lists) {
				t.Fatalf("got %d lists, want %d", len(got), len(f.lists))
			}
			var want []string
			for _, off := range tc.pages {
				want = append(want, "GET /contacts/lists?limit=50&offset="+off+"&sort=asc")
			}
			if calls := f.calls(); !reflect.DeepEqual(calls, want) {
				t.Fatalf("calls %v\nwant %v", calls, want)
			}
		})
	}
}

func TestFoldersAndCreate(t *testing.T) {
	f := &fakeCatalog{folders: []Folder{{ID: 1, Name: "Your first folder", UniqueSubscribers: 3}}}
	c, _ := newTestClient(t, f.serve)
	ctx := context.Background()
	folders, err := c.Folders(ctx)
	if err != nil || !reflect.DeepEqual(folders, f.folders) {
		t.Fatalf("Folders = %+v, %v", folders, err)
	}
	if id, err := c.CreateFolder(ctx, "x"); err != nil || id != 101 {
		t.Fatalf("CreateFolder = %d, %v", id, err)
	}
	if id, err := c.CreateList(ctx, "l", 101); err != nil || id != 200 || f.lists[0].FolderID != 101 {
		t.Fatalf("CreateList = %d, %v; lists %+v", id, err, f.lists)
	}
	n := len(f.calls())
	for _, bad := range []func() error{
		func() error { _, err := c.CreateFolder(ctx, ""); return err },
		func() error { _, err := c.CreateList(ctx, "", 1); return err },
		func() error { _, err := c.CreateList(ctx, "l", 0); return err },
		func() error { _, err := c.EnsureList(ctx, ""); return err },
	} {
		if bad() == nil {
			t.Error("invalid argument accepted")
		}
	}
	if len(f.calls()) != n {
		t.Fatalf("invalid arguments reached the server: %v", f.calls()[n:])
	}
}

func TestEnsureList(t *testing.T) {
	first := Folder{ID: 1, Name: "Your first folder"}
	cases := []struct {
		name      string
		folders   []Folder
		lists     []List
		want      List
		wantCalls []string // the POSTs made
	}{
		{"found on a later page", []Folder{first}, append(manyLists(60), List{ID: 61, Name: "tajo-users", FolderID: 1}),
			List{ID: 61, Name: "tajo-users", FolderID: 1}, nil},
		{"exact name only", []Folder{first}, []List{{ID: 1, Name: "Tajo-Users", FolderID: 1}},
			List{ID: 201, Name: "tajo-users", FolderID: 1}, []string{"POST /contacts/lists?"}},
		{"created in the first folder", []Folder{first, {ID: 9, Name: "b"}}, nil,
			List{ID: 200, Name: "tajo-users", FolderID: 1}, []string{"POST /contacts/lists?"}},
		{"folder created when none", nil, nil,
			List{ID: 200, Name: "tajo-users", FolderID: 100}, []string{"POST /contacts/folders?", "POST /contacts/lists?"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeCatalog{folders: tc.folders, lists: tc.lists}
			c, _ := newTestClient(t, f.serve)
			got, err := c.EnsureList(context.Background(), "tajo-users")
			if err != nil || got != tc.want {
				t.Fatalf("EnsureList = %+v, %v; want %+v", got, err, tc.want)
			}
			var posts []string
			for _, call := range f.calls() {
				if strings.HasPrefix(call, "POST") {
					posts = append(posts, call)
				}
			}
			if !reflect.DeepEqual(posts, tc.wantCalls) {
				t.Fatalf("posts %v, want %v", posts, tc.wantCalls)
			}
			if tc.wantCalls != nil && f.folders[0].Name != "Your first folder" && f.folders[0].Name != DefaultFolderName {
				t.Fatalf("folder created as %q", f.folders[0].Name)
			}
		})
	}
}

func TestEnsureListErrorsSayWhat(t *testing.T) {
	for _, failOn := range []string{"GET /contacts/lists", "GET /contacts/folders", "POST /contacts/folders", "POST /contacts/lists"} {
		t.Run(failOn, func(t *testing.T) {
			f := &fakeCatalog{failOn: failOn}
			c, _ := newTestClient(t, f.serve)
			_, err := c.EnsureList(context.Background(), "L")
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Status != 500 || !Retryable(err) || !strings.Contains(err.Error(), `ensuring list "L"`) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestAddAndRemoveFromList(t *testing.T) {
	cases := []struct {
		name, op string
		members  ListMembers
		answer   string
		wantBody map[string]any
		want     ListResult
	}{
		{"emails", "add", ListMembers{Emails: []string{"a@x.io", "b@x.io"}},
			`{"contacts":{"success":["a@x.io"],"failure":["b@x.io"]}}`,
			map[string]any{"emails": []any{"a@x.io", "b@x.io"}}, ListResult{Success: []string{"a@x.io"}, Failure: []string{"b@x.io"}}},
		{"ids answered as integers", "remove", ListMembers{IDs: []int64{1, 5}},
			`{"contacts":{"success":[1],"failure":[5]}}`,
			map[string]any{"ids": []any{1.0, 5.0}}, ListResult{Success: []string{"1"}, Failure: []string{"5"}}},
		{"ext ids, no failure field", "add", ListMembers{ExtIDs: []string{"e1"}},
			`{"contacts":{"success":["e1"]}}`,
			map[string]any{"extIds": []any{"e1"}}, ListResult{Success: []string{"e1"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var path string
			var body map[string]any
			c, rec := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				path = r.Method + " " + r.URL.Path
				_ = json.NewDecoder(r.Body).Decode(&body)
				w.WriteHeader(http.StatusCreated)
				_, _ = w.Write([]byte(tc.answer))
			})
			call := c.AddToList
			if tc.op == "remove" {
				call = c.RemoveFromList
			}
			got, err := call(context.Background(), 7, tc.members)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("result %+v, %v; want %+v", got, err, tc.want)
			}
			if path != "POST /contacts/lists/7/contacts/"+tc.op || !reflect.DeepEqual(body, tc.wantBody) {
				t.Fatalf("sent %s %v, want body %v", path, body, tc.wantBody)
			}
			if calls := rec.All(); len(calls) != 1 || calls[0].Path != "/contacts/lists/{listId}/contacts/"+tc.op {
				t.Fatalf("calls %+v", calls)
			}
		})
	}
}

func TestListMembersRefusedBeforeAnyCall(t *testing.T) {
	c, rec := newTestClient(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	many := make([]int64, MaxListMembers+1)
	for _, m := range []ListMembers{{}, {Emails: []string{"a@x.io"}, IDs: []int64{1}}, {IDs: many}, {ExtIDs: []string{}}} {
		if _, err := c.AddToList(context.Background(), 1, m); !errors.Is(err, ErrListMembers) {
			t.Errorf("AddToList(%d emails, %d ids, %d ext ids) err = %v", len(m.Emails), len(m.IDs), len(m.ExtIDs), err)
		}
		if _, err := c.RemoveFromList(context.Background(), 1, m); !errors.Is(err, ErrListMembers) {
			t.Errorf("RemoveFromList err = %v", err)
		}
	}
	if n := len(rec.All()); n != 0 {
		t.Fatalf("%d calls made", n)
	}
	if _, err := c.AddToList(context.Background(), 1, ListMembers{IDs: many[:MaxListMembers]}); err != nil {
		t.Fatalf("%d ids refused: %v", MaxListMembers, err)
	}
}

func TestAddToListNoneAddedIsAnAPIError(t *testing.T) {
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"code":"invalid_parameter","message":"Contact already in list and/or does not exist"}`))
	})
	_, err := c.AddToList(context.Background(), 3, ListMembers{Emails: []string{"a@x.io"}})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "invalid_parameter" || Retryable(err) ||
		!strings.Contains(err.Error(), "adding contacts to list 3 (1 given)") {
		t.Fatalf("err = %v", err)
	}
}

func TestFlexStringsRefusesObjects(t *testing.T) {
	var f flexStrings
	if err := json.Unmarshal([]byte(`["a",1,{"x":1}]`), &f); err == nil {
		t.Fatalf("decoded %v", f)
	}
}

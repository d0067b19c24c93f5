package brevo

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"

	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
)

// TestListsAgainstSimulator runs the list calls against the sandbox's Brevo
// simulator, which is written from Brevo's spec and not from this client, so a
// misreading of the API on either side shows up here.
func TestListsAgainstSimulator(t *testing.T) {
	c, sim := simClient(t)
	ctx := context.Background()

	lists, err := c.Lists(ctx)
	if err != nil || len(lists) != 1 || lists[0].ID != 2 || lists[0].FolderID != 1 {
		t.Fatalf("lists of a fresh account: %+v, %v", lists, err)
	}
	// Enough lists for EnsureList to page: the target is created after 60 others.
	for range 60 {
		if _, err := c.CreateList(ctx, "filler", 1); err != nil {
			t.Fatal(err)
		}
	}
	created, err := c.EnsureList(ctx, "tajo-users")
	if err != nil || created.FolderID != 1 || created.ID != 63 {
		t.Fatalf("EnsureList created %+v, %v", created, err)
	}
	again, err := c.EnsureList(ctx, "tajo-users")
	if err != nil || again.ID != created.ID {
		t.Fatalf("EnsureList found %+v, %v; want id %d", again, err, created.ID)
	}
	if folders, err := c.Folders(ctx); err != nil || len(folders) != 1 || folders[0].Name != "Your first folder" {
		t.Fatalf("folders %+v, %v", folders, err)
	}
	if _, err := c.CreateList(ctx, "orphan", 42); err == nil {
		t.Fatal("list created in a folder that does not exist")
	}

	for _, email := range []string{"a@example.com", "b@example.com"} {
		if _, err := c.UpsertContact(ctx, Contact{Email: email, ExtID: "x-" + email}); err != nil {
			t.Fatal(err)
		}
	}
	id := created.ID
	res, err := c.AddToList(ctx, id, ListMembers{Emails: []string{"a@example.com", "nobody@example.com"}})
	want := ListResult{Success: []string{"a@example.com"}, Failure: []string{"nobody@example.com"}}
	if err != nil || !reflect.DeepEqual(res, want) {
		t.Fatalf("AddToList by email = %+v, %v", res, err)
	}
	if res, err = c.AddToList(ctx, id, ListMembers{IDs: []int64{2, 99}}); err != nil ||
		!reflect.DeepEqual(res, ListResult{Success: []string{"2"}, Failure: []string{"99"}}) {
		t.Fatalf("AddToList by id = %+v, %v", res, err)
	}
	_, err = c.AddToList(ctx, id, ListMembers{ExtIDs: []string{"x-a@example.com"}})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest {
		t.Fatalf("re-adding the only member: err = %v, want a 400", err)
	}
	if res, err = c.RemoveFromList(ctx, id, ListMembers{ExtIDs: []string{"x-a@example.com"}}); err != nil ||
		!reflect.DeepEqual(res, ListResult{Success: []string{"x-a@example.com"}, Failure: []string{}}) {
		t.Fatalf("RemoveFromList = %+v, %v", res, err)
	}
	var members []int64
	for _, ct := range sim.Contacts() {
		if slices.Contains(ct.ListIDs, id) {
			members = append(members, ct.ID)
		}
	}
	if !slices.Equal(members, []int64{2}) {
		t.Fatalf("members of list %d in the simulator: %v, want [2]", id, members)
	}
	if _, err := c.AddToList(ctx, 999, ListMembers{IDs: []int64{1}}); !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
		t.Fatalf("unknown list: err = %v, want a 404", err)
	}
}

// simClient serves a Brevo simulator over HTTP (127.0.0.1) until the test
// ends and returns a client of it with the simulator.
func simClient(t *testing.T) (*Client, *brevosim.Server) {
	t.Helper()
	sim := brevosim.New(brevosim.Config{APIKey: testKey})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL + "/v3", APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	return c, sim
}

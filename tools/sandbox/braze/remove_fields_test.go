package braze

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/tools/sandbox/gen"
)

// TestAdminRemoveFields: POST /_admin/users/mutate with "remove" takes a
// field off 20 users; the next export leaves it out for them only and
// changes nothing else, while an export requested before still shows it.
func TestAdminRemoveFields(t *testing.T) {
	clk := newClock()
	g := gen.New(8, 3000)
	s, ts := start(t, Config{Gen: g, Now: clk.Now, ExportDelay: time.Second})
	body := map[string]any{"segment_id": AllUsersSegmentID, "fields_to_export": gen.Fields()}
	before := requestExport(t, ts, body)

	resp, data := call(t, "POST", ts.URL+"/_admin/users/mutate", "", map[string]any{"count": 20, "seed": 3, "remove": []string{"first_name"}})
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, data)
	}
	m := decode[struct {
		Mutated []struct {
			Index   int
			Version int
			Removed []string
		}
	}](t, data)
	removed := map[int]bool{}
	for _, u := range m.Mutated {
		if u.Version != 0 || !slices.Equal(u.Removed, []string{"first_name"}) {
			t.Fatalf("mutated %+v: want version 0 and first_name removed", u)
		}
		removed[u.Index] = true
	}
	if len(removed) != 20 {
		t.Fatalf("%d users changed, want 20", len(removed))
	}

	clk.Advance(time.Second)
	old, _ := download(t, before.URL)
	after := requestExport(t, ts, body)
	clk.Advance(time.Second)
	lines, _ := download(t, after.URL)
	for i, l := range lines {
		u := decode[map[string]any](t, []byte(l))
		_, has := u["first_name"]
		if has == removed[i] {
			t.Fatalf("user %d (removed: %v) exported %s", i, removed[i], l)
		}
		if !removed[i] && l != old[i] {
			t.Fatalf("user %d changed though nothing was removed from it", i)
		}
		if removed[i] {
			if _, had := decode[map[string]any](t, []byte(old[i]))["first_name"]; !had {
				t.Fatalf("user %d: the export requested before the removal lost first_name too", i)
			}
			delete(u, "first_name")
			if u["total_revenue"] != g.User(i, 0)["total_revenue"] {
				t.Fatalf("user %d: removing first_name changed other fields", i)
			}
		}
	}

	// A version bump keeps the removal; the look-up by id shows it too.
	// The user is the lowest removed index that has an external id (some
	// users are known only by an alias; a map's order would pick one of them
	// now and then).
	some, ext := -1, ""
	for _, i := range slices.Sorted(maps.Keys(removed)) {
		if id, ok := g.ExternalID(i); ok {
			some, ext = i, id
			break
		}
	}
	if some < 0 {
		t.Fatal("none of the 20 users with first_name removed has an external id")
	}
	s.Mutate(some)
	resp, data = call(t, "POST", ts.URL+"/users/export/ids", testKey, map[string]any{"external_ids": []string{ext}, "fields_to_export": []string{"first_name", "email"}})
	ids := decode[idsResponse](t, data)
	if resp.StatusCode != 201 || len(ids.Users) != 1 || ids.Users[0]["first_name"] != nil || s.Version(some) != 1 {
		t.Fatalf("look-up of user %d after a bump: %d %s", some, resp.StatusCode, data)
	}

	resp, data = call(t, "POST", ts.URL+"/_admin/users/mutate", "", map[string]any{"indices": []int{1}, "remove": []string{"braze_id"}})
	wantError(t, resp, data, 400, "Unknown field")
	if err := s.RemoveFields([]string{"nope"}, 1); err == nil || len(s.RemovedFields(1)) != 0 {
		t.Fatalf("RemoveFields with an unknown name: %v, removed %v", err, s.RemovedFields(1))
	}
	if err := s.RemoveFields([]string{"custom_attributes.vip", "last_name"}, 1); err != nil || !slices.Equal(s.RemovedFields(1), []string{"custom_attributes.vip", "last_name"}) {
		t.Fatalf("RemoveFields: %v, removed %v", err, s.RemovedFields(1))
	}
}

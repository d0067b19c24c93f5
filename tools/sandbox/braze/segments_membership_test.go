package braze

import (
	"slices"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/tools/sandbox/gen"
)

// exportedIDs downloads an export of segID and returns its braze_ids.
func exportedIDs(t *testing.T, url string) map[string]bool {
	t.Helper()
	lines, _ := download(t, url)
	out := map[string]bool{}
	for _, l := range lines {
		m := decode[map[string]any](t, []byte(l))
		out[m["braze_id"].(string)] = true
	}
	return out
}

func TestSegmentMembershipMoves(t *testing.T) {
	g := gen.New(5, 4000)
	clk := newClock()
	s, ts := start(t, Config{Gen: g, Now: clk.Now, ExportDelay: time.Second})
	segID := ""
	for _, sg := range s.segments[1:] { // the largest but All Users
		if k, ok := s.segIndex[segID]; !sg.archived && (!ok || sg.percent > s.segments[k].percent) {
			segID = sg.id
		}
	}
	if id, ok := s.SegmentByName(s.segments[s.segIndex[segID]].name); !ok || id != segID {
		t.Fatalf("SegmentByName: %q %v", id, ok)
	}
	before, err := s.Members(segID)
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"segment_id": segID, "fields_to_export": []string{"email"}}
	old := requestExport(t, ts, body)

	resp, data := call(t, "POST", ts.URL+"/_admin/segments/"+segID+"/members", "", map[string]any{"leave": 300, "join": 200, "seed": 9})
	if resp.StatusCode != 200 {
		t.Fatalf("moving members: %d %s", resp.StatusCode, data)
	}
	moved := decode[struct {
		Left, Joined []movedUser
		Members      int
	}](t, data)
	if len(moved.Left) != 300 || len(moved.Joined) != 200 || moved.Members != len(before)-100 {
		t.Fatalf("left %d, joined %d, members %d (was %d)", len(moved.Left), len(moved.Joined), moved.Members, len(before))
	}
	after, _ := s.Members(segID)
	for _, u := range moved.Left {
		if !slices.Contains(before, u.Index) || slices.Contains(after, u.Index) || u.BrazeID != g.BrazeID(u.Index) {
			t.Fatalf("user %+v did not leave", u)
		}
	}
	for _, u := range moved.Joined {
		if slices.Contains(before, u.Index) || !slices.Contains(after, u.Index) {
			t.Fatalf("user %+v did not join", u)
		}
	}

	// The export requested before the move shows the old membership; one
	// requested after it, the new one.
	clk.Advance(time.Second)
	got := exportedIDs(t, old.URL)
	if len(got) != len(before) {
		t.Fatalf("old export: %d users, want %d", len(got), len(before))
	}
	fresh := requestExport(t, ts, body)
	clk.Advance(time.Second)
	got = exportedIDs(t, fresh.URL)
	if len(got) != len(after) {
		t.Fatalf("new export: %d users, want %d", len(got), len(after))
	}
	for _, i := range after {
		if !got[g.BrazeID(i)] {
			t.Fatalf("member %d missing from the new export", i)
		}
	}

	// By index; moving a user back to the rule's side stores nothing.
	if err := s.SetMembership(segID, []int{moved.Left[0].Index}, []int{moved.Joined[0].Index}); err != nil {
		t.Fatal(err)
	}
	if in, _ := s.InSegment(segID, moved.Left[0].Index); !in {
		t.Error("re-added user is not a member")
	}
	if in, _ := s.InSegment(segID, moved.Joined[0].Index); in {
		t.Error("removed user is still a member")
	}
	resp, data = call(t, "POST", ts.URL+"/_admin/segments/"+segID+"/members", "", map[string]any{"leave": 1, "add": []int{1}})
	wantError(t, resp, data, 400, "either")
	resp, data = call(t, "POST", ts.URL+"/_admin/segments/nope/members", "", map[string]any{"leave": 1})
	wantError(t, resp, data, 400, "not changed")
	resp, data = call(t, "POST", ts.URL+"/_admin/segments/"+segID+"/members", "", map[string]any{"join": 100000})
	wantError(t, resp, data, 400, "not changed")
}

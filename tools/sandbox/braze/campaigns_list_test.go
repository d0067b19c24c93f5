package braze

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

func TestListCampaigns(t *testing.T) {
	s, ts := start(t, Config{})
	s.AddKey("segments-only", PermSegmentsList)

	list := func(query string) []campaignJSON {
		t.Helper()
		resp, body := call(t, "GET", ts.URL+"/campaigns/list"+query, testKey, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /campaigns/list%s: %d %s", query, resp.StatusCode, body)
		}
		var out struct {
			Message   string         `json:"message"`
			Campaigns []campaignJSON `json:"campaigns"`
		}
		if err := json.Unmarshal(body, &out); err != nil || out.Message != "success" {
			t.Fatalf("body %s: %v", body, err)
		}
		return out.Campaigns
	}

	live := list("?page=0")
	all := list("?page=0&include_archived=true")
	if len(live) == 0 || len(all) != len(campaignCatalog()) || len(live) >= len(all) {
		t.Fatalf("%d live, %d with archived, %d in the catalog: archived ones must be hidden by default", len(live), len(all), len(campaignCatalog()))
	}
	for i := 1; i < len(all); i++ {
		a, _ := time.Parse(time.RFC3339, all[i-1].LastEdited)
		b, err := time.Parse(time.RFC3339, all[i].LastEdited)
		if err != nil || !a.Before(b) {
			t.Errorf("not in creation order at %d: %s then %s (%v)", i, all[i-1].LastEdited, all[i].LastEdited, err)
		}
	}
	desc := list("?include_archived=true&sort_direction=desc")
	if desc[0].ID != all[len(all)-1].ID {
		t.Errorf("sort_direction=desc starts with %s, want the newest %s", desc[0].Name, all[len(all)-1].Name)
	}
	if got := list("?page=1"); len(got) != 0 {
		t.Errorf("page 1 of %d campaigns holds %d: pages are 100 long", len(live), len(got))
	}
	cut, _ := time.Parse(time.RFC3339, all[len(all)-3].LastEdited)
	if got := list("?include_archived=true&last_edit.time[gt]=" + cut.Format("2006-01-02T15:04:05")); len(got) != 2 {
		t.Errorf("edited after the third newest: %d campaigns, want 2", len(got))
	}

	for _, tc := range []struct {
		name, query, key string
		status           int
	}{
		{"bad page", "?page=-1", testKey, 400},
		{"bad sort", "?sort_direction=up", testKey, 400},
		{"bad time", "?last_edit.time[gt]=yesterday", testKey, 400},
		{"no key", "", "", 401},
		{"wrong key", "", "nope", 401},
		{"no permission", "", "segments-only", 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := call(t, "GET", ts.URL+"/campaigns/list"+tc.query, tc.key, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
		})
	}
	if n := s.Requests()["GET /campaigns/list 200"]; n != 5 {
		t.Errorf("request log counts %d successful campaign lists, want 5", n)
	}
}

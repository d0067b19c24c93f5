package braze

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tajo-sync/tajo/tools/sandbox/gen"
)

// TestPagePermissions: each of the product page's twelve permissions is
// modelled on keys. A key made from the page's list is let through every
// endpoint; a key without one permission gets 403 on the endpoints that
// need it, and only there.
func TestPagePermissions(t *testing.T) {
	srv, ts := start(t, Config{Gen: gen.New(1, 50)})
	// One request per permission; none of them changes anything.
	probes := map[string]struct {
		method, path string
		body         any
	}{
		PermUsersTrack:            {"POST", "/users/track", map[string]any{"attributes": []any{map[string]any{"x": 1}}}},
		PermUsersExportIDs:        {"POST", "/users/export/ids", map[string]any{"external_ids": []string{"nobody"}, "fields_to_export": []string{"external_id"}}},
		PermUsersExportSeg:        {"POST", "/users/export/segment", map[string]any{"segment_id": "nope", "fields_to_export": []string{"external_id"}}},
		PermCampaignsList:         {"GET", "/campaigns/list?page=0", nil},
		PermCampaignsDataSeries:   {"GET", "/campaigns/data_series?campaign_id=nope&length=1", nil},
		PermCanvasList:            {"GET", "/canvas/list?page=0", nil},
		PermCanvasDataSeries:      {"GET", "/canvas/data_series?canvas_id=nope&length=1", nil},
		PermSegmentsList:          {"GET", "/segments/list?page=0", nil},
		PermSegmentsDataSeries:    {"GET", "/segments/data_series?segment_id=nope&length=1", nil},
		PermEmailStatus:           {"POST", "/email/status", map[string]any{"email": []string{}, "subscription_state": "x"}},
		PermSubscriptionStatusSet: {"POST", "/subscription/status/set", map[string]any{"subscription_state": "x"}},
		PermCatalogsListItems:     {"GET", "/catalogs/nope/items", nil},
	}
	if len(probes) != 12 || len(PagePermissions) != 12 {
		t.Fatalf("%d probes, %d permissions on the page; want 12", len(probes), len(PagePermissions))
	}
	srv.AddKey("page", PagePermissions...)
	for _, missing := range PagePermissions {
		key := "without-" + missing
		srv.AddKey(key, slices.DeleteFunc(slices.Clone(PagePermissions), func(p string) bool { return p == missing })...)
	}
	for perm, p := range probes {
		resp, body := call(t, p.method, ts.URL+p.path, "page", p.body)
		if resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusNotImplemented {
			t.Errorf("%s %s with the page's key: %d %s", p.method, p.path, resp.StatusCode, body)
		}
		for _, missing := range PagePermissions {
			resp, body := call(t, p.method, ts.URL+p.path, "without-"+missing, p.body)
			if denied := resp.StatusCode == http.StatusForbidden; denied != (missing == perm) {
				t.Errorf("%s %s with a key without %s: %d %s", p.method, p.path, missing, resp.StatusCode, body)
			}
		}
	}
}

// TestWriteEndpointsRefuseInvalidInput: the writes answer Braze's 400 for
// what they cannot apply, and apply valid input (track_test.go shows what
// it changes).
func TestWriteEndpointsRefuseInvalidInput(t *testing.T) {
	_, ts := start(t, Config{Gen: gen.New(1, 50)})
	for _, tc := range []struct {
		path   string
		body   string
		status int
		want   string
	}{
		{"/users/track", `{}`, 400, `"message":"Valid data must be provided in the 'attributes', 'events', or 'purchases' fields.","errors":[]`},
		{"/users/track", `{"attributes":[{"first_name":"A"}]}`, 400, `"errors":[{"type":"'external_id', 'braze_id', 'user_alias', 'email' or 'phone' is required","input_array":"attributes","index":0}]`},
		{"/users/track", `{"attributes":[` + strings.Repeat(`{"external_id":"a"},`, 75) + `{"external_id":"b"}]}`, 400, "Max Input Length Exceeded"},
		{"/users/track", `{"attributes":[{"external_id":"a","first_name":"A"}]}`, 201, `"attributes_processed":1`},
		{"/email/status", `{"email":"a@example.com","subscription_state":"maybe"}`, 400, "Invalid subscription_state"},
		{"/email/status", `{"subscription_state":"subscribed"}`, 400, "Missing email"},
		{"/email/status", `{"email":["a@example.com"],"subscription_state":"opted_in"}`, 201, `"message":"success"`},
		{"/subscription/status/set", `{"subscription_state":"subscribed","external_id":["a"]}`, 400, "Missing subscription_group_id"},
		{"/subscription/status/set", `{"subscription_group_id":"g","subscription_state":"subscribed","email":["a@x.io"],"phone":["+15551234567"]}`, 400, "not both"},
		{"/subscription/status/set", `{"subscription_group_id":"g","subscription_state":"subscribed","external_id":["a"]}`, 201, `"message":"success"`},
	} {
		resp, body := call(t, "POST", ts.URL+tc.path, testKey, tc.body)
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.want) {
			t.Errorf("POST %s %.80s: %d %s; want %d with %s", tc.path, tc.body, resp.StatusCode, body, tc.status, tc.want)
		}
	}
}

// TestReadEndpoints: the data series of known ids, the Canvas list (the
// live ones) and the missing catalog.
func TestReadEndpoints(t *testing.T) {
	_, ts := start(t, Config{Gen: gen.New(1, 50)})
	campaign := campaignCatalog()[0].id
	resp, body := call(t, "GET", ts.URL+"/campaigns/data_series?campaign_id="+campaign+"&length=3&ending_at=2026-01-03T00:00:00Z", testKey, nil)
	var series struct {
		Message string           `json:"message"`
		Data    []map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &series); resp.StatusCode != 200 || err != nil || len(series.Data) != 3 || series.Data[0]["time"] != "2026-01-01" {
		t.Errorf("campaign data series: %d %s", resp.StatusCode, body)
	}
	resp, body = call(t, "GET", ts.URL+"/segments/data_series?segment_id="+AllUsersSegmentID+"&length=1", testKey, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"size":50`) {
		t.Errorf("All Users data series: %d %s", resp.StatusCode, body)
	}
	for path, want := range map[string]string{
		"/campaigns/data_series?campaign_id=" + campaign + "&length=101": "400 Invalid length",
		"/campaigns/data_series?length=1":                                "400 Missing campaign_id",
		"/canvas/data_series?canvas_id=x&length=1":                       "400 Invalid canvas_id",
		"/canvas/list":          `200 {"canvases":[{"id":"fa0332b8-6b21-4cec-9e9f-498d166d81d7"`,
		"/catalogs/shoes/items": `404 {"errors":[{"id":"catalog-not-found"`,
	} {
		resp, body := call(t, "GET", ts.URL+path, testKey, nil)
		status, rest, _ := strings.Cut(want, " ")
		if got := resp.Status[:3]; got != status || !strings.Contains(string(body), rest) {
			t.Errorf("GET %s: %d %s; want %s", path, resp.StatusCode, body, want)
		}
	}
}

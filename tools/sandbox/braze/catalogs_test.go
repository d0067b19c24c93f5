package braze

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/tajo-sync/tajo/tools/sandbox/gen"
)

// TestCatalogPaging: 120 items come in pages of 50 linked by the Link
// header's cursors (no prev on the first page, no next on the last); a
// bad cursor is 400 invalid-cursor, an unknown catalog 404.
func TestCatalogPaging(t *testing.T) {
	s, ts := start(t, Config{Gen: gen.New(1, 10)})
	if err := s.PutCatalog("shoes", GenerateItems("shoe", 120, 1)); err != nil {
		t.Fatal(err)
	}
	resp, body := call(t, "GET", ts.URL+"/catalogs", testKey, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"name":"shoes","num_items":120`) {
		t.Fatalf("GET /catalogs: %d %s", resp.StatusCode, body)
	}
	var ids []string
	next := "/catalogs/shoes/items"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("more than 3 pages for 120 items")
		}
		resp, body := call(t, "GET", ts.URL+next, testKey, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", next, resp.StatusCode, body)
		}
		var page struct{ Items []map[string]any }
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			ids = append(ids, it["id"].(string))
		}
		link := resp.Header.Get("Link")
		if (pages == 0) == strings.Contains(link, `rel="prev"`) {
			t.Errorf("page %d: Link %q (prev only after the first page)", pages, link)
		}
		next = ""
		for _, part := range strings.Split(link, ",") {
			if strings.Contains(part, `rel="next"`) {
				next = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(strings.Split(part, ";")[0]), "<"), ">")
			}
		}
	}
	if len(ids) != 120 || ids[0] != "shoe-000001" || ids[119] != "shoe-000120" {
		t.Errorf("read %d items, %v...%v", len(ids), ids[:1], ids[len(ids)-1:])
	}
	for path, want := range map[string]string{
		"/catalogs/shoes/items?cursor=bad": `400 {"errors":[{"id":"invalid-cursor"`,
		"/catalogs/boots/items":            `404 {"errors":[{"id":"catalog-not-found"`,
	} {
		resp, body := call(t, "GET", ts.URL+path, testKey, nil)
		status, rest, _ := strings.Cut(want, " ")
		if resp.Status[:3] != status || !strings.Contains(string(body), rest) {
			t.Errorf("GET %s: %d %s; want %s", path, resp.StatusCode, body, want)
		}
	}
	// A catalog of 50 items or fewer has no Link header.
	_ = s.PutCatalog("small", GenerateItems("s", 50, 1))
	if resp, _ := call(t, "GET", ts.URL+"/catalogs/small/items", testKey, nil); resp.Header.Get("Link") != "" {
		t.Errorf("50 items: Link %q", resp.Header.Get("Link"))
	}
}

// TestCatalogBudget: the synchronous catalog endpoints share 50 requests a
// minute; the 51st in a minute is refused with 429, and the next minute
// has a new budget.
func TestCatalogBudget(t *testing.T) {
	clk := newClock()
	s, ts := start(t, Config{Gen: gen.New(1, 10), RateLimit: true, Now: clk.Now})
	_ = s.PutCatalog("shoes", GenerateItems("shoe", 10, 1))
	for i := range 50 {
		path := "/catalogs/shoes/items"
		if i%2 == 0 {
			path = "/catalogs"
		}
		if resp, body := call(t, "GET", ts.URL+path, testKey, nil); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i+1, resp.StatusCode, body)
		}
	}
	resp, _ := call(t, "GET", ts.URL+"/catalogs/shoes/items", testKey, nil)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("51st request: %d, remaining %q", resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"))
	}
	clk.Advance(time.Minute)
	if resp, _ := call(t, "GET", ts.URL+"/catalogs/shoes/items", testKey, nil); resp.StatusCode != 200 {
		t.Errorf("next minute: %d", resp.StatusCode)
	}
}

// TestCatalogAndAnalyticsContract checks the requests of the catalog and
// analytics endpoints against Braze's spec (its success bodies are typed
// "object" only: their shapes are checked by the other tests).
func TestCatalogAndAnalyticsContract(t *testing.T) {
	s, ts := start(t, Config{Gen: gen.New(1, 10)})
	_ = s.PutCatalog("shoes", GenerateItems("shoe", 60, 1))
	doc := loadBrazeSpec(t, ts.URL, "/catalogs", "/catalogs/{catalog_name}/items", "/campaigns/details",
		"/campaigns/data_series", "/canvas/list", "/canvas/details", "/canvas/data_series")
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	campaign := campaignCatalog()[0].id
	canvas := canvasCatalog()[0].id
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/catalogs", 200},
		{"/catalogs/shoes/items", 200},
		{"/catalogs/shoes/items?cursor=" + encodeCursor(50), 200},
		{"/campaigns/details?campaign_id=" + campaign, 200},
		{"/campaigns/details?campaign_id=nope", 400},
		{"/campaigns/data_series?campaign_id=" + campaign + "&length=7&ending_at=2026-03-01T23:59:59Z", 200},
		{"/canvas/list?page=0&include_archived=true&sort_direction=asc&last_edit.time[gt]=2020-01-01T00:00:00Z", 200},
		{"/canvas/details?canvas_id=" + canvas, 200},
		{"/canvas/data_series?canvas_id=" + canvas + "&length=14&ending_at=2026-03-01T23:59:59Z&include_variant_breakdown=true&include_step_breakdown=true", 200},
		{"/canvas/data_series?canvas_id=" + canvas + "&length=15", 400},
	} {
		req, _ := http.NewRequest("GET", ts.URL+tc.path, nil)
		req.Header.Set("Authorization", "Bearer "+testKey)
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Fatalf("the spec has no route for GET %s: %v", tc.path, err)
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			t.Errorf("GET %s breaks the spec: %v", tc.path, err)
		}
		if resp, body := call(t, "GET", ts.URL+tc.path, testKey, nil); resp.StatusCode != tc.status || !json.Valid(body) {
			t.Errorf("GET %s: %d %s; want %d", tc.path, resp.StatusCode, body, tc.status)
		}
	}
}

// TestRestatement: a restated day answers other figures, the other days
// the same ones.
func TestRestatement(t *testing.T) {
	clk := newClock()
	s, ts := start(t, Config{Gen: gen.New(1, 10), Now: clk.Now})
	id := campaignCatalog()[0].id
	url := ts.URL + "/campaigns/data_series?campaign_id=" + id + "&length=3&ending_at=2026-03-01T23:59:59Z"
	_, before := call(t, "GET", url, testKey, nil)
	resp, body := call(t, "POST", ts.URL+"/_admin/analytics/restate", "", map[string]string{"kind": "campaign", "id": id, "day": "2026-02-28"})
	if resp.StatusCode != 200 {
		t.Fatalf("restate: %d %s", resp.StatusCode, body)
	}
	_, after := call(t, "GET", url, testKey, nil)
	var b, a struct{ Data []map[string]any }
	_ = json.Unmarshal(before, &b)
	_ = json.Unmarshal(after, &a)
	same := func(i int) bool {
		x, _ := json.Marshal(b.Data[i])
		y, _ := json.Marshal(a.Data[i])
		return string(x) == string(y)
	}
	if !same(0) || same(1) || !same(2) {
		t.Errorf("after restating 2026-02-28:\nbefore %s\nafter  %s", before, after)
	}
	if got := s.AnalyticsDay(KindCampaign, id, time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)); got["time"] != "2026-02-28" {
		t.Errorf("AnalyticsDay: %v", got)
	}
}

package braze

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/tajo-sync/tajo/tools/sandbox/gen"
)

func TestListEventsAndProducts(t *testing.T) {
	clk := newClock()
	s, ts := start(t, Config{RateLimit: true, Now: clk.Now})
	s.AddKey("events-only", PermEventsList)

	resp, body := call(t, "GET", ts.URL+"/events/list", testKey, nil)
	var ev struct {
		Message string   `json:"message"`
		Events  []string `json:"events"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || resp.StatusCode != 200 || ev.Message != "success" {
		t.Fatalf("GET /events/list: %d %s %v", resp.StatusCode, body, err)
	}
	if !slices.IsSorted(ev.Events) || len(ev.Events) == 0 {
		t.Errorf("events %v: want a sorted, non-empty list", ev.Events)
	}
	if got := resp.Header.Get("X-RateLimit-Limit"); got != "1000" {
		t.Errorf("X-RateLimit-Limit %q, want 1000 (the hourly budget shared with /purchases/product_list)", got)
	}

	// The names are those the generated users record.
	g := gen.New(1, 50)
	var pr struct {
		Products []string `json:"products"`
	}
	_, body = call(t, "GET", ts.URL+"/purchases/product_list?page=0", testKey, nil)
	if err := json.Unmarshal(body, &pr); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for i := range g.N() {
		u := g.User(i, 0)
		for field, known := range map[string][]string{"custom_events": ev.Events, "purchases": pr.Products} {
			list, _ := u[field].([]any)
			for _, e := range list {
				name, _ := e.(map[string]any)["name"].(string)
				if !slices.Contains(known, name) {
					t.Fatalf("user %d has %s %q, which the list endpoint does not know", i, field, name)
				}
				seen++
			}
		}
	}

	if seen == 0 {
		t.Fatal("no generated user has custom events or purchases: the check above proved nothing")
	}
	if resp, _ := call(t, "GET", ts.URL+"/purchases/product_list", "events-only", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("product list with an events.list key: %d, want 403", resp.StatusCode)
	}
	if resp, _ := call(t, "GET", ts.URL+"/events/list?page=1", testKey, nil); resp.StatusCode != 200 {
		t.Errorf("page 1: %d", resp.StatusCode)
	}

	// One budget for both: spend the rest of the hour, then both answer 429
	// until the clock hour turns.
	used := 4
	for ; used < eventsPerHour; used++ {
		if resp, _ := call(t, "GET", ts.URL+"/events/list", testKey, nil); resp.StatusCode != 200 {
			t.Fatalf("request %d of %d: %d", used+1, eventsPerHour, resp.StatusCode)
		}
	}
	for _, p := range []string{"/events/list", "/purchases/product_list"} {
		resp, _ := call(t, "GET", ts.URL+p, testKey, nil)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("X-RateLimit-Remaining") != "0" {
			t.Errorf("GET %s over the budget: %d remaining %s, want 429 and 0", p, resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"))
		}
	}
	if resp, _ := call(t, "GET", ts.URL+"/segments/list", testKey, nil); resp.StatusCode != 200 {
		t.Errorf("the default pool must be untouched: /segments/list %d", resp.StatusCode)
	}
	clk.Advance(time.Hour)
	if resp, _ := call(t, "GET", ts.URL+"/events/list", testKey, nil); resp.StatusCode != 200 {
		t.Errorf("next hour: %d", resp.StatusCode)
	}
}

// TestReadEndpointsContract checks the campaign, event and product lists
// against the community OpenAPI spec, as TestContract does for the others.
func TestReadEndpointsContract(t *testing.T) {
	path := findSpec(t, filepath.Join("braze", "openapi-spec.json"))
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		t.Fatalf("loading %s: %v", path, err)
	}
	s, ts := start(t, Config{Gen: gen.New(1, 20)})
	s.AddKey("limited", PermSegmentsList)
	doc.Servers = openapi3.Servers{{URL: ts.URL}}
	served := openapi3.NewPaths()
	for _, p := range []string{"/campaigns/list", "/events/list", "/purchases/product_list"} {
		item := doc.Paths.Value(p)
		if item == nil {
			t.Fatalf("the spec no longer describes %s", p)
		}
		served.Set(p, item)
	}
	doc.Paths = served
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("routing the spec: %v", err)
	}
	ctx := context.Background()
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	for _, tc := range []struct {
		path, key string
		status    int
	}{
		{"/campaigns/list?page=0&include_archived=true&sort_direction=desc", testKey, 200},
		{"/campaigns/list", "limited", 403},
		{"/events/list?page=0", testKey, 200},
		{"/events/list", "", 401},
		{"/purchases/product_list?page=1", testKey, 200},
	} {
		t.Run(tc.path+" "+strconv.Itoa(tc.status), func(t *testing.T) {
			newReq := func() *http.Request {
				req, err := http.NewRequest("GET", ts.URL+tc.path, nil)
				if err != nil {
					t.Fatal(err)
				}
				if tc.key != "" {
					req.Header.Set("Authorization", "Bearer "+tc.key)
				}
				return req
			}
			route, params, err := router.FindRoute(newReq())
			if err != nil {
				t.Fatalf("the spec has no route for %s: %v", tc.path, err)
			}
			in := &openapi3filter.RequestValidationInput{Request: newReq(), PathParams: params, Route: route, Options: opts}
			if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
				t.Fatalf("the request breaks the spec: %v", err)
			}
			resp, body := call(t, "GET", ts.URL+tc.path, tc.key, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			validateResponse(ctx, t, in, resp, body)
		})
	}
}

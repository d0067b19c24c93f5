package braze

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/tajo-sync/tajo/tools/sandbox/gen"
)

// findSpec walks up from the working directory to the shared/specs directory
// that sits beside the repository (../../../../shared/specs from here).
func findSpec(t *testing.T, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "specs", rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skipf("vendor specs not found at ../shared/specs/%s above %s: contract test skipped", rel, dir)
		}
		dir = parent
	}
}

// TestContract checks the simulator's requests and answers against the
// community OpenAPI spec of Braze.
//
// Where the spec is looser than Braze's docs, the docs win and the simulator
// is stricter than the spec: fields_to_export is required by
// /users/export/ids (the spec says optional, defaulting to all fields), and
// the spec types success bodies only as "object", so the shapes
// (message/segments, object_prefix/url, users/invalid_user_ids) are checked
// by the other tests, not here.
func TestContract(t *testing.T) {
	path := findSpec(t, filepath.Join("braze", "openapi-spec.json"))
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		t.Fatalf("loading %s: %v", path, err)
	}
	s, ts := start(t, Config{Gen: gen.New(1, 200), ExportDelay: time.Hour})
	s.AddKey("limited", PermSegmentsList)
	doc.Servers = openapi3.Servers{{URL: ts.URL}}
	// Keep the endpoints the simulator serves: the router validates the whole
	// document, and the spec has invalid examples elsewhere (e.g. date-times
	// under /messages/live_activity/update).
	served := openapi3.NewPaths()
	for _, p := range []string{"/segments/list", "/users/export/segment", "/users/export/ids"} {
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

	tests := []struct {
		name         string
		method, path string
		key          string
		body         string
		status       int
		specRejects  bool // the request breaks the spec too
	}{
		{"list segments", "GET", "/segments/list?page=0", testKey, "", 200, false},
		{"list segments desc", "GET", "/segments/list?page=1&sort_direction=desc", testKey, "", 200, false},
		{"page not an integer", "GET", "/segments/list?page=abc", testKey, "", 400, true},
		{"no key", "GET", "/segments/list", "", "", 401, false},
		{"export segment", "POST", "/users/export/segment", testKey,
			`{"segment_id":"` + AllUsersSegmentID + `","fields_to_export":["email","phone"],"output_format":"zip"}`, 201, false},
		{"export running", "POST", "/users/export/segment", testKey, `{"segment_id":"` + AllUsersSegmentID + `","fields_to_export":["email"]}`, 429, false},
		// Required since December 2021 (the spec's own description), though its
		// schema marks nothing required.
		{"export without fields_to_export", "POST", "/users/export/segment", testKey, `{"segment_id":"` + AllUsersSegmentID + `"}`, 400, false},
		{"export without segment", "POST", "/users/export/segment", testKey, `{"fields_to_export":["email"]}`, 400, false},
		{"export segment not a string", "POST", "/users/export/segment", testKey, `{"segment_id":7}`, 400, true},
		{"key lacking permission", "POST", "/users/export/segment", "limited", `{"segment_id":"` + AllUsersSegmentID + `","fields_to_export":["email"]}`, 403, false},
		{"export ids", "POST", "/users/export/ids", testKey,
			`{"external_ids":["cust_0000001","nobody"],"fields_to_export":["email","custom_attributes"]}`, 201, false},
		{"export ids by email", "POST", "/users/export/ids", testKey,
			`{"email_address":"someone@example.com","fields_to_export":["email"]}`, 201, false},
		{"export ids without fields", "POST", "/users/export/ids", testKey, `{"external_ids":["cust_0000001"]}`, 400, false},
	}
	ctx := context.Background()
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			newReq := func() *http.Request {
				var body io.Reader
				if tt.body != "" {
					body = bytes.NewReader([]byte(tt.body))
				}
				req, err := http.NewRequest(tt.method, ts.URL+tt.path, body)
				if err != nil {
					t.Fatal(err)
				}
				if tt.key != "" {
					req.Header.Set("Authorization", "Bearer "+tt.key)
				}
				if tt.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				return req
			}
			route, params, err := router.FindRoute(newReq())
			if err != nil {
				t.Fatalf("the spec has no route for %s %s: %v", tt.method, tt.path, err)
			}
			in := &openapi3filter.RequestValidationInput{Request: newReq(), PathParams: params, Route: route, Options: opts}
			reqErr := openapi3filter.ValidateRequest(ctx, in)
			if (reqErr != nil) != tt.specRejects {
				t.Fatalf("spec validation of the request: %v (want rejection: %v)", reqErr, tt.specRejects)
			}
			resp, err := http.DefaultClient.Do(newReq())
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, data)
			}
			validateResponse(ctx, t, in, resp, data)
		})
	}
}

func validateResponse(ctx context.Context, t *testing.T, in *openapi3filter.RequestValidationInput, resp *http.Response, data []byte) {
	t.Helper()
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(data)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Fatalf("response breaks the spec: %v\n%s", err, data)
	}
	if !json.Valid(data) {
		t.Fatalf("response is not JSON: %s", data)
	}
}

// TestContractUnauthorizedCarriesRateLimit: Braze sends X-RateLimit-* on
// every answer, 401s included (issue 15, item 9). The 401 body must match
// the spec's Error, and a request without a valid key spends nothing from
// the workspace's budget.
func TestContractUnauthorizedCarriesRateLimit(t *testing.T) {
	clk := newClock()
	_, ts := start(t, Config{Gen: gen.New(1, 10), Now: clk.Now, ExportDelay: time.Hour})
	paths := []string{"/segments/list", "/users/export/segment", "/users/export/ids", "/campaigns/list"}
	doc := loadBrazeSpec(t, ts.URL, paths...)
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/segments/list", ""},
		{"POST", "/users/export/segment", `{"segment_id":"` + AllUsersSegmentID + `","fields_to_export":["email"]}`},
		{"POST", "/users/export/ids", `{"external_ids":["cust_0000001"],"fields_to_export":["email"]}`},
		{"GET", "/campaigns/list", ""},
	} {
		for _, key := range []string{"", "not-a-key"} {
			t.Run(tc.path+" key="+key, func(t *testing.T) {
				newReq := func(key string) *http.Request {
					var body io.Reader
					if tc.body != "" {
						body = bytes.NewReader([]byte(tc.body))
					}
					req, err := http.NewRequest(tc.method, ts.URL+tc.path, body)
					if err != nil {
						t.Fatal(err)
					}
					if key != "" {
						req.Header.Set("Authorization", "Bearer "+key)
					}
					req.Header.Set("Content-Type", "application/json")
					return req
				}
				route, params, err := router.FindRoute(newReq(key))
				if err != nil {
					t.Fatal(err)
				}
				in := &openapi3filter.RequestValidationInput{Request: newReq(key), PathParams: params, Route: route,
					Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
				resp, err := http.DefaultClient.Do(newReq(key))
				if err != nil {
					t.Fatal(err)
				}
				data := readAll(t, resp)
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("status %d, want 401: %s", resp.StatusCode, data)
				}
				validateResponse(context.Background(), t, in, resp, data)
				limit, _ := strconv.Atoi(resp.Header.Get("X-RateLimit-Limit"))
				remaining, errR := strconv.Atoi(resp.Header.Get("X-RateLimit-Remaining"))
				reset, _ := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
				if limit <= 0 || errR != nil || reset <= clk.Now().Unix() {
					t.Fatalf("401 headers: limit %q remaining %q reset %q",
						resp.Header.Get("X-RateLimit-Limit"), resp.Header.Get("X-RateLimit-Remaining"), resp.Header.Get("X-RateLimit-Reset"))
				}
				ok, err := http.DefaultClient.Do(newReq(testKey))
				if err != nil {
					t.Fatal(err)
				}
				readAll(t, ok)
				if got := ok.Header.Get("X-RateLimit-Remaining"); got != strconv.Itoa(remaining-1) {
					t.Fatalf("after a 401 showing %d remaining, a good request leaves %s: the 401 spent from the budget", remaining, got)
				}
				clk.Advance(time.Hour) // the next case starts with its export slot free
			})
		}
	}
}

// TestContractExportLinesCarryBrazeID: the spec's field table for
// /users/export/segment describes braze_id as the identifier "set by Braze
// for this user", and Braze sends it on every line; the default sandbox data
// must too (issue 15, item 8: the broken lines are gen.WithMalformedLines,
// for tests that want them).
func TestContractExportLinesCarryBrazeID(t *testing.T) {
	doc := loadBrazeSpec(t, "http://unused", "/users/export/segment")
	if desc := doc.Paths.Value("/users/export/segment").Post.Description; !strings.Contains(desc, "| `braze_id` |") {
		t.Fatal("the spec's export field table no longer names braze_id")
	}
	g := gen.New(11, 4001)
	_, ts := start(t, Config{Gen: g, ExportDelay: -1})
	e := requestExport(t, ts, map[string]any{"segment_id": AllUsersSegmentID, "fields_to_export": []string{"email"}})
	lines, _ := download(t, e.URL)
	if len(lines) != g.N() {
		t.Fatalf("%d lines, want %d", len(lines), g.N())
	}
	for i, l := range lines {
		var u map[string]any
		if err := json.Unmarshal([]byte(l), &u); err != nil || u["braze_id"] != g.BrazeID(i) {
			t.Fatalf("line %d is not an object with its braze_id (%v): %s", i, err, l)
		}
	}
}

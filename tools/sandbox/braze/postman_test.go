package braze

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/tajo-sync/tajo/tools/sandbox/gen"
)

// postmanRequest is the part of a Postman collection item the tests replay.
type postmanRequest struct {
	Method string `json:"method"`
	URL    struct {
		Raw string `json:"raw"`
	} `json:"url"`
}

type postmanItem struct {
	Name    string          `json:"name"`
	Item    []postmanItem   `json:"item"`
	Request *postmanRequest `json:"request"`
}

// postmanURL returns the raw URL of the request Braze's Postman collection
// makes to path, with {{instance_url}} pointing at base. The URL is kept as
// Braze wrote it, unencoded, since that is what users paste.
func postmanURL(t *testing.T, path, base string) (method, rawURL string) {
	t.Helper()
	raw, err := os.ReadFile(findSpec(t, filepath.Join("braze", "postman-collection.json")))
	if err != nil {
		t.Fatal(err)
	}
	var coll struct {
		Item []postmanItem `json:"item"`
	}
	if err := json.Unmarshal(raw, &coll); err != nil {
		t.Fatalf("parsing the Postman collection: %v", err)
	}
	var walk func([]postmanItem) *postmanRequest
	walk = func(items []postmanItem) *postmanRequest {
		for _, it := range items {
			if r := it.Request; r != nil {
				u := strings.TrimPrefix(r.URL.Raw, "https://{{instance_url}}")
				if p, _, _ := strings.Cut(u, "?"); p == path {
					return r
				}
			}
			if r := walk(it.Item); r != nil {
				return r
			}
		}
		return nil
	}
	r := walk(coll.Item)
	if r == nil {
		t.Fatalf("the Postman collection has no request to %s", path)
	}
	return r.Method, strings.Replace(r.URL.Raw, "https://{{instance_url}}", base, 1)
}

// TestContractPostmanCampaignsList replays Braze's documented
// campaigns/list request verbatim: its last_edit.time[gt] is
// 2020-06-28T23:59:59-5:00, an offset with a one-digit hour (issue 15,
// item 1). It must be read as 04:59:59 UTC the next day, so the filter
// keeps exactly the campaigns edited after it.
func TestContractPostmanCampaignsList(t *testing.T) {
	_, ts := start(t, Config{Gen: gen.New(1, 10)})
	method, url := postmanURL(t, "/campaigns/list", ts.URL)
	if !strings.Contains(url, "-5:00") {
		t.Fatalf("the Postman example changed (%s): this test replays its one-digit offset", url)
	}
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	doc := loadBrazeSpec(t, ts.URL, "/campaigns/list")
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatal(err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	if err := openapi3filter.ValidateRequest(t.Context(), in); err != nil {
		t.Fatalf("the spec refuses its own example: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Message   string         `json:"message"`
		Campaigns []campaignJSON `json:"campaigns"`
	}
	data := readAll(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, data)
	}
	validateResponse(t.Context(), t, in, resp, data)
	if err := json.Unmarshal(data, &body); err != nil {
		t.Fatal(err)
	}
	cut := time.Date(2020, 6, 29, 4, 59, 59, 0, time.UTC)
	want := 0
	for _, c := range campaignCatalog() {
		if !c.archived && c.lastEdited.After(cut) {
			want++
		}
	}
	if len(body.Campaigns) != want {
		t.Fatalf("%d campaigns edited after %s, want %d", len(body.Campaigns), cut, want)
	}
}

// TestParseEditTime: the forms of ISO 8601 Braze documents, and what it
// does not.
func TestParseEditTime(t *testing.T) {
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"2020-06-28T23:59:59-5:00", utc("2020-06-29T04:59:59Z")},
		{"2020-06-28T23:59:59-05:00", utc("2020-06-29T04:59:59Z")},
		{"2020-06-28T23:59:59+0530", utc("2020-06-28T18:29:59Z")},
		{"2020-06-28T23:59:59 02:00", utc("2020-06-28T21:59:59Z")}, // an unencoded +
		{"2020-06-28T23:59:59+2", utc("2020-06-28T21:59:59Z")},
		{"2020-06-28T23:59:59Z", utc("2020-06-28T23:59:59Z")},
		{"2020-06-28T23:59:59.250Z", utc("2020-06-28T23:59:59.25Z")},
		{"2020-06-28T23:59:59", utc("2020-06-28T23:59:59Z")},
	} {
		got, err := parseEditTime(tc.in)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseEditTime(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"yesterday", "2020-06-28", "2020-06-28T23:59:59-5:0",
		"2020-06-28T23:59:59+25:00", "2020-06-28T23:59:59-05:60", "2020-06-28T23:59:59X", "2020-06-28T23:59:59+-5:00"} {
		if got, err := parseEditTime(bad); err == nil {
			t.Errorf("parseEditTime(%q) = %v, want an error", bad, got)
		}
	}
}

// loadBrazeSpec loads the community OpenAPI spec with only the given paths
// (elsewhere it has invalid examples a router refuses), served at base.
func loadBrazeSpec(t *testing.T, base string, paths ...string) *openapi3.T {
	t.Helper()
	path := findSpec(t, filepath.Join("braze", "openapi-spec.json"))
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		t.Fatalf("loading %s: %v", path, err)
	}
	doc.Servers = openapi3.Servers{{URL: base}}
	served := openapi3.NewPaths()
	for _, p := range paths {
		item := doc.Paths.Value(p)
		if item == nil {
			t.Fatalf("the spec no longer describes %s", p)
		}
		served.Set(p, item)
	}
	doc.Paths = served
	return doc
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

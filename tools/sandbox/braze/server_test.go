package braze

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/tools/sandbox/gen"
)

const testKey = "test-braze-key"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 30, 0, time.UTC)} }

func start(t testing.TB, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	s := New(cfg)
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	return s, ts
}

// call makes a request and returns the response with its body read.
func call(t testing.TB, method, url, key string, body any) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

func decode[T any](t testing.TB, data []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
	return v
}

// wantError checks Braze's error shape and status.
func wantError(t *testing.T, resp *http.Response, data []byte, status int, msgPart string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, data)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	var e struct {
		Message string
		Errors  []string
	}
	if err := json.Unmarshal(data, &e); err != nil || e.Errors == nil || !strings.Contains(e.Message, msgPart) {
		t.Fatalf("error body %s (err %v), want message containing %q and an errors array", data, err, msgPart)
	}
}

func TestAuth(t *testing.T) {
	s, ts := start(t, Config{Gen: gen.New(1, 100)})
	s.AddKey("lists-only", PermSegmentsList)
	s.AddKey("no-perms")
	tests := []struct {
		name   string
		key    string
		path   string
		status int
		msg    string
	}{
		{"no key", "", "/segments/list", 401, "Invalid API key"},
		{"wrong key", "nope", "/segments/list", 401, "Invalid API key"},
		{"key lacking permission", "no-perms", "/segments/list", 403, "Access Denied"},
		{"key with permission", "lists-only", "/segments/list", 200, ""},
		{"limited key elsewhere", "lists-only", "/users/export/ids", 403, "Access Denied"},
		{"main key", testKey, "/segments/list", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := http.MethodGet
			var body any
			if strings.HasPrefix(tt.path, "/users") {
				method, body = http.MethodPost, map[string]any{"external_ids": []string{"cust_0000001"}, "fields_to_export": []string{"email"}}
			}
			resp, data := call(t, method, ts.URL+tt.path, tt.key, body)
			if tt.status != 200 {
				wantError(t, resp, data, tt.status, tt.msg)
			} else if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, data)
			}
			if strings.Contains(string(data), "nope") {
				t.Errorf("error echoes the key: %s", data)
			}
			// Braze sends the headers on every answer, 401s included (issue 15, item 9).
			for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
				if resp.Header.Get(h) == "" {
					t.Errorf("no %s on a %d", h, tt.status)
				}
			}
		})
	}
}

type segmentsPage struct {
	Message  string
	Segments []struct {
		ID                       string
		Name                     string
		AnalyticsTrackingEnabled *bool `json:"analytics_tracking_enabled"`
		Tags                     []string
	}
}

func TestSegmentsPaging(t *testing.T) {
	_, ts := start(t, Config{Gen: gen.New(1, 100)})
	ids := map[string]bool{}
	var sizes []int
	for page := 0; ; page++ {
		resp, data := call(t, "GET", ts.URL+"/segments/list?page="+strconv.Itoa(page), testKey, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("page %d: %d %s", page, resp.StatusCode, data)
		}
		p := decode[segmentsPage](t, data)
		if p.Message != "success" {
			t.Fatalf("message %q", p.Message)
		}
		sizes = append(sizes, len(p.Segments))
		for _, sg := range p.Segments {
			if ids[sg.ID] || sg.Name == "" || sg.AnalyticsTrackingEnabled == nil || sg.Tags == nil {
				t.Fatalf("bad or repeated segment %+v", sg)
			}
			ids[sg.ID] = true
		}
		if len(p.Segments) < segmentsPerPage {
			break
		}
	}
	if len(sizes) != 2 || sizes[0] != 100 || sizes[1] == 0 {
		t.Errorf("page sizes %v, want [100 n>0]", sizes)
	}
	if !ids[AllUsersSegmentID] {
		t.Error("All Users segment not listed")
	}
	_, data := call(t, "GET", ts.URL+"/segments/list?sort_direction=desc", testKey, nil)
	if first := decode[segmentsPage](t, data).Segments[0]; first.ID == AllUsersSegmentID {
		t.Error("desc order starts with the oldest segment")
	}
	for _, bad := range []string{"-1", "abc", "1.5"} {
		resp, data := call(t, "GET", ts.URL+"/segments/list?page="+bad, testKey, nil)
		wantError(t, resp, data, 400, "Invalid page")
	}
}

type exportResponse struct {
	Message      string
	ObjectPrefix string `json:"object_prefix"`
	URL          string
}

func requestExport(t testing.TB, ts *httptest.Server, body any) exportResponse {
	t.Helper()
	resp, data := call(t, "POST", ts.URL+"/users/export/segment", testKey, body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("export: %d %s", resp.StatusCode, data)
	}
	e := decode[exportResponse](t, data)
	if e.Message != "success" || e.ObjectPrefix == "" || !strings.HasPrefix(e.URL, ts.URL+"/") {
		t.Fatalf("export response %s", data)
	}
	return e
}

// download fetches an export and returns its lines in order, with the
// number of files in the ZIP.
func download(t *testing.T, url string) (lines []string, files int) {
	t.Helper()
	resp, data := call(t, "GET", url, "", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("download: %d %s %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), data)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".txt") {
			t.Errorf("entry %q is not a .txt", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(rc)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		rc.Close()
	}
	return lines, len(zr.File)
}

func TestExportLifecycle(t *testing.T) {
	const n = 12001
	clk := newClock()
	g := gen.New(3, n, gen.WithMalformedLines())
	s, ts := start(t, Config{Gen: g, Now: clk.Now, ExportDelay: time.Second})

	e := requestExport(t, ts, map[string]any{"segment_id": AllUsersSegmentID, "fields_to_export": gen.Fields()})
	resp, data := call(t, "GET", e.URL, "", nil)
	if resp.StatusCode != 403 || !strings.Contains(string(data), "<Code>AccessDenied</Code>") {
		t.Fatalf("before ready: %d %s", resp.StatusCode, data)
	}
	resp, data = call(t, "POST", ts.URL+"/users/export/segment", testKey, map[string]any{"segment_id": AllUsersSegmentID, "fields_to_export": gen.Fields()})
	wantError(t, resp, data, 429, "already in progress")

	// Changes made after the request must not show in this export.
	s.Mutate(5, 6)
	clk.Advance(time.Second)
	lines, files := download(t, e.URL)
	if files != 3 {
		t.Errorf("%d files, want 3 (5,000 users each)", files)
	}
	if len(lines) != n {
		t.Fatalf("%d lines, want %d", len(lines), n)
	}
	malformed := 0
	for i, l := range lines {
		if l != string(g.Line(i, 0)) {
			t.Fatalf("line %d differs from the generator's version 0:\n%s\n%s", i, l, g.Line(i, 0))
		}
		if g.Malformed(i, 0) {
			malformed++
		}
	}
	if malformed == 0 || malformed != g.MalformedCount() {
		t.Errorf("%d malformed lines, want %d > 0", malformed, g.MalformedCount())
	}

	// Ready now: a new export of the segment is allowed and sees the changes.
	e2 := requestExport(t, ts, map[string]any{"segment_id": AllUsersSegmentID, "fields_to_export": gen.Fields()})
	clk.Advance(time.Second)
	lines, _ = download(t, e2.URL)
	if lines[5] != string(g.Line(5, 1)) || lines[7] != string(g.Line(7, 0)) {
		t.Error("second export does not show users at their current versions")
	}

	clk.Advance(exportLifetime)
	resp, data = call(t, "GET", e.URL, "", nil)
	if resp.StatusCode != 404 || !strings.Contains(string(data), "NoSuchKey") {
		t.Fatalf("after expiry: %d %s", resp.StatusCode, data)
	}
	if got := s.ExportsStarted(); got != 2 {
		t.Errorf("ExportsStarted = %d, want 2", got)
	}
}

func TestExportSegmentAndFields(t *testing.T) {
	g := gen.New(4, 3000)
	s, ts := start(t, Config{Gen: g, ExportDelay: -1, StoreExports: true})
	segID := s.segments[7].id
	e := requestExport(t, ts, map[string]any{
		"segment_id":                  segID,
		"fields_to_export":            []string{"email", "first_name"},
		"custom_attributes_to_export": []string{"loyalty_points"},
	})
	lines, _ := download(t, e.URL)
	var members []int
	for i := range g.N() {
		if in, _ := s.InSegment(segID, i); in {
			members = append(members, i)
		}
	}
	if len(members) == 0 || len(members) == g.N() || len(lines) != len(members) {
		t.Fatalf("%d lines for a segment of %d of %d users", len(lines), len(members), g.N())
	}
	allowed := map[string]bool{"braze_id": true, "email": true, "first_name": true, "custom_attributes": true}
	for k, l := range lines {
		i := members[k]
		if g.Malformed(i, 0) {
			continue
		}
		m := decode[map[string]any](t, []byte(l))
		for key := range m {
			if !allowed[key] {
				t.Fatalf("user %d: field %q exported: %s", i, key, l)
			}
		}
		ca, _ := m["custom_attributes"].(map[string]any)
		if m["braze_id"] != g.BrazeID(i) || len(ca) != 1 || ca["loyalty_points"] == nil {
			t.Fatalf("user %d: %s", i, l)
		}
	}
}

func TestExportValidation(t *testing.T) {
	_, ts := start(t, Config{Gen: gen.New(1, 10)})
	tests := []struct {
		name string
		body any
		msg  string
	}{
		{"not JSON", "{segment_id:", "Invalid JSON"},
		{"wrong type", map[string]any{"segment_id": 12}, "Invalid JSON"},
		{"no segment", map[string]any{"fields_to_export": []string{"email"}}, "Missing segment_id"},
		{"unknown segment", map[string]any{"segment_id": "nope", "fields_to_export": []string{"email"}}, "Invalid segment_id"},
		{"no fields_to_export", map[string]any{"segment_id": AllUsersSegmentID}, "Missing fields_to_export"},
		{"empty fields_to_export", map[string]any{"segment_id": AllUsersSegmentID, "fields_to_export": []string{}}, "Missing fields_to_export"},
		{"bad callback", map[string]any{"segment_id": AllUsersSegmentID, "fields_to_export": []string{"email"}, "callback_endpoint": "ftp://x"}, "callback_endpoint"},
		{"bad format", map[string]any{"segment_id": AllUsersSegmentID, "fields_to_export": []string{"email"}, "output_format": "csv"}, "output_format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, data := call(t, "POST", ts.URL+"/users/export/segment", testKey, tt.body)
			wantError(t, resp, data, 400, tt.msg)
		})
	}
}

func TestExportCallback(t *testing.T) {
	got := make(chan map[string]any, 1)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		got <- m
	}))
	defer cb.Close()
	_, ts := start(t, Config{Gen: gen.New(1, 10), ExportDelay: 10 * time.Millisecond})
	e := requestExport(t, ts, map[string]any{"segment_id": AllUsersSegmentID, "fields_to_export": []string{"email"}, "callback_endpoint": cb.URL})
	select {
	case m := <-got:
		if m["success"] != true || m["url"] != e.URL {
			t.Fatalf("callback body %v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no callback within 5s")
	}
}

type idsResponse struct {
	Message        string
	Users          []map[string]any
	InvalidUserIDs []string `json:"invalid_user_ids"`
}

func TestExportIDs(t *testing.T) {
	g := gen.New(9, 5000)
	s, ts := start(t, Config{Gen: g})
	var withEmail, withPhone = -1, -1
	for i := 100; i < g.N() && (withEmail < 0 || withPhone < 0); i++ {
		if e, ok := g.Email(i); ok && withEmail < 0 && len(g.IndicesOfEmail(e)) == 1 {
			withEmail = i
		}
		if p, ok := g.Phone(i); ok && withPhone < 0 && len(g.IndicesOfPhone(p)) == 1 {
			withPhone = i
		}
	}
	email, _ := g.Email(withEmail)
	phone, _ := g.Phone(withPhone)
	ext1, _ := g.ExternalID(1)
	ext4, _ := g.ExternalID(4)
	s.Mutate(4)
	tests := []struct {
		name    string
		body    map[string]any
		want    []int
		invalid []string
	}{
		{"external ids", map[string]any{"external_ids": []string{ext1, "nobody", ext4}}, []int{1, 4}, []string{"nobody"}},
		{"braze_id", map[string]any{"braze_id": g.BrazeID(42)}, []int{42}, nil},
		{"email", map[string]any{"email_address": strings.ToUpper(strings.TrimSpace(email))}, []int{withEmail}, nil},
		{"phone", map[string]any{"phone": phone}, []int{withPhone}, nil},
		{"alias", map[string]any{"user_aliases": []map[string]string{{"alias_name": "crm-13", "alias_label": "crm_id"}}}, []int{13}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.body["fields_to_export"] = []string{"braze_id", "first_name"}
			resp, data := call(t, "POST", ts.URL+"/users/export/ids", testKey, tt.body)
			if resp.StatusCode/100 != 2 {
				t.Fatalf("%d %s", resp.StatusCode, data)
			}
			r := decode[idsResponse](t, data)
			if len(r.Users) != len(tt.want) || strings.Join(r.InvalidUserIDs, ",") != strings.Join(tt.invalid, ",") {
				t.Fatalf("got %s", data)
			}
			for k, i := range tt.want {
				u := r.Users[k]
				if len(u) != 2 || u["braze_id"] != g.BrazeID(i) || u["first_name"] != g.User(i, s.Version(i))["first_name"] {
					t.Errorf("user %d: %v", i, u)
				}
			}
		})
	}
	many := make([]string, 51)
	for k := range many {
		many[k], _ = g.ExternalID(k)
	}
	bad := []struct {
		name string
		body map[string]any
		msg  string
	}{
		{"over 50", map[string]any{"external_ids": many, "fields_to_export": []string{"email"}}, "Max Input Length Exceeded"},
		{"no identifier", map[string]any{"fields_to_export": []string{"email"}}, "No user identifier"},
		{"two singles", map[string]any{"braze_id": "x", "phone": "+1", "fields_to_export": []string{"email"}}, "Only one identifier"},
		{"no fields", map[string]any{"external_ids": []string{ext1}}, "fields_to_export"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			resp, data := call(t, "POST", ts.URL+"/users/export/ids", testKey, tt.body)
			wantError(t, resp, data, 400, tt.msg)
		})
	}
}

func TestRateLimits(t *testing.T) {
	clk := newClock() // 12:00:30
	idsBody := map[string]any{"braze_id": "x", "fields_to_export": []string{"email"}}
	tests := []struct {
		name      string
		limits    Limits
		method    string
		path      string
		body      any
		limit     int
		nextReset time.Time
	}{
		{"export ids per minute", Limits{ExportIDsPerMinute: 3}, "POST", "/users/export/ids", idsBody, 3,
			time.Date(2026, 3, 1, 12, 1, 0, 0, time.UTC)},
		{"hourly pool", Limits{DefaultPerHour: 2}, "GET", "/segments/list", nil, 2,
			time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: clk.t}
			_, ts := start(t, Config{Gen: gen.New(1, 10), RateLimit: true, Limits: tt.limits, Now: clk.Now})
			for k := range tt.limit {
				resp, data := call(t, tt.method, ts.URL+tt.path, testKey, tt.body)
				if resp.StatusCode/100 != 2 {
					t.Fatalf("request %d: %d %s", k, resp.StatusCode, data)
				}
				h := resp.Header
				if h.Get("X-RateLimit-Limit") != strconv.Itoa(tt.limit) ||
					h.Get("X-RateLimit-Remaining") != strconv.Itoa(tt.limit-k-1) ||
					h.Get("X-RateLimit-Reset") != strconv.FormatInt(tt.nextReset.Unix(), 10) {
					t.Fatalf("request %d headers %v", k, h)
				}
			}
			resp, data := call(t, tt.method, ts.URL+tt.path, testKey, tt.body)
			wantError(t, resp, data, 429, "rate limit")
			if resp.Header.Get("X-RateLimit-Remaining") != "0" {
				t.Errorf("429 without X-RateLimit-Remaining: 0")
			}
			clk.Advance(tt.nextReset.Sub(clk.Now()))
			if resp, data := call(t, tt.method, ts.URL+tt.path, testKey, tt.body); resp.StatusCode/100 != 2 {
				t.Fatalf("after reset: %d %s", resp.StatusCode, data)
			}
		})
	}
	t.Run("disabled", func(t *testing.T) {
		_, ts := start(t, Config{Gen: gen.New(1, 10), Limits: Limits{DefaultPerHour: 1}})
		for range 3 {
			resp, data := call(t, "GET", ts.URL+"/segments/list", testKey, nil)
			if resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Limit") != "1" {
				t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, data)
			}
		}
	})
}

func TestAdmin(t *testing.T) {
	g := gen.New(2, 4000, gen.WithMalformedLines())
	s, ts := start(t, Config{Gen: g})
	type mutateResp struct {
		Mutated []struct {
			Index   int
			BrazeID string `json:"braze_id"`
			Version int
		}
	}
	var first []int
	for round := 1; round <= 2; round++ {
		resp, data := call(t, "POST", ts.URL+"/_admin/users/mutate", "", map[string]any{"count": 50, "seed": 7})
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, data)
		}
		m := decode[mutateResp](t, data)
		seen := map[int]bool{}
		var got []int
		for _, u := range m.Mutated {
			if seen[u.Index] || g.Malformed(u.Index, 0) || u.BrazeID != g.BrazeID(u.Index) || u.Version != round {
				t.Fatalf("round %d: bad mutation %+v", round, u)
			}
			seen[u.Index] = true
			got = append(got, u.Index)
		}
		if len(got) != 50 {
			t.Fatalf("%d users mutated, want 50", len(got))
		}
		if round == 1 {
			first = got
		} else if !slices.Equal(first, got) {
			t.Fatalf("same seed chose other users: %v vs %v", first, got)
		}
	}
	resp, data := call(t, "POST", ts.URL+"/_admin/users/mutate", "", map[string]any{"indices": []int{1, 2, 2}})
	wantV1 := 1
	if slices.Contains(first, 1) {
		wantV1 += 2
	}
	if resp.StatusCode != 200 || s.Version(1) != wantV1 {
		t.Fatalf("%d %s version(1)=%d", resp.StatusCode, data, s.Version(1))
	}
	resp, data = call(t, "POST", ts.URL+"/_admin/users/mutate", "", map[string]any{"indices": []int{4000}})
	wantError(t, resp, data, 400, "out of range")

	call(t, "GET", ts.URL+"/segments/list", testKey, nil)
	call(t, "GET", ts.URL+"/segments/list", "bad", nil)
	resp, data = call(t, "GET", ts.URL+"/_admin/state", "", nil)
	state := decode[struct {
		Users, Malformed int
		Requests         map[string]int
	}](t, data)
	if resp.StatusCode != 200 || state.Users != 4000 || state.Malformed != g.MalformedCount() ||
		state.Requests["GET /segments/list 200"] != 1 || state.Requests["GET /segments/list 401"] != 1 ||
		state.Requests["POST /_admin/users/mutate 200"] != 3 {
		t.Fatalf("state %s", data)
	}
}

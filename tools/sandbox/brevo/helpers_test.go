package brevo

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

const testKey = "xkeysib-test"

// fakeClock is an injectable clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type harness struct {
	t     *testing.T
	srv   *Server
	url   string
	clock *fakeClock
}

// newHarness serves a simulator over real HTTP on 127.0.0.1 with a fake clock.
func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	clock := newFakeClock()
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	srv := New(cfg)
	return &harness{t: t, srv: srv, url: newTestHTTP(t, srv), clock: clock}
}

// newTestHTTP serves h on a random 127.0.0.1 port until the test ends.
func newTestHTTP(t *testing.T, h http.Handler) string {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}

type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// do sends body (a string is sent verbatim, anything else as JSON) with the test key.
func (h *harness) do(method, path string, body any) response {
	h.t.Helper()
	return h.doKey(testKey, method, path, body)
}

func (h *harness) doKey(key, method, path string, body any) response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			h.t.Fatalf("encoding request: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	if err != nil {
		h.t.Fatalf("building request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("api-key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("reading %s %s: %v", method, path, err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			h.t.Fatalf("%s %s: body is not a JSON object: %q", method, path, raw)
		}
	}
	return r
}

// expect fails unless the response has the status and, when code is set, that error code.
func (r response) expect(t *testing.T, status int, code string) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.raw)
	}
	if code != "" && r.body["code"] != code {
		t.Fatalf("code %v, want %s; body %s", r.body["code"], code, r.raw)
	}
	return r
}

func (r response) duplicates() []any {
	md, _ := r.body["metadata"].(map[string]any)
	ids, _ := md["duplicate_identifiers"].([]any)
	return ids
}

// createAttr creates a normal attribute and fails the test otherwise.
func (h *harness) createAttr(name, typ string) {
	h.t.Helper()
	h.do("POST", "/v3/contacts/attributes/normal/"+name, map[string]any{"type": typ}).expect(h.t, 201, "")
}

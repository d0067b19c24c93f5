package brevo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const testKey = "sk-test-secret-0123456789"

// recorder collects the Calls a client reports.
type recorder struct {
	mu    sync.Mutex
	calls []Call
}

func (r *recorder) observe(c Call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
}

func (r *recorder) all() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

// newTestClient serves h on 127.0.0.1 and returns a client for it. Every
// request is checked for the bearer key, so a handler sees only
// authenticated calls.
func newTestClient(t *testing.T, h http.HandlerFunc, mutate ...func(*Config)) (*Client, *recorder) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("api-key"); got != testKey {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"code":"unauthorized","message":"Key not found"}`))
			return
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	rec := &recorder{}
	cfg := Config{BaseURL: srv.URL, APIKey: testKey, Observer: rec.observe, Timeout: 5 * time.Second}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, rec
}

// fakeClock drives the client's rate-limit waits without sleeping.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	waited []time.Duration
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Wait(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waited = append(f.waited, d)
	f.now = f.now.Add(d)
	return ctx.Err()
}

func (f *fakeClock) install(c *Client) { c.now, c.wait = f.Now, f.Wait }

func assertNoKey(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), testKey) {
		t.Fatalf("error reveals the API key: %v", err)
	}
}

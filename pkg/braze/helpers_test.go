package braze

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

const testKey = "sk-test-secret-0123456789"

// newTestClient serves h on 127.0.0.1 and returns a client for it. Every
// request is checked for the bearer key, so a handler sees only
// authenticated calls.
func newTestClient(t *testing.T, h http.HandlerFunc, mutate ...func(*Config)) (*Client, *restcall.Recorder[Call]) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"Invalid API key"}`))
			return
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	rec := &restcall.Recorder[Call]{}
	cfg := Config{BaseURL: srv.URL, APIKey: testKey, Observer: rec.Observe, Timeout: 5 * time.Second}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, rec
}

// installClock drives c's rate-limit waits with clock, without sleeping.
func installClock(c *Client, clock *restcall.ManualClock) { c.calls.Clock = clock }

func assertNoKey(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), testKey) {
		t.Fatalf("error reveals the API key: %v", err)
	}
}

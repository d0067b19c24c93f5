package resilience

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// faultServer answers each request with what script says for its 1-based
// number; it counts what it served.
type faultServer struct {
	*httptest.Server
	n      atomic.Int64
	mu     sync.Mutex
	bodies []string
}

type fault func(w http.ResponseWriter, r *http.Request)

func newFaultServer(t *testing.T, script func(n int64) fault) *faultServer {
	t.Helper()
	s := &faultServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.bodies = append(s.bodies, string(body))
		s.mu.Unlock()
		script(s.n.Add(1))(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func status(code int) fault {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(code)
		_, _ = io.WriteString(w, `{"message":"x"}`)
	}
}

func ok(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"message":"success"}`) }

// reset closes the connection without an answer.
func reset(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// truncated promises 100 bytes and sends 10.
func truncated(w http.ResponseWriter, _ *http.Request) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Type: application/json\r\n\r\n{\"users\":[")
	_ = buf.Flush()
	_ = conn.Close()
}

func slow(d time.Duration) fault {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
		}
		ok(w, r)
	}
}

func newTestGuard(t *testing.T, vendor string, cfg Config) *Guard {
	t.Helper()
	g, err := New(vendor, cfg, WithLogger(discardLogger()))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return g
}

func guardedClient(t *testing.T, g *Guard, baseURL string, timeout time.Duration) *http.Client {
	t.Helper()
	tr, err := g.Transport(nil, baseURL)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// call sends one request and reads the whole answer, as the clients do.
func call(ctx context.Context, c *http.Client, method, url string, body string) (int, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); err != nil {
		return resp.StatusCode, err
	}
	return resp.StatusCode, nil
}

func TestBreakerWiring(t *testing.T) {
	quick := Config{Breaker: BreakerConfig{ConsecutiveFailures: 3, OpenTimeout: time.Hour}, Retry: Policy{MaxAttempts: 1}}
	tests := []struct {
		name  string
		fault fault
		trips bool
	}{
		{"400 never trips", status(400), false},
		{"401 never trips", status(401), false},
		{"404 never trips", status(404), false},
		{"429 never trips", status(429), false},
		{"500 trips", status(500), true},
		{"503 trips", status(503), true},
		{"connection reset trips", reset, true},
		{"truncated body trips", truncated, true},
		{"timeout trips", slow(2 * time.Second), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFaultServer(t, func(int64) fault { return tt.fault })
			g := newTestGuard(t, VendorBraze, quick)
			c := guardedClient(t, g, srv.URL, 200*time.Millisecond)
			for range 5 {
				_, _ = call(context.Background(), c, http.MethodPost, srv.URL+"/segments/list", "")
			}
			if got := g.Breakers.IsOpen("default"); got != tt.trips {
				t.Errorf("after 5 answers: default breaker open = %v, want %v (states %v)", got, tt.trips, g.Breakers.States())
			}
			if g.Open() != tt.trips {
				t.Errorf("Open() = %v, want %v", g.Open(), tt.trips)
			}
			if !tt.trips {
				if tr := g.Breakers.Transitions(); len(tr) != 0 {
					t.Errorf("transitions %v, want none", tr)
				}
				return
			}
			if n := srv.n.Load(); n != 3 {
				t.Errorf("server saw %d requests, want 3: an open breaker must refuse without calling", n)
			}
			_, err := call(context.Background(), c, http.MethodPost, srv.URL+"/segments/list", "")
			var open *OpenError
			if !errors.As(err, &open) || open.Bucket != "default" || !Retryable(err) {
				t.Errorf("call through an open breaker = %v, want a retryable *OpenError for bucket default", err)
			}
			if g.Breakers.IsOpen("users.track") {
				t.Error("users.track breaker opened by failures on the default bucket")
			}
		})
	}
}

func TestBreakerHalfOpenSuccessCloses(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	srv := newFaultServer(t, func(int64) fault {
		if failing.Load() {
			return status(502)
		}
		return ok
	})
	g := newTestGuard(t, VendorBrevo, Config{Breaker: BreakerConfig{ConsecutiveFailures: 2, OpenTimeout: 100 * time.Millisecond}})
	c := guardedClient(t, g, srv.URL+"/v3", 5*time.Second)
	url := srv.URL + "/v3/contacts/import"
	for range 2 {
		_, _ = call(context.Background(), c, http.MethodPost, url, `{}`)
	}
	if !g.Open() {
		t.Fatalf("breaker not open after 2 failures: %v", g.Breakers.States())
	}
	failing.Store(false)
	// A worker polls Open (pipeline.Config.Paused) and resumes once the
	// breaker lets a probe through.
	deadline := time.Now().Add(5 * time.Second)
	for g.Open() {
		if time.Now().After(deadline) {
			t.Fatal("breaker still open 5s after a 100ms open timeout")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := g.Breakers.States()["contacts"]; st != "half-open" {
		t.Fatalf("contacts breaker %q after the timeout, want half-open", st)
	}
	if code, err := call(context.Background(), c, http.MethodPost, url, `{}`); err != nil || code != 200 {
		t.Fatalf("probe: %d %v", code, err)
	}
	if st := g.Breakers.States()["contacts"]; st != "closed" {
		t.Errorf("contacts breaker %q after a successful probe, want closed", st)
	}
	want := map[string]int64{"contacts closed->open": 1, "contacts open->half-open": 1, "contacts half-open->closed": 1}
	got := g.Breakers.Transitions()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("Transitions()[%q] = %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
	if g.Breakers.TransitionCount() != 3 {
		t.Errorf("TransitionCount() = %d, want 3", g.Breakers.TransitionCount())
	}
}

// The Transport is no retry layer: whatever the method and the failure,
// one call is one request, and the guard's policy (Policy.Do) is where
// calls without a message behind them are retried, counted in Retries.
func TestTransportNeverRetriesGuardPolicyDoes(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		script   func(n int64) fault
		wantCode int
		// policyCalls is how many requests the call makes under Retry.Do,
		// whose MaxAttempts is 3.
		policyCalls int64
	}{
		{"GET after 503", http.MethodGet, failFirst(2, status(503)), 503, 3},
		{"GET after a reset", http.MethodGet, failFirst(1, reset), 0, 2},
		{"GET on 404", http.MethodGet, failFirst(1, status(404)), 404, 1},
		{"POST after 503", http.MethodPost, failFirst(1, status(503)), 503, 2},
		{"GET failing for good", http.MethodGet, failFirst(100, status(502)), 502, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFaultServer(t, tt.script)
			g := newTestGuard(t, VendorBraze, Config{
				Retry:   Policy{Backoff: restcall.Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond}, MaxAttempts: 3},
				Breaker: BreakerConfig{ConsecutiveFailures: 100},
			})
			c := guardedClient(t, g, srv.URL, 5*time.Second)
			body := map[string]string{http.MethodPost: `{"a":1}`}[tt.method]
			code, err := call(context.Background(), c, tt.method, srv.URL+"/campaigns/list", body)
			if tt.wantCode != 0 && (err != nil || code != tt.wantCode) {
				t.Errorf("answer %d %v, want %d", code, err, tt.wantCode)
			}
			if n := srv.n.Load(); n != 1 {
				t.Errorf("server saw %d requests for one call, want 1: the Transport retried", n)
			}
			if g.Retries() != 0 {
				t.Errorf("Retries() = %d after one call, want 0", g.Retries())
			}

			// The same call under the guard's policy: retried there, and
			// only there (each attempt is one request).
			srv.n.Store(0)
			err = g.Retry.Do(context.Background(), func(ctx context.Context) error {
				code, err := call(ctx, c, tt.method, srv.URL+"/campaigns/list", body)
				if err == nil && code >= 300 {
					err = &restcall.StatusError{Status: code}
				}
				return err
			})
			if n := srv.n.Load(); n != tt.policyCalls {
				t.Errorf("under Retry.Do: %d requests (err %v), want %d", n, err, tt.policyCalls)
			}
			if g.Retries() != srv.n.Load()-1 {
				t.Errorf("Retries() = %d after %d requests under Retry.Do, want %d", g.Retries(), srv.n.Load(), srv.n.Load()-1)
			}
		})
	}
}

func failFirst(n int64, f fault) func(int64) fault {
	return func(i int64) fault {
		if i <= n {
			return f
		}
		return ok
	}
}

func TestTransportPassesOtherHostsThrough(t *testing.T) {
	api := newFaultServer(t, func(int64) fault { return status(500) })
	s3 := newFaultServer(t, func(int64) fault { return status(403) })
	g := newTestGuard(t, VendorBraze, Config{Breaker: BreakerConfig{ConsecutiveFailures: 1}, Retry: Policy{MaxAttempts: 1}})
	c := guardedClient(t, g, api.URL, 5*time.Second)
	_, _ = call(context.Background(), c, http.MethodGet, api.URL+"/segments/list", "")
	if !g.Open() {
		t.Fatal("breaker not open after a 500 with ConsecutiveFailures 1")
	}
	code, err := call(context.Background(), c, http.MethodGet, s3.URL+"/export/users.zip", "")
	if err != nil || code != 403 || s3.n.Load() != 1 {
		t.Errorf("download from another host through an open API breaker: %d %v (%d requests), want it sent", code, err, s3.n.Load())
	}
}

func TestTransport429BlocksTheBucketUntilReset(t *testing.T) {
	srv := newFaultServer(t, func(n int64) fault {
		if n == 1 {
			return func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("x-sib-ratelimit-limit", "10")
				w.Header().Set("x-sib-ratelimit-remaining", "0")
				w.Header().Set("x-sib-ratelimit-reset", "1")
				w.WriteHeader(http.StatusTooManyRequests)
			}
		}
		return ok
	})
	g := newTestGuard(t, VendorBrevo, Config{})
	c := guardedClient(t, g, srv.URL+"/v3", 10*time.Second)
	start := time.Now()
	code, err := call(context.Background(), c, http.MethodGet, srv.URL+"/v3/contacts?limit=1", "")
	if err != nil || code != http.StatusTooManyRequests {
		t.Fatalf("GET answered 429: %d %v, want the 429 handed back (the Transport does not retry)", code, err)
	}
	code, err = call(context.Background(), c, http.MethodGet, srv.URL+"/v3/contacts?limit=1", "")
	if err != nil || code != 200 {
		t.Fatalf("the next GET: %d %v, want 200 after the reset", code, err)
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("the next call went after %v, want after the 1s reset", took)
	}
	if g.Limiter.Throttled() != 1 || g.Breakers.Open() {
		t.Errorf("throttled %d, breakers %v: want 1 throttle and no breaker open", g.Limiter.Throttled(), g.Breakers.States())
	}
}

// Under Brevo's General-plan limits, enforced by the sandbox in fixed
// one-second windows, a guarded client with several callers gets almost no
// 429s and nearly the whole allowed throughput.
func TestTransportAgainstRateLimitedSandbox(t *testing.T) {
	sim := newBrevoSim(t, true)
	g := newTestGuard(t, VendorBrevo, Config{})
	c := guardedClient(t, g, sim.url, 10*time.Second)
	const run = 3 * time.Second
	const allowed = 10.0 // /contacts requests per second
	ctx, cancel := context.WithTimeout(context.Background(), run)
	defer cancel()
	var okN, throttled, other atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, sim.url+"/contacts?limit=1", nil)
				req.Header.Set("api-key", sim.key)
				resp, err := c.Do(req)
				if err != nil {
					continue // the run ended while waiting for the limiter
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusOK:
					okN.Add(1)
				case http.StatusTooManyRequests:
					throttled.Add(1)
				default:
					other.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	total := okN.Load() + throttled.Load() + other.Load()
	rps := float64(okN.Load()) / elapsed.Seconds()
	t.Logf("guarded client vs sandbox at %.0f req/s: %d requests in %v, %d ok (%.2f req/s, %.0f%% of allowed), %d 429s (%.2f%%)",
		allowed, total, elapsed.Round(time.Millisecond), okN.Load(), rps, 100*rps/allowed, throttled.Load(),
		100*float64(throttled.Load())/float64(max(total, 1)))
	if other.Load() > 0 {
		t.Errorf("%d answers neither 200 nor 429", other.Load())
	}
	if float64(throttled.Load()) > 0.001*float64(total) {
		t.Errorf("%d of %d answers were 429, want at most 0.1%%", throttled.Load(), total)
	}
	if rps < 0.9*allowed {
		t.Errorf("achieved %.2f req/s, want at least 90%% of %.0f", rps, allowed)
	}
	requests := sim.srv.Requests()
	var served int
	for k, v := range requests {
		if strings.HasSuffix(k, " "+strconv.Itoa(http.StatusTooManyRequests)) {
			t.Errorf("sandbox counted %d %q", v, k)
		}
		served += v
	}
	if int64(served) != total {
		t.Errorf("sandbox served %d requests, client counted %d", served, total)
	}
}

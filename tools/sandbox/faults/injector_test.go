package faults

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// backend is the handler behind the injector: it counts the requests it
// handled (its "state") and answers a JSON body of about 4 KB, or bodySize
// bytes when set, or 204 when bodySize is negative.
type backend struct {
	calls    atomic.Int64
	bodySize int
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	b.calls.Add(1)
	switch {
	case b.bodySize < 0:
		w.WriteHeader(http.StatusNoContent)
	case b.bodySize > 0:
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(bytes.Repeat([]byte{'x'}, b.bodySize))
	default:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"message": "success", "padding": strings.Repeat("p", 4000)})
	}
}

// serve starts a loopback server with b behind an Injector.
func serve(t *testing.T, b *backend, spec Spec, seed int64, opts Options) (*Injector, string) {
	t.Helper()
	in := Wrap(b, spec, seed, opts)
	srv := httptest.NewServer(in)
	t.Cleanup(func() {
		in.Release()
		srv.Close()
	})
	return in, srv.URL
}

// client opens a connection per request: a reused connection that gets reset
// makes net/http retry idempotent requests by itself, which would hide the
// fault and shift the request numbering.
func client(timeout time.Duration) *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: timeout}
}

// outcome is what a client saw: an injected status, "ok", or the fault kind
// its error reveals ("reset" stands for reset and lost, which look alike).
func outcome(t *testing.T, c *http.Client, method, url string) string {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(`{"attributes":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	switch {
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, io.EOF):
		return "dropped"
	case isTimeout(err):
		return "client timeout"
	case err != nil:
		t.Fatalf("%s %s: unexpected error %v", method, url, err)
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated"
	case err != nil:
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	case resp.StatusCode >= 500:
		return "5xx"
	case resp.StatusCode == http.StatusTooManyRequests:
		return "429"
	}
	return "ok"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestTooManyRequestsCarriesVendorHeaders(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		vendor  Vendor
		path    string
		headers map[string]string
		body    string
	}{
		{"braze", Braze, "/users/export/ids", map[string]string{
			"X-RateLimit-Limit": "250", "X-RateLimit-Remaining": "0",
			"X-RateLimit-Reset": strconv.FormatInt(now.Unix()+2, 10),
		}, `{"errors":[],"message":"API rate limit exceeded"}`},
		{"brevo", Brevo, "/v3/contacts/import", map[string]string{
			"x-sib-ratelimit-limit": "10", "x-sib-ratelimit-remaining": "0", "x-sib-ratelimit-reset": "2",
		}, `{"code":"too_many_requests","message":"The expected rate limit is exceeded."}`},
		{"plain", Vendor{}, "/anything", map[string]string{"Retry-After": "2"}, "Too Many Requests\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &backend{}
			_, url := serve(t, b, Spec{TooManyRequests: 1}, 1, Options{
				Vendor: tc.vendor, ThrottleWait: 1500 * time.Millisecond, Now: func() time.Time { return now },
			})
			resp, err := client(5*time.Second).Post(url+tc.path, "application/json", nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("status %d, want 429", resp.StatusCode)
			}
			for k, v := range tc.headers {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if strings.TrimSpace(string(body)) != strings.TrimSpace(tc.body) {
				t.Errorf("body %s, want %s", body, tc.body)
			}
			if b.calls.Load() != 0 {
				t.Error("a throttled request reached the handler")
			}
		})
	}
}

func TestServerErrorsAreVendorShaped(t *testing.T) {
	b := &backend{}
	_, url := serve(t, b, Spec{ServerError: 1}, 7, Options{Vendor: Brevo})
	seen := map[int]bool{}
	c := client(5 * time.Second)
	for range 30 {
		resp, err := c.Get(url + "/v3/contacts")
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Code, Message string }
		err = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if err != nil || e.Code != "internal_error" || e.Message != http.StatusText(resp.StatusCode) {
			t.Errorf("status %d: body %+v (%v), want Brevo's {code, message}", resp.StatusCode, e, err)
		}
		seen[resp.StatusCode] = true
	}
	for _, s := range serverErrors {
		if !seen[s] {
			t.Errorf("30 server errors and never a %d", s)
		}
	}
	if len(seen) != len(serverErrors) || b.calls.Load() != 0 {
		t.Errorf("statuses %v, handler calls %d: want only 500/502/503 and no call", seen, b.calls.Load())
	}
}

func TestResetIsAConnectionResetBeforeHandling(t *testing.T) {
	b := &backend{}
	_, url := serve(t, b, Spec{Reset: 1}, 1, Options{})
	if got := outcome(t, client(5*time.Second), http.MethodPost, url+"/users/track"); got != "reset" {
		t.Fatalf("client saw %s, want a connection reset", got)
	}
	if b.calls.Load() != 0 {
		t.Error("a reset request reached the handler")
	}
}

func TestLostIsHandledThenReset(t *testing.T) {
	b := &backend{}
	_, url := serve(t, b, Spec{Lost: 1}, 1, Options{})
	if got := outcome(t, client(5*time.Second), http.MethodPost, url+"/users/track"); got != "reset" {
		t.Fatalf("client saw %s, want a connection reset", got)
	}
	if b.calls.Load() != 1 {
		t.Errorf("handler calls %d, want 1: a lost answer's write happened", b.calls.Load())
	}
}

func TestTruncateCutsTheBody(t *testing.T) {
	for _, tc := range []struct {
		name     string
		bodySize int
	}{{"small JSON", 0}, {"streamed past the buffer", 3 * maxBuffered}, {"no body", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			b := &backend{bodySize: tc.bodySize}
			_, url := serve(t, b, Spec{Truncate: 1}, 1, Options{})
			resp, err := client(5 * time.Second).Get(url + "/segments/list")
			if tc.bodySize < 0 {
				// Half a status line: the client cannot even read a response.
				if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
					t.Fatalf("GET: %v, want an unexpected EOF", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			n, err := io.Copy(io.Discard, resp.Body)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("read %d bytes, then %v; want an unexpected EOF", n, err)
			}
			if tc.bodySize == 0 && (resp.ContentLength <= 0 || n != resp.ContentLength/2) {
				t.Errorf("Content-Length %d, read %d: want the real length and half of it", resp.ContentLength, n)
			}
			if tc.bodySize > 0 && n != maxBuffered {
				t.Errorf("read %d bytes of a streamed answer, want %d", n, maxBuffered)
			}
			if b.calls.Load() != 1 {
				t.Errorf("handler calls %d, want 1", b.calls.Load())
			}
		})
	}
}

// faultRecorder is what a simulator's request counter looks like to the
// injector: a ResponseWriter with RecordFault.
type faultRecorder struct {
	http.ResponseWriter
	faults chan<- string
}

func (f faultRecorder) RecordFault(status string) { f.faults <- status }

// Unwrap lets the injector reach the connection to hijack it.
func (f faultRecorder) Unwrap() http.ResponseWriter { return f.ResponseWriter }

func TestTimeoutHoldsUntilTheClientGivesUp(t *testing.T) {
	b := &backend{}
	in := Wrap(b, Spec{Timeout: 1}, 1, Options{}) // held up to the default 30s
	faults := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in.ServeHTTP(faultRecorder{w, faults}, r)
	}))
	t.Cleanup(func() {
		in.Release()
		srv.Close()
	})
	url := srv.URL
	start := time.Now()
	got := outcome(t, client(300*time.Millisecond), http.MethodPost, url+"/v3/contacts/import")
	if got != "client timeout" {
		t.Fatalf("client saw %s, want its own timeout", got)
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 10*time.Second {
		t.Errorf("gave up after %v, want about the client's 300ms", d)
	}
	if b.calls.Load() != 0 {
		t.Error("a timed-out request reached the handler")
	}
	// The server lets go once the client hangs up, long before the 30s hold.
	select {
	case got := <-faults:
		if got != StatusTimeout {
			t.Errorf("recorded %q, want %q", got, StatusTimeout)
		}
	case <-time.After(10 * time.Second):
		t.Error("the server still holds the request 10s after the client gave up")
	}
}

func TestTimeoutDropsAfterMaxHold(t *testing.T) {
	_, url := serve(t, &backend{}, Spec{Timeout: 1}, 1, Options{MaxHold: 50 * time.Millisecond})
	if got := outcome(t, client(10*time.Second), http.MethodGet, url+"/segments/list"); got != "dropped" {
		t.Fatalf("client saw %s, want the connection closed without an answer", got)
	}
}

func TestLatency(t *testing.T) {
	_, url := serve(t, &backend{}, Spec{Latency: 80 * time.Millisecond, Jitter: 20 * time.Millisecond}, 1, Options{})
	c := client(5 * time.Second)
	for range 3 {
		start := time.Now()
		if got := outcome(t, c, http.MethodGet, url+"/segments/list"); got != "ok" {
			t.Fatalf("client saw %s, want ok", got)
		}
		if d := time.Since(start); d < 60*time.Millisecond {
			t.Errorf("answered after %v, want at least 60ms (80ms±20ms)", d)
		}
	}
}

func TestAdminPathsAreNeverFaulted(t *testing.T) {
	b := &backend{}
	in, url := serve(t, b, Spec{Reset: 1}, 1, Options{})
	if got := outcome(t, client(5*time.Second), http.MethodGet, url+"/_admin/state"); got != "ok" {
		t.Fatalf("client saw %s on /_admin/state, want ok", got)
	}
	if got := outcome(t, client(5*time.Second), http.MethodGet, url+"/segments/list"); got != "reset" {
		t.Fatalf("client saw %s, want reset", got)
	}
	if got := in.Injected()[Reset]; got != 1 {
		t.Errorf("%d resets injected, want 1: admin requests draw nothing", got)
	}
}

func TestReleaseEndsHeldRequests(t *testing.T) {
	in, url := serve(t, &backend{}, Spec{Timeout: 1}, 1, Options{MaxHold: time.Hour})
	done := make(chan string, 1)
	go func() { done <- outcome(t, client(time.Minute), http.MethodGet, url+"/segments/list") }()
	deadline := time.Now().Add(10 * time.Second)
	for in.Injected()[Timeout] == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the request never reached the injector")
		}
		time.Sleep(5 * time.Millisecond)
	}
	in.Release()
	select {
	case got := <-done:
		if got != "dropped" {
			t.Errorf("client saw %s, want the connection closed", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Release did not end a held request")
	}
}

// testMix is a fault mix high enough that 2,000 requests see every kind often.
var testMix = Spec{TooManyRequests: 0.1, ServerError: 0.1, Timeout: 0.05, Reset: 0.05, Lost: 0.05, Truncate: 0.05}

func TestSameSeedSameFaults(t *testing.T) {
	run := func(seed int64) []string {
		_, url := serve(t, &backend{}, testMix, seed, Options{MaxHold: time.Millisecond})
		c := client(5 * time.Second)
		var got []string
		for i := range 200 {
			method := []string{http.MethodGet, http.MethodPost}[i%2]
			got = append(got, outcome(t, c, method, url+"/v3/contacts"))
		}
		return got
	}
	a, b, other := run(42), run(42), run(43)
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Fatalf("same seed, same requests, different faults:\n%v\n%v", a, b)
	}
	if strings.Join(a, ",") == strings.Join(other, ",") {
		t.Error("seeds 42 and 43 gave the same 200 outcomes: the seed is not used")
	}
}

// TestRates sends 2,000 requests and checks that every fault the injector
// counted is the one the client saw, that only unfaulted, truncated and lost
// requests reached the handler, and that each kind's share is within four
// standard deviations of its rate.
func TestRates(t *testing.T) {
	const n = 2000
	b := &backend{}
	in, url := serve(t, b, testMix, 2026, Options{Vendor: Braze, MaxHold: time.Millisecond})
	c := client(5 * time.Second)
	seen := map[string]int{}
	for range n {
		seen[outcome(t, c, http.MethodPost, url+"/users/track")]++
	}
	got := in.Injected()
	want := map[string]int{
		"429": got[TooManyRequests], "5xx": got[ServerError], "dropped": got[Timeout],
		"reset": got[Reset] + got[Lost], "truncated": got[Truncate],
	}
	want["ok"] = n - want["429"] - want["5xx"] - want["dropped"] - want["reset"] - want["truncated"]
	for k, v := range want {
		if seen[k] != v {
			t.Errorf("client saw %d %s, injector counted %d (all seen: %v)", seen[k], k, v, seen)
		}
	}
	if handled := int64(want["ok"] + got[Lost] + got[Truncate]); b.calls.Load() != handled {
		t.Errorf("handler ran %d times, want %d (unfaulted + lost + truncated)", b.calls.Load(), handled)
	}
	for _, r := range testMix.rates() {
		p, k := *r.p, got[Kind(r.name)]
		sd := 4 * math.Sqrt(n*p*(1-p))
		if d := float64(k) - n*p; d < -sd || d > sd {
			t.Errorf("%s: %d of %d, want %.0f±%.0f", r.name, k, n, n*p, sd)
		}
	}
}

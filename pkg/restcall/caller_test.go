package restcall

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// callerFor serves h on 127.0.0.1 and returns a Caller for it, its calls
// recorded and its clock manual.
func callerFor(t *testing.T, h http.HandlerFunc) (*Caller, string, *Recorder[Call], *ManualClock) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	rec := &Recorder[Call]{}
	clock := NewManualClock(time.Unix(1_700_000_000, 0))
	c := &Caller{Vendor: "v", Timeout: 5 * time.Second, Observer: rec.Observe, Clock: clock, Headers: BrevoHeaders,
		NewError: func(method, route string, resp *http.Response, reset time.Time) error {
			return &StatusError{Method: method, Path: route, Status: resp.StatusCode, Reset: reset}
		}}
	return c, srv.URL, rec, clock
}

func get(url string, out any, bucket string) Request {
	return Request{Method: http.MethodGet, Route: "/things/{id}", Bucket: bucket, Out: out,
		Build: func(ctx context.Context) (*http.Request, error) {
			return http.NewRequestWithContext(ctx, http.MethodGet, url+"/things/42", nil)
		}}
}

func TestCallerDecodesObservesAndKeepsTheBudget(t *testing.T) {
	c, url, rec, clock := callerFor(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Sib-Ratelimit-Remaining", "0")
		w.Header().Set("X-Sib-Ratelimit-Reset", "30")
		_, _ = w.Write([]byte(`{"id":42}`))
	})
	var out struct{ ID int }
	ctx := WithAttempt(context.Background(), 2)
	if status, err := c.Do(ctx, get(url, &out, "things")); status != 200 || err != nil || out.ID != 42 {
		t.Fatalf("Do = %d, %v, decoded %+v", status, err, out)
	}
	calls := rec.All()
	if len(calls) != 1 || calls[0].Vendor != "v" || calls[0].Path != "/things/{id}" || calls[0].Status != 200 || calls[0].Attempt != 2 {
		t.Fatalf("calls = %+v", calls)
	}
	// Nothing left in the bucket: the next call waits for the reset
	// first, on the clock.
	if _, err := c.Do(ctx, get(url, nil, "things")); err != nil {
		t.Fatal(err)
	}
	if got := clock.Slept(); len(got) != 1 || got[0] != 30*time.Second {
		t.Fatalf("slept %v, want [30s]", got)
	}
	// Paced, or in no bucket: no wait.
	c.Paced = true
	_, _ = c.Do(ctx, get(url, nil, "things"))
	c.Paced = false
	_, _ = c.Do(ctx, get(url, nil, ""))
	if got := clock.Slept(); len(got) != 1 {
		t.Fatalf("slept %v, want no more waits", got)
	}
}

func TestCallerErrors(t *testing.T) {
	c, url, rec, _ := callerFor(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("case") {
		case "429":
			w.Header().Set("X-Sib-Ratelimit-Remaining", "0")
			w.Header().Set("X-Sib-Ratelimit-Reset", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		case "redirect":
			http.Redirect(w, r, "https://elsewhere.example/x?sig=secret", http.StatusTemporaryRedirect)
		case "cut":
			w.Header().Set("Content-Length", strconv.Itoa(100))
			_, _ = w.Write([]byte(`{"id":`))
		}
	})
	c.HTTP = Client(nil)
	req := func(q string) Request {
		return Request{Method: http.MethodGet, Route: "/x", Bucket: "b", Out: &struct{}{},
			Build: func(ctx context.Context) (*http.Request, error) {
				return http.NewRequestWithContext(ctx, http.MethodGet, url+"/x?case="+q, nil)
			}}
	}
	_, err := c.Do(context.Background(), req("429"))
	if d := RetryAfter(err, time.Unix(1_700_000_000, 0)); d != 7*time.Second {
		t.Errorf("429: %v, retry after %v; want the vendor's error with the 7s reset", err, d)
	}
	_, err = c.Do(context.Background(), req("redirect"))
	if !errors.Is(err, ErrRedirect) || Retryable(err) {
		t.Errorf("redirect: %v, want ErrRedirect, not retryable", err)
	}
	_, err = c.Do(context.Background(), req("cut"))
	if !Retryable(err) {
		t.Errorf("cut answer: %v, want a retryable TransportError", err)
	}
	if n := len(rec.All()); n != 3 {
		t.Errorf("%d calls observed, want 3", n)
	}
}

package brevo

import (
	"strconv"
	"testing"
	"time"
)

func rateHeaders(t *testing.T, r response) (limit, remaining, reset int) {
	t.Helper()
	get := func(name string) int {
		v, err := strconv.Atoi(r.header.Get(name))
		if err != nil {
			t.Fatalf("header %s = %q: %v", name, r.header.Get(name), err)
		}
		return v
	}
	return get("x-sib-ratelimit-limit"), get("x-sib-ratelimit-remaining"), get("x-sib-ratelimit-reset")
}

func TestContactsRateLimit(t *testing.T) {
	h := newHarness(t, Config{RateLimit: true})
	h.clock.Advance(300 * time.Millisecond) // mid-second: reset must round up to 1
	for i := range 10 {
		r := h.do("GET", "/v3/contacts", nil).expect(t, 200, "")
		limit, remaining, reset := rateHeaders(t, r)
		if limit != 10 || remaining != 9-i || reset != 1 {
			t.Fatalf("request %d: limit %d remaining %d reset %d", i, limit, remaining, reset)
		}
	}
	// Every /contacts endpoint shares the bucket.
	r := h.do("GET", "/v3/contacts/attributes", nil).expect(t, 429, "too_many_requests")
	if _, remaining, _ := rateHeaders(t, r); remaining != 0 {
		t.Fatalf("429 remaining %d", remaining)
	}
	// Other endpoints have their own pool.
	h.do("GET", "/v3/processes", nil).expect(t, 200, "")
	h.clock.Advance(700 * time.Millisecond)
	h.do("POST", "/v3/contacts", map[string]any{"email": "a@example.com"}).expect(t, 201, "")
	if n := h.srv.Requests()["GET /v3/contacts/attributes 429"]; n != 1 {
		t.Fatalf("429 counted %d times", n)
	}
}

// TestOtherEndpointsHourly checks the 100/hour pool of every non-contacts
// endpoint, /processes included: a client polling an import every second runs
// out in under two minutes. (At 10 req/s the contacts' 36,000/hour can never bind
// within one clock hour, so it has no HTTP test of its own.)
func TestOtherEndpointsHourly(t *testing.T) {
	h := newHarness(t, Config{RateLimit: true})
	h.clock.Advance(10 * time.Minute)
	for i := range 100 {
		r := h.do("GET", "/v3/processes", nil).expect(t, 200, "")
		limit, remaining, reset := rateHeaders(t, r)
		if limit != 100 || remaining != 99-i || reset != 50*60 {
			t.Fatalf("request %d: limit %d remaining %d reset %d", i, limit, remaining, reset)
		}
	}
	h.clock.Advance(20 * time.Minute)
	r := h.do("GET", "/v3/processes/1", nil).expect(t, 429, "too_many_requests")
	if limit, remaining, reset := rateHeaders(t, r); limit != 100 || remaining != 0 || reset != 30*60 {
		t.Fatalf("429: limit %d remaining %d reset %d", limit, remaining, reset)
	}
	h.do("GET", "/v3/contacts", nil).expect(t, 200, "")
	h.clock.Advance(30 * time.Minute)
	h.do("GET", "/v3/processes", nil).expect(t, 200, "")
}

func TestNoRateLimitHeadersWhenOff(t *testing.T) {
	h := newHarness(t, Config{})
	for range 20 {
		r := h.do("GET", "/v3/contacts", nil).expect(t, 200, "")
		if r.header.Get("x-sib-ratelimit-limit") != "" {
			t.Fatal("rate-limit header sent with RateLimit off")
		}
	}
}

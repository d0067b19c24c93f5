package faults

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Vendor writes the answers a fault makes up, in one vendor's shapes, so a
// client's parsing of throttles and errors is exercised as the real API
// would.
type Vendor struct {
	// Throttle writes a 429 whose rate-limit headers say the window resets
	// after wait.
	Throttle func(w http.ResponseWriter, r *http.Request, now time.Time, wait time.Duration)
	// Fail writes status, a 5xx.
	Fail func(w http.ResponseWriter, r *http.Request, status int)
}

// Plain is the Vendor of a generic HTTP service: a text body, and Retry-After
// on 429. Wrap uses it when Options.Vendor is empty.
var Plain = Vendor{
	Throttle: func(w http.ResponseWriter, _ *http.Request, _ time.Time, wait time.Duration) {
		w.Header().Set("Retry-After", strconv.FormatInt(ceilSeconds(wait), 10))
		http.Error(w, http.StatusText(http.StatusTooManyRequests), http.StatusTooManyRequests)
	},
	Fail: func(w http.ResponseWriter, _ *http.Request, status int) {
		http.Error(w, http.StatusText(status), status)
	},
}

// Braze answers as Braze does (API notes): X-RateLimit-Limit, -Remaining and
// -Reset (UTC epoch seconds) on a 429, no Retry-After, and
// {"message", "errors"} bodies. The limit reported is the endpoint's
// documented default: 250 a minute for /users/export/ids, else the
// 250,000-an-hour pool.
var Braze = Vendor{
	Throttle: func(w http.ResponseWriter, r *http.Request, now time.Time, wait time.Duration) {
		limit := 250_000
		if r.URL.Path == "/users/export/ids" {
			limit = 250
		}
		h := w.Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Reset", strconv.FormatInt(now.Unix()+ceilSeconds(wait), 10))
		writeJSON(w, http.StatusTooManyRequests, map[string]any{
			"message": "API rate limit exceeded", "errors": []string{},
		})
	},
	Fail: func(w http.ResponseWriter, _ *http.Request, status int) {
		writeJSON(w, status, map[string]any{"message": http.StatusText(status), "errors": []string{}})
	},
}

// Brevo answers as Brevo does (API notes): x-sib-ratelimit-limit,
// -remaining and -reset (seconds until the reset) on a 429, no Retry-After,
// and {"code", "message"} bodies. The limit reported is the General plan's:
// 10 a second on /contacts, 100 an hour elsewhere. Brevo documents no 5xx
// body; "internal_error" follows its snake-case codes.
var Brevo = Vendor{
	Throttle: func(w http.ResponseWriter, r *http.Request, _ time.Time, wait time.Duration) {
		limit := 100
		if strings.HasPrefix(r.URL.Path, "/v3/contacts") {
			limit = 10
		}
		h := w.Header()
		h.Set("x-sib-ratelimit-limit", strconv.Itoa(limit))
		h.Set("x-sib-ratelimit-remaining", "0")
		h.Set("x-sib-ratelimit-reset", strconv.FormatInt(ceilSeconds(wait), 10))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{
			"code": "too_many_requests", "message": "The expected rate limit is exceeded.",
		})
	},
	Fail: func(w http.ResponseWriter, _ *http.Request, status int) {
		writeJSON(w, status, map[string]string{"code": "internal_error", "message": http.StatusText(status)})
	},
}

// ceilSeconds rounds up, so a client waiting that long is past the reset.
func ceilSeconds(d time.Duration) int64 { return int64((d + time.Second - 1) / time.Second) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // a write error means the client left: nothing to do
}

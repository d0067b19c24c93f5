package restcall

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Vendor names, as Calls, audit entries, metrics and pkg/resilience name
// them.
const (
	VendorBraze = "braze"
	VendorBrevo = "brevo"
)

// RateLimit is the rate-limit state a response reported: the size of the
// window, what is left of it and when it resets (zero when not said).
type RateLimit struct {
	Limit     int
	Remaining int
	Reset     time.Time
}

// Headers names a vendor's rate-limit response headers and says how its
// reset reads. The clients (a wait before a call once the budget ran out)
// and pkg/resilience's limiter (pacing) read them through Read.
type Headers struct {
	Limit, Remaining, Reset string
	// ResetEpoch: the reset is UTC epoch seconds (Braze); otherwise it is
	// seconds from the response (Brevo).
	ResetEpoch bool
}

// The vendors' rate-limit headers.
var (
	BrazeHeaders = Headers{Limit: "X-RateLimit-Limit", Remaining: "X-RateLimit-Remaining", Reset: "X-RateLimit-Reset", ResetEpoch: true}
	BrevoHeaders = Headers{Limit: "X-Sib-Ratelimit-Limit", Remaining: "X-Sib-Ratelimit-Remaining", Reset: "X-Sib-Ratelimit-Reset"}
)

// Read reads the rate-limit headers of a response received at now. ok is
// false when the remaining count is absent or not a number: the response
// then says nothing about the budget. A negative remaining count reads as
// 0; a limit or reset that is absent or garbled reads as zero.
func (n Headers) Read(h http.Header, now time.Time) (rl RateLimit, ok bool) {
	left, err := strconv.Atoi(strings.TrimSpace(h.Get(n.Remaining)))
	if err != nil {
		return RateLimit{}, false
	}
	rl.Remaining = max(left, 0)
	rl.Limit, _ = strconv.Atoi(strings.TrimSpace(h.Get(n.Limit)))
	secs, err := strconv.ParseFloat(strings.TrimSpace(h.Get(n.Reset)), 64)
	switch {
	case err != nil || secs < 0 || secs > maxResetSeconds:
	case n.ResetEpoch && secs > 0:
		whole := int64(secs)
		rl.Reset = time.Unix(whole, int64((secs-float64(whole))*1e9)).UTC()
	case !n.ResetEpoch:
		rl.Reset = now.Add(time.Duration(secs * float64(time.Second)))
	}
	return rl, true
}

// maxResetSeconds bounds a reset header so that a hostile value cannot
// overflow a time.Duration: 4x10^9 s, the year 2096 as an epoch and a
// century as a relative wait. A larger one reads as unknown.
const maxResetSeconds = 4e9

// Limits remembers the rate-limit state of the last response per bucket so
// that a call made after the budget ran out waits for the reset instead of
// being refused. It is deliberately small: fine-grained pacing belongs to
// the limiters wrapped around a client. The zero value is ready to use.
type Limits struct {
	mu      sync.Mutex
	buckets map[string]RateLimit
}

// Set records rl as the latest state of bucket.
func (l *Limits) Set(bucket string, rl RateLimit) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = make(map[string]RateLimit)
	}
	l.buckets[bucket] = rl
}

// Delay is how long a call on bucket must wait before it may be sent: until
// the reset once nothing remains, zero otherwise or when the reset is
// unknown.
func (l *Limits) Delay(bucket string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	rl, ok := l.buckets[bucket]
	if !ok || rl.Remaining > 0 || rl.Reset.IsZero() {
		return 0
	}
	return max(rl.Reset.Sub(now), 0)
}

// Snapshot returns a copy of the latest state per bucket.
func (l *Limits) Snapshot() map[string]RateLimit {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]RateLimit, len(l.buckets))
	for k, v := range l.buckets {
		out[k] = v
	}
	return out
}

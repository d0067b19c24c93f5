package restcall

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RateLimit is the rate-limit state a response reported: the size of the
// window, what is left of it and when it resets (zero when not said).
type RateLimit struct {
	Limit     int
	Remaining int
	Reset     time.Time
}

// State is satisfied by RateLimit and by the vendors' own RateLimit types,
// which have the same fields in the same order.
type State interface {
	~struct {
		Limit     int
		Remaining int
		Reset     time.Time
	}
}

// Counts reads the budget headers of a response: remaining names the header
// with the calls left, limit the one with the window's size (0 when
// absent). ok is false when remaining is absent or not a number: the
// response then says nothing about the budget. The reset, whose meaning
// differs per vendor, is left to the caller.
func Counts(h http.Header, limit, remaining string) (rl RateLimit, ok bool) {
	left, err := strconv.Atoi(strings.TrimSpace(h.Get(remaining)))
	if err != nil {
		return RateLimit{}, false
	}
	rl.Remaining = left
	rl.Limit, _ = strconv.Atoi(strings.TrimSpace(h.Get(limit)))
	return rl, true
}

// Seconds reads a header holding a number of seconds, whole or fractional.
func Seconds(h http.Header, name string) (float64, bool) {
	secs, err := strconv.ParseFloat(strings.TrimSpace(h.Get(name)), 64)
	return secs, err == nil
}

// Limits remembers the rate-limit state of the last response per bucket so
// that a call made after the budget ran out waits for the reset instead of
// being refused. It is deliberately small: fine-grained pacing belongs to
// the limiters wrapped around a client. The zero value is ready to use.
type Limits[R State] struct {
	mu      sync.Mutex
	buckets map[string]R
}

// Set records rl as the latest state of bucket.
func (l *Limits[R]) Set(bucket string, rl R) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = make(map[string]R)
	}
	l.buckets[bucket] = rl
}

// Delay is how long a call on bucket must wait before it may be sent: until
// the reset once nothing remains, zero otherwise or when the reset is
// unknown.
func (l *Limits[R]) Delay(bucket string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.buckets[bucket]
	rl := RateLimit(r)
	if !ok || rl.Remaining > 0 || rl.Reset.IsZero() {
		return 0
	}
	return max(rl.Reset.Sub(now), 0)
}

// Snapshot returns a copy of the latest state per bucket.
func (l *Limits[R]) Snapshot() map[string]R {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]R, len(l.buckets))
	for k, v := range l.buckets {
		out[k] = v
	}
	return out
}

package braze

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RateLimit is the last rate-limit state Braze reported for one bucket.
type RateLimit struct {
	Limit     int
	Remaining int
	Reset     time.Time
}

// Rate-limit buckets, after Braze's documented pools. Everything this client
// calls outside /users/export/ids shares the hourly default pool.
const (
	bucketDefault   = "default"
	bucketExportIDs = "users.export.ids"
	bucketDownload  = "" // export downloads are not rate limited by Braze
)

// limits remembers the headers of the last response per bucket so that a
// call made after the budget ran out waits for the reset instead of being
// refused. It is deliberately small: fine-grained pacing belongs to the
// limiters wrapped around the client.
type limits struct {
	mu      sync.Mutex
	buckets map[string]RateLimit
}

// update records the X-RateLimit-* headers, if the response had them.
func (l *limits) update(bucket string, h http.Header) (RateLimit, bool) {
	if bucket == bucketDownload {
		return RateLimit{}, false
	}
	rl, ok := parseRateLimit(h)
	if !ok {
		return RateLimit{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = make(map[string]RateLimit)
	}
	l.buckets[bucket] = rl
	return rl, true
}

// delay is how long a call on bucket must wait before it may be sent.
func (l *limits) delay(bucket string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	rl, ok := l.buckets[bucket]
	if !ok || rl.Remaining > 0 || rl.Reset.IsZero() {
		return 0
	}
	return max(rl.Reset.Sub(now), 0)
}

func (l *limits) snapshot() map[string]RateLimit {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]RateLimit, len(l.buckets))
	for k, v := range l.buckets {
		out[k] = v
	}
	return out
}

// parseRateLimit reads Braze's headers; Reset is UTC epoch seconds. A
// response without X-RateLimit-Remaining tells nothing about the budget.
func parseRateLimit(h http.Header) (RateLimit, bool) {
	remaining, err := strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Remaining")))
	if err != nil {
		return RateLimit{}, false
	}
	rl := RateLimit{Remaining: remaining}
	rl.Limit, _ = strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Limit")))
	rl.Reset = parseReset(h)
	return rl, true
}

func parseReset(h http.Header) time.Time {
	secs, err := strconv.ParseFloat(strings.TrimSpace(h.Get("X-RateLimit-Reset")), 64)
	if err != nil || secs <= 0 {
		return time.Time{}
	}
	whole := int64(secs)
	return time.Unix(whole, int64((secs-float64(whole))*1e9)).UTC()
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

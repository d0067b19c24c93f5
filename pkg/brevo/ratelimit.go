package brevo

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RateLimit is the last rate-limit state Brevo reported for one bucket.
type RateLimit struct {
	Limit     int
	Remaining int
	Reset     time.Time
}

// bucketOf maps a path to Brevo's rate-limit pools: every /contacts
// endpoint shares one budget, as do /events and /products; other endpoints
// (/processes among them) have small budgets of their own.
func bucketOf(path string) string {
	first, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return first
}

// limits remembers the headers of the last response per bucket so that a
// call made after the budget ran out waits for the reset instead of being
// refused. Fine-grained pacing belongs to the limiters wrapped around the
// client.
type limits struct {
	mu      sync.Mutex
	buckets map[string]RateLimit
}

// update records the x-sib-ratelimit-* headers, if the response had them.
// Brevo gives the reset in seconds from now, so now anchors it.
func (l *limits) update(bucket string, h http.Header, now time.Time) RateLimit {
	remaining, err := strconv.Atoi(strings.TrimSpace(h.Get("X-Sib-Ratelimit-Remaining")))
	if err != nil {
		return RateLimit{}
	}
	rl := RateLimit{Remaining: remaining, Reset: parseReset(h, now)}
	rl.Limit, _ = strconv.Atoi(strings.TrimSpace(h.Get("X-Sib-Ratelimit-Limit")))
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = make(map[string]RateLimit)
	}
	l.buckets[bucket] = rl
	return rl
}

func parseReset(h http.Header, now time.Time) time.Time {
	secs, err := strconv.ParseFloat(strings.TrimSpace(h.Get("X-Sib-Ratelimit-Reset")), 64)
	if err != nil || secs < 0 {
		return time.Time{}
	}
	return now.Add(time.Duration(secs * float64(time.Second)))
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

package resilience

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// t0 is a minute before a clock hour, to cross one in hourly tests.
var t0 = time.Date(2026, 3, 2, 10, 59, 0, 0, time.UTC)

func newTestLimiter(t *testing.T, vendor string, l Limits, c Clock) *Limiter {
	t.Helper()
	lim, err := NewLimiter(vendor, l, WithClock(c), WithLogger(discardLogger()))
	if err != nil {
		t.Fatalf("NewLimiter(%s): %v", vendor, err)
	}
	return lim
}

// sendTimes waits for n requests on bucket and returns when each went.
func sendTimes(t *testing.T, lim *Limiter, c *restcall.ManualClock, bucket string, n int) []time.Time {
	t.Helper()
	out := make([]time.Time, 0, n)
	for range n {
		if err := lim.Wait(context.Background(), bucket); err != nil {
			t.Fatalf("Wait(%s): %v", bucket, err)
		}
		out = append(out, c.Now())
	}
	return out
}

// maxInWindow is the most requests any window of length period holds,
// wherever it is placed: the vendor's alignment is unknown.
func maxInWindow(times []time.Time, period time.Duration) int {
	sorted := append([]time.Time(nil), times...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Before(sorted[j]) })
	best, j := 0, 0
	for i := range sorted {
		for sorted[i].Sub(sorted[j]) >= period {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

func brevoHeader(limit, remaining int, resetSecs int) http.Header {
	h := http.Header{}
	h.Set("x-sib-ratelimit-limit", strconv.Itoa(limit))
	h.Set("x-sib-ratelimit-remaining", strconv.Itoa(remaining))
	h.Set("x-sib-ratelimit-reset", strconv.Itoa(resetSecs))
	return h
}

func brazeHeader(limit, remaining int, reset time.Time) http.Header {
	h := http.Header{}
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	return h
}

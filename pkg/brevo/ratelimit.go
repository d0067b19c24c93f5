package brevo

import (
	"net/http"
	"strings"
	"time"

	"github.com/tajo-sync/tajo/pkg/restcall"
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

// recordLimits records the x-sib-ratelimit-* headers of a response on
// bucket, if it had them, and returns what they said. Brevo gives the reset
// in seconds from now, so now anchors it.
func (c *Client) recordLimits(bucket string, h http.Header, now time.Time) RateLimit {
	counts, ok := restcall.Counts(h, "X-Sib-Ratelimit-Limit", "X-Sib-Ratelimit-Remaining")
	if !ok {
		return RateLimit{}
	}
	rl := RateLimit(counts)
	rl.Reset = parseReset(h, now)
	c.limits.Set(bucket, rl)
	return rl
}

func parseReset(h http.Header, now time.Time) time.Time {
	secs, ok := restcall.Seconds(h, "X-Sib-Ratelimit-Reset")
	if !ok || secs < 0 {
		return time.Time{}
	}
	return now.Add(time.Duration(secs * float64(time.Second)))
}

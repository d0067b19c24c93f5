package brevo

import (
	"net/http"
	"strings"
	"time"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// RateLimit is the last rate-limit state Brevo reported for one bucket.
type RateLimit = restcall.RateLimit

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
	rl, ok := restcall.BrevoHeaders.Read(h, now)
	if ok {
		c.limits.Set(bucket, rl)
	}
	return rl
}

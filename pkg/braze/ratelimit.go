package braze

import (
	"net/http"
	"time"

	"github.com/tajo-sync/tajo/pkg/restcall"
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

// recordLimits records the X-RateLimit-* headers of a response on bucket,
// if it had them, and returns what they said.
func (c *Client) recordLimits(bucket string, h http.Header) RateLimit {
	if bucket == bucketDownload {
		return RateLimit{}
	}
	rl, ok := parseRateLimit(h)
	if ok {
		c.limits.Set(bucket, rl)
	}
	return rl
}

// parseRateLimit reads Braze's headers; Reset is UTC epoch seconds. A
// response without X-RateLimit-Remaining tells nothing about the budget.
func parseRateLimit(h http.Header) (RateLimit, bool) {
	rl, ok := restcall.Counts(h, "X-RateLimit-Limit", "X-RateLimit-Remaining")
	if !ok {
		return RateLimit{}, false
	}
	rl.Reset = parseReset(h)
	return RateLimit(rl), true
}

func parseReset(h http.Header) time.Time {
	secs, ok := restcall.Seconds(h, "X-RateLimit-Reset")
	if !ok || secs <= 0 {
		return time.Time{}
	}
	whole := int64(secs)
	return time.Unix(whole, int64((secs-float64(whole))*1e9)).UTC()
}

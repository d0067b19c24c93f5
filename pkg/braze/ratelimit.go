package braze

import (
	"net/http"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// RateLimit is the last rate-limit state Braze reported for one bucket.
type RateLimit = restcall.RateLimit

// Rate-limit buckets, after Braze's documented pools. Everything this client
// calls outside /users/export/ids shares the hourly default pool.
const (
	bucketDefault   = "default"
	bucketExportIDs = "users.export.ids"
	bucketDownload  = "" // export downloads are not rate limited by Braze
)

// recordLimits records the X-RateLimit-* headers of a response on bucket,
// if it had them, and returns what they said (the reset is UTC epoch
// seconds).
func (c *Client) recordLimits(bucket string, h http.Header) RateLimit {
	if bucket == bucketDownload {
		return RateLimit{}
	}
	rl, ok := restcall.BrazeHeaders.Read(h, c.clock.Now())
	if ok {
		c.limits.Set(bucket, rl)
	}
	return rl
}

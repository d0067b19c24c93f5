package resilience

import (
	"net/http"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// The vendors' rate-limit headers are outside input: whatever they say, a
// bucket is never blocked beyond the longest window either vendor has (an
// hour), and reading them never panics.
func FuzzRateLimitHeaders(f *testing.F) {
	f.Add("braze", 429, "250000", "0", "1772449200")
	f.Add("braze", 429, "1", "0", "99999999999") // a reset in the year 5138
	f.Add("brevo", 429, "10", "0", "3600000")
	f.Add("brevo", 200, "10", "1", "-5")
	f.Add("brevo", 200, "NaN", "1e308", "Inf")
	f.Fuzz(func(t *testing.T, vendor string, status int, limit, remaining, reset string) {
		if vendor != "braze" {
			vendor = "brevo"
		}
		c := restcall.NewManualClock(t0)
		lim := newTestLimiter(t, vendor, Limits{}, c)
		h := http.Header{}
		if vendor == "braze" {
			h.Set("X-RateLimit-Limit", limit)
			h.Set("X-RateLimit-Remaining", remaining)
			h.Set("X-RateLimit-Reset", reset)
		} else {
			h.Set("X-Sib-Ratelimit-Limit", limit)
			h.Set("X-Sib-Ratelimit-Remaining", remaining)
			h.Set("X-Sib-Ratelimit-Reset", reset)
		}
		for _, b := range lim.Buckets() {
			lim.Observe(b, status, h)
		}
		for name, st := range lim.Snapshot() {
			if wait := st.BlockedUntil.Sub(c.Now()); wait > maxResetHorizon+2*time.Second {
				t.Fatalf("bucket %s blocked for %s by headers %v", name, wait, h)
			}
		}
	})
}

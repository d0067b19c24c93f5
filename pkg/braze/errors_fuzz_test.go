package braze

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// Braze's error bodies (and S3's, for the export URL) and its rate-limit
// headers are outside input: any of them yields an error that keeps its
// status, and a rate limit that reads as numbers or not at all.
func FuzzAPIErrorAndRateLimit(f *testing.F) {
	f.Add(401, `{"message":"Invalid API Key"}`, "250000", "249999", "1772449200")
	f.Add(403, `<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>`, "", "", "")
	f.Add(400, `{"message":"Max Input Length Exceeded","errors":[{"type":"x","input_array":"attributes","index":0}]}`, "1", "x", "-1")
	f.Add(429, `{"errors":`, "1e99", "NaN", "99999999999")
	f.Fuzz(func(t *testing.T, status int, body, limit, remaining, reset string) {
		if status < 100 || status > 999 {
			status = 400
		}
		h := http.Header{}
		h.Set("X-RateLimit-Limit", limit)
		h.Set("X-RateLimit-Remaining", remaining)
		h.Set("X-RateLimit-Reset", reset)
		resp := &http.Response{StatusCode: status, Body: io.NopCloser(strings.NewReader(body)), Header: h}
		now := time.Unix(1772449000, 0)
		rl, ok := restcall.BrazeHeaders.Read(h, now)
		e := newAPIError(http.MethodGet, "/segments/list", resp, rl.Reset)
		if e.Status != status || e.Error() == "" {
			t.Fatalf("error %q with status %d, want status %d", e.Error(), e.Status, status)
		}
		if ok && (rl.Limit < 0 || rl.Remaining < 0) {
			t.Fatalf("rate limit %+v from %v: negative counts", rl, h)
		}
		if d := restcall.RetryAfter(e, now); d < 0 || (d > 0 && status != http.StatusTooManyRequests) {
			t.Fatalf("RetryAfter = %v for status %d", d, status)
		}
	})
}

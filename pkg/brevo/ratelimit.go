package brevo

import (
	"strings"

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

package restcall

import (
	"context"
	"time"
)

// Call describes one HTTP call to a vendor API, handed to a client's
// observer after it completes (pkg/audit records it, pkg/bootstrap counts
// it).
type Call struct {
	Vendor   string
	Method   string
	Path     string // the route, e.g. /contacts/{identifier}: no query, no key, no email
	Status   int    // 0 when no response arrived
	Duration time.Duration
	Err      error
	Attempt  int // 1-based; see WithAttempt
}

type attemptKey struct{}

// WithAttempt marks calls made with ctx as the n-th attempt of one logical
// operation, so that a retry layer outside the client shows up in Calls and
// spans.
func WithAttempt(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, attemptKey{}, n)
}

// AttemptOf is the attempt WithAttempt marked ctx with; 1 when unmarked.
func AttemptOf(ctx context.Context) int {
	if n, ok := ctx.Value(attemptKey{}).(int); ok && n > 0 {
		return n
	}
	return 1
}

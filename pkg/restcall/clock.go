package restcall

import (
	"context"
	"time"
)

// Clock is the time source of every wait in front of a vendor call: a
// client's wait for a rate-limit reset, a poll's spacing, a retry policy's
// backoff, a limiter's pacing. Tests replace it with a ManualClock so that
// rate and backoff logic is checked without real waiting.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx ends, returning ctx's error in that case.
	// A non-positive d returns at once, with ctx.Err().
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the real clock.
type SystemClock struct{}

var _ Clock = SystemClock{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep waits d or until ctx ends.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
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

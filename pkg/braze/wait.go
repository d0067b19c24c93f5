package braze

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// WaitExport polls exportURL until the export is ready and downloads it,
// returning the number of bytes written.
//
// open is called once per download attempt that got a 200, and must return
// a fresh, empty destination each time (os.Create truncates; a buffer can be
// Reset): a download cut short by a network failure is retried from the
// start, and its partial bytes must not stay in front of the next attempt's.
// Not-ready answers (403/404) and retryable failures are polled again with
// policy's backoff (or the rate-limit reset, when later); any other error is
// returned at once.
func (c *Client) WaitExport(ctx context.Context, exportURL string, open func() (io.WriteCloser, error), policy Backoff) (int64, error) {
	policy, err := policy.withDefaults()
	if err != nil {
		return 0, err
	}
	if policy.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, policy.Timeout)
		defer cancel()
	}
	delay := policy.Initial
	var last error // the last answer that made us poll again
	for attempt := 1; ; attempt++ {
		n, err := c.download(WithAttempt(ctx, attempt), exportURL, open)
		switch {
		case err == nil:
			return n, nil
		case ctx.Err() != nil && last != nil:
			// The deadline cut an attempt: why we were still waiting is
			// the useful part.
			return 0, fmt.Errorf("waiting for export after %d attempts: %w (last: %w)", attempt, ctx.Err(), last)
		case !errors.Is(err, ErrExportNotReady) && !Retryable(err):
			return n, fmt.Errorf("waiting for export (attempt %d): %w", attempt, err)
		}
		last = err
		if werr := c.wait(ctx, max(delay, retryAfter(err, c.now()))); werr != nil {
			return 0, fmt.Errorf("waiting for export after %d attempts: %w (last: %w)", attempt, werr, last)
		}
		delay = policy.next(delay)
	}
}

package braze

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// Backoff spaces WaitExport's polls (restcall.Backoff).
type Backoff = restcall.Backoff

// DefaultPoll is WaitExport's spacing for the fields a policy leaves zero.
// Large segments take an hour or more to export: bound the wait with ctx.
var DefaultPoll = Backoff{Initial: 2 * time.Second, Max: time.Minute, Multiplier: 2}

// RewoundFile is a WaitExport open that writes each download attempt to
// f, emptied and from its start. f stays open: closing it is the caller's.
func RewoundFile(f *os.File) func() (io.WriteCloser, error) {
	return func() (io.WriteCloser, error) {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		if err := f.Truncate(0); err != nil {
			return nil, err
		}
		return nopCloser{f}, nil
	}
}

// WaitExport polls exportURL until the export is ready and downloads it,
// returning the number of bytes written.
//
// open is called once per download attempt that got a 200, and must return
// a fresh, empty destination each time (os.Create truncates; a buffer can be
// Reset): a download cut short by a network failure is retried from the
// start, and its partial bytes must not stay in front of the next attempt's.
// It only polls, until ctx ends: a not-ready answer (403/404) and a
// retryable failure are both polled again with policy's spacing (zero
// fields from DefaultPoll; the rate-limit reset, when later). The next poll
// is the retry: callers add no retry layer around it. Any other error is
// returned at once.
func (c *Client) WaitExport(ctx context.Context, exportURL string, open func() (io.WriteCloser, error), policy Backoff) (int64, error) {
	policy = policy.Or(DefaultPoll)
	if err := policy.Validate(); err != nil {
		return 0, fmt.Errorf("braze: waiting for export: %w", err)
	}
	delay := policy.Initial
	var last error // the last answer that made us poll again
	for attempt := 1; ; attempt++ {
		n, err := c.download(restcall.WithAttempt(ctx, attempt), exportURL, open)
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
		if werr := c.calls.Clock.Sleep(ctx, max(delay, restcall.RetryAfter(err, c.calls.Clock.Now()))); werr != nil {
			return 0, fmt.Errorf("waiting for export after %d attempts: %w (last: %w)", attempt, werr, last)
		}
		delay = policy.Next(delay)
	}
}

package braze

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// ErrExportNotReady is returned (wrapped) by DownloadExport while the export
// URL still answers 403 or 404, as it does until Braze has written the file.
var ErrExportNotReady = errors.New("braze: export not ready")

// ErrSegmentNotFound is returned by FindSegment when nothing matches.
var ErrSegmentNotFound = errors.New("braze: segment not found")

// APIError is a non-2xx answer from Braze.
type APIError struct {
	Method string
	Path   string // the route, without query
	Status int
	// Message and Errors come from Braze's {"message","errors"} body; for a
	// non-JSON body Message holds its start.
	Message string
	Errors  []any
	// Reset is when the rate-limit window resets (X-RateLimit-Reset); zero
	// when the response did not say.
	Reset time.Time
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "braze: %s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.Errors) > 0 {
		fmt.Fprintf(&b, " %v", e.Errors)
	}
	return b.String()
}

// TransportError is a failure to get a whole response: connection refused or
// reset, timeout, a body cut short. The request may or may not have reached
// Braze.
type TransportError struct {
	Method string
	Path   string
	Op     string // what was being done: "sending request", "reading response"
	Err    error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("braze: %s %s: %s: %v", e.Method, e.Path, e.Op, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// Retryable reports whether trying the same call again later may succeed:
// 408, 425, 429 and 5xx answers, and transport failures other than a
// certificate Braze or a proxy presented that we do not trust. A cancelled
// or expired caller context is not retryable: the caller gave up.
func Retryable(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return restcall.RetryableStatus(apiErr.Status)
	}
	var tErr *TransportError
	return errors.As(err, &tErr) && restcall.RetryableTransport(tErr.Err)
}

// RetryAfter is how long to wait before retrying a throttled (429) call: until
// the reset the rate-limit headers announced. Zero when err is not a 429 or
// the headers said nothing; the caller then uses its own backoff.
func RetryAfter(err error) time.Duration { return retryAfter(err, time.Now()) }

func retryAfter(err error, now time.Time) time.Duration {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return 0
	}
	return restcall.ThrottleWait(apiErr.Status, apiErr.Reset, now)
}

// newAPIError reads a bounded prefix of the error body; failing to read it
// still yields the status, which is what classification needs.
func newAPIError(method, path string, resp *http.Response, reset time.Time) *APIError {
	e := &APIError{Method: method, Path: path, Status: resp.StatusCode, Reset: reset}
	var body struct {
		Message string `json:"message"`
		Errors  []any  `json:"errors"`
	}
	text, isJSON := restcall.ErrorBody(resp.Body, &body)
	if !isJSON {
		e.Message = text // an S3 XML error, a proxy's HTML page
		return e
	}
	e.Message, e.Errors = body.Message, body.Errors
	return e
}

// transportError turns an http.Client failure into an error that says what
// failed without the URL (url.Error would repeat it, query signature
// included) and keeps a cancelled caller context recognisable as such.
func transportError(ctx context.Context, method, path, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("braze: %s %s: %s: %w", method, path, op, ctxErr)
	}
	return &TransportError{Method: method, Path: path, Op: op, Err: restcall.StripURL(err)}
}
